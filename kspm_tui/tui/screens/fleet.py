"""Every kube context side by side: one row per context with its score and counts.

Contexts are scanned concurrently in worker threads (a few at a time); a context that cannot
be scanned shows its one-sentence error in its row and does not hold up the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work

from kspm_tui.model import Severity
from kspm_tui.tui.screens.base import Sort, TableScreen
from kspm_tui.tui.screens.contexts import read_contexts
from kspm_tui.tui.widgets.lazy_table import Cell, Column
from kspm_tui.tui.widgets.severity import count_columns

if TYPE_CHECKING:  # kubernetes is imported only when a context is used
    from kspm_tui.target import ContextInfo

PARALLEL = 4


@dataclass(slots=True, eq=False)
class FleetRow:
    context: ContextInfo
    state: str = "waiting"  # waiting | scanning | done | failed
    score: int | None = None
    by_severity: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    error: str = ""


class FleetScreen(TableScreen):
    crumb = "all contexts"
    columns: ClassVar[list[Column]] = [
        Column("context", 26, fit=True), Column("state", 9), Column("score", 5, "right"),
        *count_columns()[:-1],
        Column("time", 6, "right"), Column("error"),
    ]
    sorts: ClassVar[list[Sort]] = [
        ("score", lambda r: (r.score is None, r.score if r.score is not None else 0, r.context.name)),
        ("name", lambda r: r.context.name),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.fleet = [FleetRow(c) for c in read_contexts(self.kspm.session.reach.kubeconfig)]

    def on_mount(self) -> None:
        for chunk in range(PARALLEL):
            self.scan_some(self.fleet[chunk::PARALLEL])

    @work(thread=True, group="fleet")
    def scan_some(self, rows: list[FleetRow]) -> None:
        """One of PARALLEL workers, scanning its share of the contexts one after another."""
        from kspm_tui.scan import run_scan
        from kspm_tui.target import SourceUnavailable

        ruleset = None
        for row in rows:
            row.state = "scanning"
            self.app.call_from_thread(self.refilter)
            try:
                scanned = run_scan(self.kspm.context_target(row.context.name), self.kspm.settings, ruleset=ruleset)
            except SourceUnavailable as exc:
                row.state, row.error = "failed", str(exc)
            except Exception as exc:  # noqa: BLE001 - one broken context must not stop the others
                row.state, row.error = "failed", f"{type(exc).__name__}: {exc}"
            else:
                ruleset = scanned.ruleset
                summary = scanned.result.summary
                row.state, row.score = "done", summary.score
                row.by_severity, row.seconds = summary.by_severity, scanned.result.duration_s
            self.app.call_from_thread(self.refilter)

    def items(self) -> list[FleetRow]:
        return self.fleet

    def haystack(self, row: FleetRow) -> str:
        return f"{row.context.name} {row.context.cluster} {row.state}".lower()

    def cells(self, row: FleetRow) -> Sequence[Cell]:
        counts: list[Cell] = []
        for sev in Severity:
            n = row.by_severity.get(sev.value, 0)
            counts.append(("" if row.score is None else "·", "dim") if not n else (str(n), sev.value))
        state: Cell = {"done": ("done", "good"), "failed": ("failed", "critical")}.get(
            row.state, (row.state, "dim"))
        score = "" if row.score is None else str(row.score)
        time = f"{row.seconds:.1f}s" if row.state == "done" else ""
        return [row.context.name, state, score, *counts, time, (row.error, "warn") if row.error else ""]

    def open(self, row: Any) -> None:
        self.kspm.open_target(self.kspm.context_target(row.context.name))

    def copy_text(self) -> tuple[str, str] | None:
        row = self.table.current
        if row is None:
            return None
        return (row.error or row.context.name, "error message" if row.error else "context name")
