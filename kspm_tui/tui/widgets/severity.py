"""Severity rendering shared by the tables and panels (tones map to theme variables in CSS)."""

from __future__ import annotations

from rich.text import Text

from kspm_tui.model import Finding, Severity, Status
from kspm_tui.tui.index import SEVERITIES, Counts
from kspm_tui.tui.widgets.lazy_table import Cell, Column

SHORT = {Severity.critical: "crit", Severity.high: "high", Severity.medium: "med", Severity.low: "low",
         Severity.info: "info"}


def count_columns() -> list[Column]:
    """One column per severity, info included, so `total` is the sum of what is shown."""
    return [Column(SHORT[s], 5, "right") for s in SEVERITIES] + [Column("total", 6, "right")]


def count_cells(counts: Counts) -> list[Cell]:
    cells: list[Cell] = []
    for sev in SEVERITIES:
        n = counts.by_severity[sev]
        cells.append((str(n), sev.value) if n else ("·", "dim"))
    cells.append(str(counts.total))
    return cells


def severity_cell(finding: Finding) -> Cell:
    if finding.status is Status.accepted:
        return ("accepted", "good")
    if finding.status is Status.not_assessable:
        return ("n/a", "dim")
    return (finding.severity.value, finding.severity.value)


def severity_text(severity: Severity, styles: dict[str, str]) -> Text:
    return Text(f" {severity.value.upper()} ", style=f"bold reverse {styles.get(severity.value, '')}")
