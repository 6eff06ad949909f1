"""What changed since the previous scan of this target (from the scan history)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult

from kspm_tui.labels import object_ref
from kspm_tui.triage.drift import Drift, diff
from kspm_tui.triage.history import FindingRecord, load_pair
from kspm_tui.tui import keymap
from kspm_tui.tui.screens.base import Sort, TableScreen
from kspm_tui.tui.widgets.lazy_table import Cell, Column
from kspm_tui.tui.widgets.safe import Static

CHANGE_TONE = {"new finding": "high", "resolved": "good", "accepted": "good", "new attack path": "critical",
               "new RBAC risk": "critical", "new workload": "new", "removed workload": "dim",
               "new image": "new", "removed image": "dim", "new binding": "warn", "removed binding": "dim"}


@dataclass(slots=True, eq=False)
class Change:
    change: str
    severity: str
    what: str
    detail: str
    finding: FindingRecord | None = None


def changes(drift: Drift) -> list[Change]:
    out: list[Change] = []

    def findings(label: str, records: list[FindingRecord]) -> None:
        for f in records:
            out.append(Change(label, f.severity.value, object_ref(f.kind, f.namespace, f.name)
                              + (f" [{f.container}]" if f.container else ""), f"{f.rule}: {f.message}", f))

    findings("new attack path", drift.new_attack_paths)
    findings("new RBAC risk", drift.new_dangerous_permissions)
    shown = {f.fingerprint for f in drift.new_attack_paths + drift.new_dangerous_permissions}
    findings("new finding", [f for f in drift.new_findings if f.fingerprint not in shown])
    findings("resolved", drift.resolved_findings)
    findings("accepted", drift.newly_accepted)
    for w in drift.new_workloads:
        out.append(Change("new workload", "", object_ref(w.kind, w.namespace, w.name), ", ".join(w.images)))
    for w in drift.removed_workloads:
        out.append(Change("removed workload", "", object_ref(w.kind, w.namespace, w.name), ""))
    for image in drift.new_images:
        out.append(Change("new image", "", image, ""))
    for image in drift.removed_images:
        out.append(Change("removed image", "", image, ""))
    for b in drift.new_bindings:
        out.append(Change("new binding", "", object_ref(b.kind, b.namespace, b.name),
                          f"{b.role} → {', '.join(b.subjects)}"))
    for b in drift.removed_bindings:
        out.append(Change("removed binding", "", object_ref(b.kind, b.namespace, b.name), b.role))
    return out


class DriftScreen(TableScreen):
    footer: ClassVar[tuple[str, ...]] = keymap.DRIFT_FOOTER
    crumb = "drift"
    columns: ClassVar[list[Column]] = [Column("change", 17), Column("severity", 9), Column("object", 48, fit=True),
                                       Column("detail")]
    sorts: ClassVar[list[Sort]] = [("change", lambda c: list(CHANGE_TONE).index(c.change)),
                                   ("object", lambda c: c.what)]

    def __init__(self) -> None:
        super().__init__()
        self.drift: Drift | None = None
        self.problem = ""

    def compose_top(self) -> ComposeResult:
        yield Static(id="drift-head")

    def items(self) -> list[Change]:
        scanned = self.kspm.scanned
        self.drift, self.problem = None, ""
        if scanned is None or scanned.history_target is None:
            self.problem = "this scan is not in the history (nothing to compare with)"
        else:
            pair, warnings = load_pair(scanned.history_target)
            for warning in warnings:
                self.notify(warning, severity="warning", timeout=8)
            if pair is None:
                self.problem = "only one scan of this target so far: rescan (r) later to see what changed"
            else:
                self.drift = diff(*pair)
        self.show_head()
        return changes(self.drift) if self.drift else []

    def show_head(self) -> None:
        head = self.query_one("#drift-head", Static)
        if self.drift is None:
            head.update(Text(self.problem, style="italic"))
            self.table.empty_text = self.problem
            return
        d = self.drift
        head.update(Text.assemble(
            ("Since ", "bold"), d.old.started.astimezone().strftime("%Y-%m-%d %H:%M"),
            f": score {d.old.score} → {d.new.score}, failing {d.old.failing} → {d.new.failing}   ",
            (f"+{len(d.new_findings)} new  ", "bold"), f"-{len(d.resolved_findings)} resolved  ",
            f"{len(d.new_workloads)} new workloads  {len(d.new_bindings)} new bindings"))
        self.table.empty_text = "no changes since the previous scan"

    def haystack(self, c: Change) -> str:
        return f"{c.change} {c.severity} {c.what} {c.detail}".lower()

    def cells(self, c: Change) -> Sequence[Cell]:
        sev: Cell = (c.severity, c.severity) if c.severity else ""
        return [(c.change, CHANGE_TONE.get(c.change, "")), sev, c.what, c.detail]

    def open(self, row: Any) -> None:
        """A new finding still present opens its detail."""
        if row.finding is None or self.kspm.scanned is None:
            return
        current = next((f for f in self.kspm.scanned.result.findings if f.fingerprint == row.finding.fingerprint), None)
        if current is not None:
            from kspm_tui.tui.screens.finding import FindingScreen

            self.app.push_screen(FindingScreen(current))
