"""Fixes an operator can paste: API validation, safety verdicts, node agents, per-workload plans."""
