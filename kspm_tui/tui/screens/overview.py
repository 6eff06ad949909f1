"""Cluster overview: score, counts, framework bars, attack paths, and the namespace list."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.widgets import ProgressBar

from kspm_tui.model import Excluded
from kspm_tui.tui import keymap
from kspm_tui.tui.index import Counts, NamespaceRow
from kspm_tui.tui.messages import ScanFailedMessage, ScanPending, ScanProgress, ScanStarted
from kspm_tui.tui.screens.base import Sort, TableScreen
from kspm_tui.tui.widgets.lazy_table import Cell, Column
from kspm_tui.tui.widgets.safe import Static
from kspm_tui.tui.widgets.severity import count_cells, count_columns
from kspm_tui.tui.widgets.summary import SummaryPanel


PENDING_NOTE = "provisional: pod and container checks only; namespace, RBAC and network rules pending"


class AllNamespaces(NamespaceRow):
    """The first row: every listed workload in the cluster (k9s' `0`)."""


class SystemGroup(NamespaceRow):
    """The last row of a live scan that hides its system namespaces: their workloads and
    findings, counted (by --fail-on too) but not listed, so not in the totals above it.
    Enter lists them (a rescan with them shown)."""


def system_group(excluded: Excluded) -> SystemGroup:
    names = excluded.namespaces
    label = f"system ns ({names[0]}{', …' if len(names) > 1 else ''})"
    counts = Counts()
    for sev in counts.by_severity:
        counts.by_severity[sev] = excluded.by_severity.get(sev.value, 0)
    return SystemGroup(label, excluded.workloads, counts, system=True)


def _band(row: NamespaceRow) -> int:
    """All namespaces first, then the namespaces, then the platform's (system) ones, its group last."""
    if isinstance(row, AllNamespaces):
        return 0
    if isinstance(row, SystemGroup):
        return 3
    return 2 if row.system else 1


class OverviewScreen(TableScreen):
    footer: ClassVar[tuple[str, ...]] = keymap.OVERVIEW_FOOTER
    columns: ClassVar[list[Column]] = [Column("namespace", 20, fit=True), Column("objects", 8, "right"),
                                       *count_columns(), Column("new", 4, "right")]
    sorts: ClassVar[list[Sort]] = [
        ("severity", lambda r: (_band(r), r.counts.sort_key(), r.name)),
        ("name", lambda r: (_band(r), r.name)),
        ("objects", lambda r: (_band(r), -r.workloads, r.name)),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._reveal = False  # Enter on the system group: put the cursor on them once listed

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
        index = self.kspm.index or self.kspm.pending
        if index is None:
            return []
        rows = list(index.namespaces.values())
        everything = AllNamespaces("(all namespaces)", len(index.workloads), _total(rows))
        group = self.hidden_system()
        return [everything, *rows, *([group] if group else [])]

    def hidden_system(self) -> SystemGroup | None:
        """The group row, when this scan left system-namespace workloads out of the list."""
        scanned = self.kspm.scanned
        if scanned is None or self.kspm.index is None or not self.kspm.index.system:
            return None
        excluded = scanned.result.excluded
        return system_group(excluded) if excluded.workloads and excluded.namespaces else None

    def system_listed(self) -> bool:
        """Whether a live scan's system namespaces are listed (so Esc or S hides them)."""
        scanned, index = self.kspm.scanned, self.kspm.index
        return bool(scanned and index and index.system and scanned.settings.include_system)

    def haystack(self, item: NamespaceRow) -> str:
        return item.name.lower()

    def pending(self) -> bool:
        """Whether the rows are a first scan's provisional ones (files still being read)."""
        return self.kspm.index is None and self.kspm.pending is not None

    def cells(self, row: NamespaceRow) -> Sequence[Cell]:
        name: Cell = (row.name, "group") if isinstance(row, AllNamespaces) else \
            (row.name, "system") if row.system else (row.name, "dim") if self.pending() else row.name
        new: Cell = (f"+{row.counts.new}", "new") if row.counts.new else ""
        return [name, str(row.workloads), *count_cells(row.counts), new]

    def open(self, row: Any) -> None:
        from kspm_tui.tui.screens.namespace import NamespaceScreen

        if self.pending():
            self.notify("still reading files: the namespace opens once the scan completes "
                        "(its counts are provisional until then)", timeout=4)
        elif isinstance(row, SystemGroup):
            self._reveal = True
            self.kspm.show_system(True)
        elif isinstance(row, NamespaceRow):
            self.app.push_screen(NamespaceScreen(None if isinstance(row, AllNamespaces) else row.name))

    def hide_system(self) -> bool:
        """Esc with a live scan's system namespaces listed (or being listed): back to their group
        row. True if it did."""
        index = self.kspm.index
        if not self.kspm.include_system or index is None or not index.system:
            return False
        self.kspm.show_system(False)
        return True

    def refresh_data(self) -> None:
        super().refresh_data()
        self.refresh_summary()
        self.show_scanning(self.kspm.scanning)
        if self._reveal and self.system_listed():
            self._reveal = False
            first = next((i for i, r in enumerate(self.table.rows) if getattr(r, "system", False)), None)
            if first is not None:
                self.table.cursor = first

    def status_notes(self) -> list[str]:
        if self.pending():
            return [PENDING_NOTE]
        if self.hidden_system():
            return ["system ns: not in totals, counted by --fail-on; Enter lists them"]
        if self.system_listed() and any(r.system for r in self._items):
            return ["system ns listed (last rows): Esc or S hides them"]
        return []

    def refresh_summary(self) -> None:
        panel = self.query_one(SummaryPanel)
        if self.kspm.scanned and self.kspm.index:
            panel.show(self.kspm.scanned, self.kspm.index, self.kspm.colors())
        elif self.pending():
            panel.show_pending(self.kspm.pending, self.kspm.colors())
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

    def on_scan_pending(self, message: ScanPending) -> None:
        self.query_one("#scan-stage", Static).update(f"Reading files… {message.done}/{message.total}: "
                                                     "rows below are provisional until every file is read")
        self.query_one(ProgressBar).update(total=message.total, progress=message.done)
        self.load()
        self.refresh_summary()

    def on_scan_failed_message(self, message: ScanFailedMessage) -> None:
        self.show_scanning(False)
        if self.kspm.index is None:  # provisional rows of a first scan go with it
            self.load()
            self.refresh_summary()
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

