"""Renderers of a ScanResult: each format is one module with `render(result) -> str`.

FORMATS is the registry the CLI offers (`-o FORMAT`); modules are imported on use so a
table scan never pays for the HTML or SARIF code.
"""

from __future__ import annotations

from importlib import import_module

from kspm_tui.model import ScanResult

# format name → module under kspm_tui.report; order is the --help order.
FORMATS = ("table", "json", "sarif", "policyreport", "markdown", "html", "csv")


def render(result: ScanResult, fmt: str, *, color: bool = False) -> str:
    module = import_module(f"kspm_tui.report.{fmt}")
    if fmt == "table":
        return module.render(result, color=color)
    return module.render(result)
