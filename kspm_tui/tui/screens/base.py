"""What every explorer screen shares: breadcrumbs, footer, and the filter/sort table pattern."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ActiveBinding, Screen
from textual.widgets import Footer, Input

from kspm_tui.tui import keymap
from kspm_tui.tui.fuzzy import matcher
from kspm_tui.tui.messages import ScanCompleted
from kspm_tui.tui.widgets.breadcrumbs import Breadcrumbs
from kspm_tui.tui.widgets.lazy_table import Cell, Column, LazyTable
from kspm_tui.tui.widgets.safe import Static

if TYPE_CHECKING:
    from kspm_tui.tui.app import KspmApp

# (label, key function) pairs a screen cycles through with `s`.
Sort = tuple[str, Callable[[Any], Any]]


class KspmScreen(Screen[None]):
    """A screen on the drill path; `crumb` names it in the breadcrumbs."""

    crumb: str = ""
    # Binding ids the footer shows, in order (keymap.py); every other key is still bound.
    footer: ClassVar[tuple[str, ...]] = keymap.FOOTER

    @property
    def kspm(self) -> KspmApp:
        return self.app  # type: ignore[return-value]

    @property
    def help_title(self) -> str:
        """What `?` calls this screen: "Finding", "By rule", ..."""
        words = re.findall(r"[A-Z][a-z]*", type(self).__name__.removesuffix("Screen"))
        return " ".join([words[0], *(w.lower() for w in words[1:])]) if words else "This screen"

    def screen_keys(self) -> list[keymap.Key]:
        """The keys this screen binds itself (not the app's), most specific class first."""
        known = keymap.by_id()
        seen: set[str] = set()
        out: list[keymap.Key] = []
        for cls in type(self).__mro__:
            for binding in cls.__dict__.get("BINDINGS", ()):
                key_id = getattr(binding, "id", None)
                if key_id in known and key_id not in seen and not known[key_id].app:
                    seen.add(key_id)
                    out.append(known[key_id])
        return out

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """Textual's active bindings, with `show` decided by this screen's `footer` (and in its order)."""
        bindings = super().active_bindings
        known = keymap.by_id()
        order = {key_id: i for i, key_id in enumerate(self.footer)}
        shown: dict[str, ActiveBinding] = {}
        rest: dict[str, ActiveBinding] = {}
        for key, active in bindings.items():
            binding = active.binding
            if binding.id not in known:
                rest[key] = active
                continue
            show = binding.id in order
            if show != binding.show:
                active = active._replace(binding=replace(binding, show=show))
            (shown if show else rest)[key] = active
        ordered = sorted(shown.items(), key=lambda item: order[item[1].binding.id or ""])
        return {**dict(ordered), **rest}

    def compose_header(self) -> ComposeResult:
        yield Breadcrumbs(id="breadcrumbs")

    def on_screen_resume(self) -> None:
        self.update_breadcrumbs()

    def on_mount(self) -> None:
        # Textual calls the on_mount of every class in the MRO: subclasses add, never call super()
        self.update_breadcrumbs()

    def update_breadcrumbs(self) -> None:
        crumbs = [s.crumb for s in self.app.screen_stack if isinstance(s, KspmScreen) and s.crumb]
        for header in self.query(Breadcrumbs):
            header.show(crumbs, self.kspm.status_line())

    def copy_text(self) -> tuple[str, str] | None:
        """(text, what it is) for `c`; None when nothing here can be copied."""
        return None

    def refresh_data(self) -> None:
        """Called after a rescan: re-read rows from the app's current index."""

    def on_scan_completed(self, _: ScanCompleted) -> None:
        self.refresh_data()
        self.update_breadcrumbs()


class TableScreen(KspmScreen):
    """A screen around one LazyTable: `/` filters as you type, `s` cycles sorts, Enter opens."""

    BINDINGS: ClassVar[list[BindingType]] = keymap.bindings(keymap.TABLE_KEYS)
    footer: ClassVar[tuple[str, ...]] = keymap.TABLE_FOOTER
    columns: ClassVar[list[Column]] = []
    sorts: ClassVar[list[Sort]] = []

    def __init__(self) -> None:
        super().__init__()
        self.sort_index = 0
        self.query_text = ""
        self._items: list[Any] = []
        self._hay: list[str] = []

    # -- what subclasses define ----------------------------------------------------------
    def items(self) -> list[Any]:
        raise NotImplementedError

    def haystack(self, item: Any) -> str:
        raise NotImplementedError

    def cells(self, item: Any) -> Sequence[Cell]:
        raise NotImplementedError

    def primary(self, item: Any) -> str:
        """Lower-cased name-like text: rows whose name contains the filter rank first."""
        return ""

    def group_rows(self, items: list[Any]) -> list[Any]:
        """Rows to show for the filtered, sorted items (e.g. with group headers)."""
        return items

    def open(self, item: Any) -> None:
        """Enter on a row."""

    def status_notes(self) -> list[str]:
        """What the table's rows mean beyond the count (shown before the sort)."""
        return []

    def compose_top(self) -> ComposeResult:
        yield from ()

    # -- layout --------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        yield from self.compose_top()
        with Vertical(id="table-box"):
            yield self.make_table()
            yield Static(id="table-status")
        yield Footer()

    def make_table(self) -> LazyTable:
        return LazyTable(self.columns_for(), self.cells, id="table", key=self.row_key)

    def row_key(self, item: Any) -> Any:
        """Identity of a row across rescans, so the cursor stays put when tables reload."""
        return getattr(item, "fingerprint", None) or getattr(item, "key", None) or getattr(item, "name", None) \
            or id(item)

    def columns_for(self) -> list[Column]:
        return self.columns

    @property
    def table(self) -> LazyTable:
        return self.query_one("#table", LazyTable)

    def on_mount(self) -> None:
        self.load()
        self.table.focus()

    def refresh_data(self) -> None:
        self.load()

    def load(self) -> None:
        """(Re)read items, precompute search text, then filter and sort."""
        self._items = self.items()
        self._hay = [self.haystack(i) for i in self._items]
        self.refilter()

    def refilter(self, top: bool = False) -> None:
        match = matcher(self.query_text)
        shown = [item for item, hay in zip(self._items, self._hay) if match(hay)]
        if self.sorts:
            shown.sort(key=self.sorts[self.sort_index][1])
        if self.query_text.strip():
            wanted = self.query_text.strip().lower()
            shown.sort(key=lambda item: wanted not in self.primary(item))  # stable: keeps the sort
        self.table.set_rows(self.group_rows(shown), top=top)
        self.show_status(len(shown))

    def show_status(self, shown: int) -> None:
        parts = [f"{shown} of {len(self._items)}" if self.query_text else f"{len(self._items)} rows"]
        if self.query_text:
            parts.append(f"filter: {self.query_text!r}")
        parts += self.status_notes()
        if self.sorts:
            parts.append(f"sort: {self.sorts[self.sort_index][0]} (s)")
        self.query_one("#table-status", Static).update("  ·  ".join(parts))

    # -- keys ----------------------------------------------------------------------------
    def filter_box(self) -> Input | None:
        found = self.query("#filter")
        return found.first(Input) if found else None

    def action_filter(self) -> None:
        """Show the filter input (mounted on first use: screens open faster without it)."""
        box = self.filter_box()
        if box is None:
            box = Input(self.query_text, placeholder="filter (fuzzy, as you type; Esc clears)", id="filter")
            self.query_one("#table-box").mount(box, before=self.table)
        box.remove_class("hidden")
        box.focus()

    def action_cycle_sort(self) -> None:
        if self.sorts:
            self.sort_index = (self.sort_index + 1) % len(self.sorts)
            self.refilter()
            self.notify(f"sorted by {self.sorts[self.sort_index][0]}", timeout=1.5)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self.query_text = event.value
            self.refilter(top=True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            self.table.focus()

    def clear_filter(self) -> bool:
        """Esc first clears an active filter; returns True if it did."""
        box = self.filter_box()
        if (box is None or box.has_class("hidden")) and not self.query_text:
            return False
        if box is not None:
            box.value = ""
            box.add_class("hidden")
        self.query_text = ""
        self.refilter()
        self.table.focus()
        return True

    def on_lazy_table_selected(self, event: LazyTable.Selected) -> None:
        self.open(event.row)
