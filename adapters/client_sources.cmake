# The API client: classification, rate gate, HTTP(S) transport, retries.
target_sources(unlinkd_adapters PRIVATE
  api_error.cpp)
