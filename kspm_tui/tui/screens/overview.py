"""Cluster overview: score, counts, framework bars, attack paths, and the namespace list."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.widgets import ProgressBar

from kspm_tui.tui import keymap
from kspm_tui.tui.index import Counts, NamespaceRow
from kspm_tui.tui.messages import ScanFailedMessage, ScanProgress, ScanStarted
from kspm_tui.tui.screens.base import Sort, TableScreen
from kspm_tui.tui.widgets.lazy_table import Cell, Column
from kspm_tui.tui.widgets.safe import Static
from kspm_tui.tui.widgets.severity import count_cells, count_columns
from kspm_tui.tui.widgets.summary import SummaryPanel


class AllNamespaces(NamespaceRow):
    """The first row: every workload in the cluster (k9s' `0`)."""


def _first(row: NamespaceRow) -> bool:
    return not isinstance(row, AllNamespaces)


class OverviewScreen(TableScreen):
    footer: ClassVar[tuple[str, ...]] = keymap.OVERVIEW_FOOTER
    columns: ClassVar[list[Column]] = [Column("namespace", 20, fit=True), Column("objects", 8, "right"),
                                       *count_columns(), Column("new", 4, "right")]
    sorts: ClassVar[list[Sort]] = [
        ("severity", lambda r: (_first(r), r.counts.sort_key(), r.name)),
        ("name", lambda r: (_first(r), r.name)),
        ("objects", lambda r: (_first(r), -r.workloads, r.name)),
    ]

    @property
    def crumb(self) -> str:  # type: ignore[override]
        return self.kspm.target.label if self.kspm.target else "overview"

    def compose_top(self) -> ComposeResult:
        yield Static("", id="scan-stage")
        yield ProgressBar(id="scan-progress", show_eta=False)
        yield SummaryPanel(id="summary")

    def on_mount(self) -> None:
        self.show_scanning(self.kspm.scanning)
        self.refresh_summary()

    def items(self) -> list[NamespaceRow]:
        index = self.kspm.index
        if index is None:
            return []
        rows = list(index.namespaces.values())
        return [AllNamespaces("(all namespaces)", len(index.workloads), _total(rows)), *rows]

    def haystack(self, item: NamespaceRow) -> str:
        return item.name.lower()

    def cells(self, row: NamespaceRow) -> Sequence[Cell]:
        name: Cell = (row.name, "group") if isinstance(row, AllNamespaces) else row.name
        new: Cell = (f"+{row.counts.new}", "new") if row.counts.new else ""
        return [name, str(row.workloads), *count_cells(row.counts), new]

    def open(self, row: Any) -> None:
        from kspm_tui.tui.screens.namespace import NamespaceScreen

        if isinstance(row, NamespaceRow):
            self.app.push_screen(NamespaceScreen(None if isinstance(row, AllNamespaces) else row.name))

    def refresh_data(self) -> None:
        super().refresh_data()
        self.refresh_summary()
        self.show_scanning(self.kspm.scanning)

    def refresh_summary(self) -> None:
        panel = self.query_one(SummaryPanel)
        if self.kspm.scanned and self.kspm.index:
            panel.show(self.kspm.scanned, self.kspm.index, self.kspm.colors())
        else:
            panel.update("")
        self.table.empty_text = "scanning…" if self.kspm.scanning else "no findings"

    def show_scanning(self, scanning: bool) -> None:
        self.query_one("#scan-progress").set_class(not scanning, "hidden")
        self.query_one("#scan-stage").set_class(not scanning, "hidden")

    def on_scan_started(self, message: ScanStarted) -> None:
        self.show_scanning(True)
        bar = self.query_one(ProgressBar)
        bar.update(total=None, progress=0)
        self.query_one("#scan-stage", Static).update(f"Scanning {message.target.label}: reading objects…")

    def on_scan_progress(self, message: ScanProgress) -> None:
        bar = self.query_one(ProgressBar)
        stage = self.query_one("#scan-stage", Static)
        if message.stage == "collect":
            stage.update(f"Collecting… {message.done}/{message.total} kinds listed")
            bar.update(total=message.total or None, progress=message.done)
        else:
            stage.update(f"Evaluating rules… {message.done}/{message.total} workloads")
            bar.update(total=message.total, progress=message.done)

    def on_scan_failed_message(self, message: ScanFailedMessage) -> None:
        self.show_scanning(False)
        self.table.empty_text = f"scan failed: {message.message} (r to retry)"
        self.table.refresh()
        self.update_breadcrumbs()


def _total(rows: list[NamespaceRow]) -> Counts:
    total = Counts()
    for row in rows:
        for sev, n in row.counts.by_severity.items():
            total.by_severity[sev] += n
        total.accepted += row.counts.accepted
        total.new += row.counts.new
    return total

