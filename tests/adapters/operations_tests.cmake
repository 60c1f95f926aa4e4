# adapter_operations_tests: the five operations
