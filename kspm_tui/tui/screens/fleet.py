"""The fleet: every kube context side by side, read from the PolicyReports of its in-cluster
reporter (one list per context, concurrently) instead of scanning each one.

A row shows the cluster's score, failing findings by severity, its top rules and how old its
reports are; a context that cannot be read says why in its row and holds up no other. Enter on
a cluster with reports drills into its findings from the reports (the same overview, workload
and finding screens as a scan); on one without a reporter it falls back to a live scan, as
`l` does on any row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.binding import BindingType

from kspm_tui.fleet.posture import age
from kspm_tui.model import Severity
from kspm_tui.tui import keymap
from kspm_tui.tui.screens.base import Sort, TableScreen
from kspm_tui.tui.screens.contexts import read_contexts
from kspm_tui.tui.widgets.lazy_table import Cell, Column
from kspm_tui.tui.widgets.severity import SHORT, count_columns

if TYPE_CHECKING:
    from kspm_tui.fleet.posture import ClusterPosture

STATUS_TONE = {"ok": "good", "no reporter": "dim", "unreachable": "critical", "no access": "critical"}


class FleetScreen(TableScreen):
    crumb = "fleet"
    footer: ClassVar[tuple[str, ...]] = keymap.FLEET_FOOTER
    BINDINGS: ClassVar[list[BindingType]] = [*TableScreen.BINDINGS, *keymap.bindings(keymap.FLEET_KEYS)]
    columns: ClassVar[list[Column]] = [
        Column("context", 22, fit=True), Column("status", 11), Column("score", 5, "right"),
        *count_columns()[:-1], Column("age", 5, "right"), Column("top rules", 28, fit=True), Column("note"),
    ]
    sorts: ClassVar[list[Sort]] = [
        ("score", lambda r: (r.score is None, r.score if r.score is not None else 0, r.context)),
        ("name", lambda r: r.context),
        ("age", lambda r: (r.scanned_at is None, -(r.scanned_at.timestamp() if r.scanned_at else 0), r.context)),
    ]

    def __init__(self) -> None:
        super().__init__()
        from kspm_tui.fleet.posture import ClusterPosture

        self.fleet: list[ClusterPosture] = [ClusterPosture(c.name) for c in
                                            read_contexts(self.kspm.session.reach.kubeconfig)]

    def on_mount(self) -> None:
        self.table.empty_text = "no contexts in the kubeconfig"
        self.read_reports()

    @work(thread=True, group="fleet")
    def read_reports(self) -> None:
        """Every context's reports at once; each row fills in as its context answers."""
        from kspm_tui.fleet.service import read_fleet

        ruleset = self.kspm.ruleset()
        for row in self.fleet:
            row.status = "reading"
        self.app.call_from_thread(self.refilter)

        def landed(i: int, posture: ClusterPosture) -> None:
            row = self.fleet[i]
            row.status, row.reason, row.server, row.rebuilt = (posture.status, posture.reason, posture.server,
                                                               posture.rebuilt)
            self.app.call_from_thread(self.refilter)

        read_fleet([self.kspm.context_target(row.context) for row in self.fleet], ruleset, landed)

    def items(self) -> list[ClusterPosture]:
        return self.fleet

    def row_key(self, item: Any) -> Any:
        return item.context

    def haystack(self, row: ClusterPosture) -> str:
        return f"{row.context} {row.status}".lower()

    def primary(self, row: ClusterPosture) -> str:
        return row.context.lower()

    def cells(self, row: ClusterPosture) -> Sequence[Cell]:
        counts: list[Cell] = []
        for sev in Severity:
            n = row.by_severity.get(sev.value, 0)
            counts.append(("" if row.rebuilt is None else "·", "dim") if not n else (str(n), sev.value))
        status: Cell = (row.status, STATUS_TONE.get(row.status, "dim"))
        score = "" if row.score is None else str(row.score)
        top = ", ".join(f"{rule.removeprefix('K8S-')}×{n}" for rule, _, n in row.top_rules())
        note: Cell = (row.reason, "warn") if not row.readable and row.reason else (
            "Enter scans live" if row.status == "no reporter" else "")
        return [row.context, status, score, *counts, age(row.scanned_at, datetime.now(UTC)), top, note]

    def status_notes(self) -> list[str]:
        reading = sum(row.status in ("waiting", "reading") for row in self.fleet)
        worst = {sev: sum(row.by_severity.get(sev.value, 0) for row in self.fleet)
                 for sev in (Severity.critical, Severity.high)}
        notes = [f"reading {reading}"] if reading else []
        return [*notes, *(f"{SHORT[s]} {n} across the fleet" for s, n in worst.items() if n)]

    def open(self, row: Any) -> None:
        """Reports: drill into them; no reporter (or not readable): scan the context live."""
        target = self.kspm.context_target(row.context)
        self.kspm.open_target(replace(target, kind="reports") if row.rebuilt is not None else target)

    def action_live_scan(self) -> None:
        row = self.table.current
        if row is not None:
            self.kspm.open_target(self.kspm.context_target(row.context))

    def copy_text(self) -> tuple[str, str] | None:
        row = self.table.current
        if row is None:
            return None
        return (row.reason, "error message") if not row.readable and row.reason else (row.context, "context name")
