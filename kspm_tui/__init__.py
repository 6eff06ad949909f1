"""kspm-tui: a Kubernetes security posture explorer for the terminal."""

__version__ = "0.1.0"
