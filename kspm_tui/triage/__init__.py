"""Triage: what users decided about findings and how posture changed over time.

`acceptance` (accepted risks: exception files and annotations), `baseline` (findings new
since a saved scan), `history` (saved scans per target) and `drift` (what changed between
two saved scans). Below the scan service: nothing here knows about the CLI or the TUI.
"""
