"""The rule engine: rule files → compiled rules → findings over a snapshot."""
