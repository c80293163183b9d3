"""CDK infrastructure: typed config, shared secure constructs, one construct per pattern."""
