# adapter_client_tests: the API client
