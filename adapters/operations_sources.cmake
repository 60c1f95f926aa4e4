# The five pipeline operations (preflight, backup, pause, unlink, verify).
target_sources(unlinkd_adapters PRIVATE)
