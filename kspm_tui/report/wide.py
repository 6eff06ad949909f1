"""`-o wide`: the table with every failing finding, each column whole, messages in full
(like `kubectl get -o wide`)."""

from __future__ import annotations

from kspm_tui.model import ScanResult
from kspm_tui.report import table


def render(result: ScanResult, *, color: bool = False) -> str:
    return table.render(result, color=color, wide=True)
