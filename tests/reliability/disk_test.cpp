// Placeholder: the scenario is being written (issue 10).
