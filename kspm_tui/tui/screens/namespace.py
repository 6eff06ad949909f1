"""Workloads (and other objects with findings) of one namespace, or of the whole cluster."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from kspm_tui.tui.index import WorkloadRow
from kspm_tui.tui.screens.base import Sort, TableScreen
from kspm_tui.tui.widgets.lazy_table import Cell, Column
from kspm_tui.tui.widgets.severity import count_cells, count_columns


class NamespaceScreen(TableScreen):
    sorts: ClassVar[list[Sort]] = [
        ("severity", lambda r: (r.rank, r.name)),
        ("name", lambda r: (r.name, r.kind)),
        ("kind", lambda r: (r.kind, r.name)),
        ("count", lambda r: (-r.counts.total, r.name)),
    ]

    def __init__(self, namespace: str | None) -> None:
        super().__init__()
        self.namespace = namespace

    @property
    def crumb(self) -> str:  # type: ignore[override]
        return f"ns {self.namespace}" if self.namespace else "all workloads"

    def columns_for(self) -> list[Column]:
        cols = [Column("kind", 12, fit=True)]
        if self.namespace is None:
            cols.append(Column("namespace", 18, fit=True))
        return [*cols, Column("name", 20, fit=True), *count_columns(), Column("new", 4, "right")]

    def items(self) -> list[WorkloadRow]:
        index = self.kspm.index
        return index.workloads_in(self.namespace) if index else []

    def haystack(self, item: WorkloadRow) -> str:
        return item.search

    def primary(self, item: WorkloadRow) -> str:
        return item.name.lower()

    def cells(self, row: WorkloadRow) -> Sequence[Cell]:
        new: Cell = (f"+{row.counts.new}", "new") if row.counts.new else ""
        lead: list[Cell] = [row.kind]
        if self.namespace is None:
            lead.append(row.namespace or "")
        name: Cell = row.name if row.counts.total else (row.name, "dim")
        return [*lead, name, *count_cells(row.counts), new]

    def open(self, row: Any) -> None:
        from kspm_tui.tui.screens.workload import WorkloadScreen

        self.app.push_screen(WorkloadScreen(row.key))

    def copy_text(self) -> tuple[str, str] | None:
        row = self.table.current
        return (row.ref, "object reference") if row else None
