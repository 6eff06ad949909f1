"""Kube contexts: pick one to scan (Enter); `:ctx` brings this back to switch without quitting."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from textual.binding import BindingType

from kspm_tui.tui import keymap
from kspm_tui.tui.screens.base import Sort, TableScreen
from kspm_tui.tui.widgets.lazy_table import Cell, Column

if TYPE_CHECKING:  # kubernetes is imported only when a context is used
    from kspm_tui.target import ContextInfo


def read_contexts(kubeconfig: str | None = None) -> list[ContextInfo]:
    """Contexts from --kubeconfig, KUBECONFIG or ~/.kube/config, as kubectl merges them; [] when
    there is none."""
    from kspm_tui.target import SourceUnavailable, list_contexts

    try:
        return list_contexts(kubeconfig)
    except SourceUnavailable:
        return []


class ContextsScreen(TableScreen):
    footer: ClassVar[tuple[str, ...]] = keymap.CONTEXT_FOOTER
    crumb = "contexts"
    BINDINGS: ClassVar[list[BindingType]] = [*TableScreen.BINDINGS, *keymap.bindings(keymap.CONTEXT_KEYS)]
    columns: ClassVar[list[Column]] = [Column("", 1), Column("context", 24, fit=True), Column("cluster", 20, fit=True),
                                       Column("server"), Column("user", 16, fit=True), Column("namespace", 14, fit=True)]
    sorts: ClassVar[list[Sort]] = [("current", lambda r: (not r.current, r.name)), ("name", lambda r: r.name)]

    def items(self) -> list[ContextInfo]:
        return read_contexts(self.kspm.session.reach.kubeconfig)

    def haystack(self, row: ContextInfo) -> str:
        return f"{row.name} {row.cluster} {row.server or ''} {row.user or ''}".lower()

    def cells(self, row: ContextInfo) -> Sequence[Cell]:
        mark: Cell = ("*", "good") if row.current else ""
        return [mark, row.name, row.cluster, row.server or "", row.user or "", row.namespace or "default"]

    def open(self, row: Any) -> None:
        self.kspm.open_target(self.kspm.context_target(row.name))

    def action_all_contexts(self) -> None:
        from kspm_tui.tui.screens.fleet import FleetScreen

        self.app.push_screen(FleetScreen())

    def copy_text(self) -> tuple[str, str] | None:
        row = self.table.current
        return (row.name, "context name") if row else None
