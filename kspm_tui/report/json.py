"""`--format json`: the public, stable document (see README "JSON output")."""

from __future__ import annotations

from kspm_tui.model import ScanResult
from kspm_tui.yamlio import dump_json


def render(result: ScanResult) -> str:
    return dump_json(result.model_dump(mode="json", exclude_none=False), indent=True).decode() + "\n"
