"""The per-control section of `scan --framework ID` in table format."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from kspm_tui.model import ComplianceReport, ControlResult

STATUS_STYLE = {"pass": "green", "fail": "bold red", "not-assessable": "yellow", "manual": "cyan"}


def _detail(control: ControlResult) -> str:
    accepted = f", {control.accepted} accepted" if control.accepted else ""
    if control.status == "fail":
        return f"{control.failing} of {control.checked} fail{accepted}"
    if control.status == "pass":
        return f"{control.checked} checked{accepted}" if control.checked else "nothing in scope (0 checked)"
    return control.reason


def build(report: ComplianceReport) -> Group:
    score = "n/a" if report.score is None else f"{report.score}%"
    counts = ", ".join(f"{n} {status}" for status, n in report.counts.items())
    head = Text.assemble((f"{report.name} {report.version}".strip(), "bold"), "   compliance score ",
                         (score, "bold"), f" of assessed controls ({counts})")
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("control", no_wrap=True)
    table.add_column("title", ratio=2, overflow="fold")
    typed = any(not c.automated for c in report.controls)  # the framework marks manual controls
    if typed:
        table.add_column("type", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("detail", ratio=1, overflow="fold")
    section = None
    for c in report.controls:
        if c.section and c.section != section:
            section = c.section
            table.add_row("", Text(section, "bold underline"))
        kind = ["auto" if c.automated else "manual"] if typed else []
        table.add_row(c.id, c.title, *kind, Text(c.status, STATUS_STYLE.get(c.status, "")), _detail(c))
    parts: list = [head, table]
    if report.note:
        parts.append(Text(report.note, "dim"))
    parts.append(Text("Which rules and objects decide each control: -o json (compliance.controls), "
                      "kspm-tui rules show ID.", "dim"))
    return Group(*parts)
