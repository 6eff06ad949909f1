"""Process exit codes, shared by every subcommand (documented in the README)."""

OK = 0  # completed; no failing finding at or above --fail-on
FINDINGS = 1  # completed; failing findings at or above --fail-on (or rule tests failed)
INPUT_ERRORS = 2  # usage error, or completed with unreadable input (files, rules, config)
UNAVAILABLE = 3  # could not scan at all: no kubeconfig, cluster unreachable, auth failed
PARTIAL = 4  # completed, but the cluster was not fully read (403s, missing APIs, connection lost)
