"""Renderers of a ScanResult: each format is one module with `render(result) -> str`.

FORMATS is the registry the CLI offers (`-o FORMAT`); modules are imported on use so a
table scan never pays for the HTML or SARIF code.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import import_module
from typing import TYPE_CHECKING

from kspm_tui.model import ScanResult

if TYPE_CHECKING:
    from kspm_tui.report.context import ReportContext

# format name → module under kspm_tui.report; order is the --help order.
FORMATS = ("table", "wide", "json", "sarif", "policyreport", "markdown", "html", "csv", "junit", "prometheus")
# formats that show a ReportContext (attack paths, fix plans, history, baseline) when given one
WITH_CONTEXT = ("markdown", "html")


def render(result: ScanResult, fmt: str, *, color: bool = False, context: ReportContext | None = None) -> str:
    module = import_module(f"kspm_tui.report.{fmt}")
    if fmt in ("table", "wide"):
        return module.render(result, color=color)
    if fmt in WITH_CONTEXT:
        return module.render(result, context)
    return module.render(result)


def render_chunks(result: ScanResult, fmt: str, *, color: bool = False,
                  context: ReportContext | None = None) -> Iterator[bytes]:
    """The report as UTF-8 pieces to write as they come: formats with a `chunks(result)`
    (JSON) stream their findings instead of building a second copy of a large report."""
    module = import_module(f"kspm_tui.report.{fmt}")
    if hasattr(module, "chunks"):
        yield from module.chunks(result)
    else:
        yield render(result, fmt, color=color, context=context).encode()
