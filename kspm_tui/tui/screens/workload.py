"""One workload's findings, worst first (the sort, not the container, decides the order); the
scope column says which container or the pod spec each one is about."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from textual.binding import BindingType

from kspm_tui.labels import object_ref
from kspm_tui.model import Finding, Status
from kspm_tui.tui import keymap
from kspm_tui.tui.index import WorkloadKey
from kspm_tui.tui.screens.base import Sort, TableScreen
from kspm_tui.tui.widgets.lazy_table import Cell, Column
from kspm_tui.tui.widgets.severity import severity_cell


def finding_sorts() -> list[Sort]:
    return [
        ("severity", lambda f: (f.status is not Status.fail, -f.severity.rank, f.rule)),
        ("rule", lambda f: (f.rule, -f.severity.rank)),
        ("status", lambda f: (f.status.value, -f.severity.rank)),
    ]


def scope_cell(finding: Finding) -> Cell:
    """Where in the workload: a container's name, or the pod spec / object itself."""
    return finding.container if finding.container else ("pod spec", "dim")


def new_mark(screen: TableScreen, finding: Finding) -> Cell:
    """`+` on findings that appeared since the previous scan (rescan or watch)."""
    index = screen.kspm.index
    return ("+", "new") if index is not None and finding.fingerprint in index.new else ""


class WorkloadScreen(TableScreen):
    footer: ClassVar[tuple[str, ...]] = keymap.WORKLOAD_FOOTER
    BINDINGS: ClassVar[list[BindingType]] = keymap.bindings(keymap.WORKLOAD_KEYS)
    columns: ClassVar[list[Column]] = [Column("", 1), Column("severity", 9), Column("rule", 30, fit=True),
                                       Column("scope", 14, fit=True), Column("message")]
    sorts: ClassVar[list[Sort]] = finding_sorts()

    def __init__(self, key: WorkloadKey) -> None:
        super().__init__()
        self.key = key

    @property
    def crumb(self) -> str:  # type: ignore[override]
        kind, _, name = self.key
        return f"{kind}/{name}"

    def items(self) -> list[Finding]:
        index = self.kspm.index
        row = index.workloads.get(self.key) if index else None
        return list(row.findings) if row else []

    def haystack(self, f: Finding) -> str:
        return f"{f.rule} {f.title} {f.message} {f.container or ''} {f.severity.value}".lower()

    def cells(self, row: Finding) -> Sequence[Cell]:
        return [new_mark(self, row), severity_cell(row), row.rule, scope_cell(row), row.message]

    def open(self, row: Any) -> None:
        if isinstance(row, Finding):
            from kspm_tui.tui.screens.finding import FindingScreen

            self.app.push_screen(FindingScreen(row))

    def copy_text(self) -> tuple[str, str] | None:
        row = self.table.current
        if isinstance(row, Finding) and row.remediation.kubectl:
            return row.remediation.kubectl, f"kubectl patch for {row.rule}"
        return object_ref(*self.key), "object reference"

    def action_fix_plan(self) -> None:
        """The workload's fix plan: one patch for every safe finding, review items listed."""
        from kspm_tui.tui.screens.fix_plan import FixPlanScreen

        self.app.push_screen(FixPlanScreen(self.key, self.items()))
