"""The per-control section of `scan --framework ID` in table format."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from kspm_tui.model import ComplianceReport, ControlResult

STATUS_STYLE = {"pass": "green", "fail": "bold red", "not-assessable": "yellow", "manual": "cyan"}


def _note(control: ControlResult) -> str:
    if control.status == "pass":
        return f"{control.checked} checked" + (f", {control.accepted} accepted" if control.accepted else "")
    if control.status == "fail":
        return f"of {control.checked} checked" + (f", {control.accepted} accepted" if control.accepted else "")
    return control.reason


def build(report: ComplianceReport) -> Group:
    score = "n/a" if report.score is None else f"{report.score}%"
    counts = ", ".join(f"{n} {status}" for status, n in report.counts.items())
    head = Text.assemble((f"{report.name} {report.version}".strip(), "bold"), "   compliance score ",
                         (score, "bold"), f" of assessed controls ({counts})")
    table = Table(show_edge=False, pad_edge=False)
    for col, kw in (("control", {"no_wrap": True}), ("title", {"ratio": 1}), ("type", {}),
                    ("status", {"no_wrap": True}), ("failing", {"justify": "right"}),
                    ("note", {"ratio": 1})):
        table.add_column(col, overflow="fold", **kw)
    for c in report.controls:
        table.add_row(c.id, c.title, "auto" if c.automated else "manual",
                      Text(c.status, STATUS_STYLE.get(c.status, "")),
                      str(c.failing) if c.failing else "", _note(c))
    parts: list = [head, table]
    if report.note:
        parts.append(Text(report.note, "dim"))
    parts.append(Text("type manual: the framework calls the recommendation manual; a pass is evidence, "
                      "not a verdict. Details per control and rule: -o json (compliance.controls).", "dim"))
    return Group(*parts)
