"""A virtual table: only the visible lines are ever rendered, so 10k rows open instantly.

Textual's DataTable measures and stores every cell up front (seconds for 10k rows); this
table keeps a plain list of row objects and asks a formatter for the cells of the few rows
on screen. Sorting and filtering happen on that list, outside the widget.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from kspm_tui.textsafe import visible

# A cell is plain text, or (text, tone) where tone names a component class suffix
# (`critical`, `high`, ..., `dim`, `good`, `new`, `system`) so colours come from the theme via CSS.
Cell = str | tuple[str, str]
Formatter = Callable[[Any], Sequence[Cell]]
_identity = id
TONES = ("critical", "high", "medium", "low", "info", "dim", "good", "new", "group", "warn", "system")


# The flexible column (messages) keeps at least this much before identifiers are cut, and
# identifiers are measured on this many rows (enough for every screen; cheap for 10k rows).
FLEX_MIN = 16
MEASURE_ROWS = 2000


@dataclass(slots=True)
class Column:
    label: str
    width: int = 0  # 0: takes what is left (one flexible column per table)
    justify: str = "left"
    # An identifier (rule id, kind, name): as wide as its longest value, cut only when the
    # flexible column is down to FLEX_MIN, and then in the middle (`K8S-APISERVER…ALWAYS-ALLOW`).
    fit: bool = False


class LazyTable(ScrollView, can_focus=True):
    """Rows are arbitrary objects; `formatter(row)` turns the visible ones into cells."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "lazy-table--header", "lazy-table--cursor", "lazy-table--odd",
        *(f"lazy-table--{tone}" for tone in TONES),
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,g", "jump(0)", "Top", show=False),
        Binding("end,G", "jump(-1)", "Bottom", show=False),
        Binding("enter", "select", "Open", show=False),
    ]

    cursor = reactive(0, always_update=True)

    class RowMessage(Message):
        """A message about one row of the table (its `control` is the table)."""

        def __init__(self, table: LazyTable, row: Any) -> None:
            super().__init__()
            self.table = table
            self.row = row

        @property
        def control(self) -> LazyTable:
            return self.table

    class Selected(RowMessage):
        """Enter (or a click) on a row."""

    class Highlighted(RowMessage):
        """The cursor moved to a row."""

    def __init__(self, columns: Sequence[Column], formatter: Formatter, *, id: str | None = None,
                 classes: str | None = None, key: Callable[[Any], Any] | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.columns = list(columns)
        self.formatter = formatter
        self.key = key or _identity  # what makes a row "the same row" across reloads (rescans, watch)
        self.rows: list[Any] = []
        self.empty_text = "nothing to show"
        self._style_cache: dict[str, Style] | None = None
        self._natural = [c.width for c in self.columns]  # fit columns: widest value (set_rows)

    # -- data ----------------------------------------------------------------------------
    def set_rows(self, rows: list[Any], *, top: bool = False) -> None:
        """Replace the rows; the cursor stays on the same row object if present (or goes to the top)."""
        current = None if top else self.current
        self.rows = rows
        self._measure()
        self.virtual_size = Size(self.size.width, len(rows) + 1)
        index = 0
        if current is not None:  # by key: rows may be new objects, or dataclasses with costly __eq__
            wanted = self.key(current)
            index = next((i for i, row in enumerate(rows) if self.key(row) == wanted), 0)
        self.cursor = index
        self.refresh()

    def _measure(self) -> None:
        """The widest value of each fit column (its label at least) over the first rows."""
        fit = [i for i, c in enumerate(self.columns) if c.fit]
        if not fit:
            return
        natural = {i: cell_len(self.columns[i].label) for i in fit}
        for row in self.rows[:MEASURE_ROWS]:
            cells = self.formatter(row)
            for i in fit:
                if i < len(cells):
                    cell = cells[i]
                    # measured as shown: hidden characters take the width of their escapes
                    natural[i] = max(natural[i], cell_len(visible(cell if isinstance(cell, str) else cell[0])))
        for i in fit:
            self._natural[i] = natural[i] if self.rows else self.columns[i].width

    @property
    def current(self) -> Any:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    # -- cursor --------------------------------------------------------------------------
    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, len(self.rows) - 1)) if self.rows else 0

    def watch_cursor(self, old: int, new: int) -> None:
        body = max(self.size.height - 1, 1)
        top = round(self.scroll_y)
        if new < top:
            self.scroll_to(y=new, animate=False)
        elif new >= top + body:
            self.scroll_to(y=new - body + 1, animate=False)
        self.refresh()
        if self.rows:
            self.post_message(self.Highlighted(self, self.current))

    def action_cursor(self, delta: int) -> None:
        self.cursor += delta

    def action_page(self, direction: int) -> None:
        self.cursor += direction * max(self.size.height - 2, 1)

    def action_jump(self, where: int) -> None:
        self.cursor = 0 if where == 0 else len(self.rows) - 1

    def action_select(self) -> None:
        if self.rows:
            self.post_message(self.Selected(self, self.current))

    def on_click(self, event: Any) -> None:
        row = round(self.scroll_y) + event.y - 1
        if event.y >= 1 and 0 <= row < len(self.rows):
            if row == self.cursor and event.chain > 1:
                self.action_select()
            self.cursor = row

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.rows) + 1)

    # -- rendering -----------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._style_cache = None

    def _styles(self) -> dict[str, Style]:
        """Base and component styles, resolved from CSS once (not once per line)."""
        if self._style_cache is None:
            cache = {"": self.rich_style}
            for name in self.COMPONENT_CLASSES:
                cache[name.removeprefix("lazy-table--")] = self.get_component_rich_style(name, partial=True)
            self._style_cache = cache
        return self._style_cache

    def _widths(self, total: int) -> list[int]:
        """Fixed columns as set, fit columns as wide as their values, the flexible one the rest;
        when that is under FLEX_MIN (or, with no flexible column, the row is too wide), the
        widest fit column gives a cell at a time (down to its label)."""
        columns = self.columns
        widths = [self._natural[i] if c.fit else c.width for i, c in enumerate(columns)]
        flexible = [i for i, c in enumerate(columns) if not c.fit and not c.width]
        room = total - (len(columns) - 1) - sum(widths)
        floor = [max(cell_len(c.label), 6) for c in columns]
        while room < (FLEX_MIN if flexible else 0):
            shrinkable = [i for i, c in enumerate(columns) if c.fit and widths[i] > floor[i]]
            if not shrinkable:
                break
            widest = max(shrinkable, key=lambda i: widths[i])
            widths[widest] -= 1
            room += 1
        for i in flexible:
            widths[i] = max(room, 8)
        return widths

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        styles = self._styles()
        base = styles[""]
        if y == 0:
            return self._strip([c.label for c in self.columns], width, base + styles["header"])
        index = round(self.scroll_y) + y - 1
        if index >= len(self.rows):
            if index == 0:
                return self._strip([self.empty_text], width, base + styles["dim"], single=True)
            return Strip.blank(width, base)
        style = base + styles["odd"] if index % 2 else base
        # The cursor row is one solid colour pair over the tones: severity colours on the cursor's
        # background fell to 1.0-1.6:1 (the word still says the severity).
        cursor = styles["cursor"] if index == self.cursor else None
        return self._strip(self.formatter(self.rows[index]), width, style, cursor=cursor)

    def _strip(self, cells: Sequence[Cell], width: int, style: Style, single: bool = False,
               cursor: Style | None = None) -> Strip:
        widths = [width] if single else self._widths(width)
        styles = self._styles()
        if cursor is not None:
            style += cursor
        segments: list[Segment] = []
        last = len(widths) - 1
        for i, (cell, cell_width) in enumerate(zip(cells, widths)):
            text, tone = (cell, "") if isinstance(cell, str) else cell
            text = visible(text)  # names and labels from anyone: escapes shown, never sent
            right = not single and self.columns[i].justify == "right"
            middle = not single and self.columns[i].fit
            cell_style = style + styles[tone] if tone else style
            if cursor is not None:
                cell_style += cursor
            segments.append(Segment(_fit(text, cell_width, right, middle), cell_style))
            if i < last:
                segments.append(Segment(" ", style))
        return Strip(segments).adjust_cell_length(width, style)


def _fit(text: str, width: int, right: bool, middle: bool = False) -> str:
    """Pad or cut `text` to exactly `width` cells (an ellipsis marks a cut: in the middle for
    identifiers, whose ends tell them apart, at the end for prose)."""
    size = cell_len(text)
    if size > width and middle and width > 4:
        tail = (width - 1) // 2
        return set_cell_size(text, width - 1 - tail) + "…" + _last_cells(text, tail)
    if size > width:
        return set_cell_size(text, width - 1) + "…" if width > 1 else set_cell_size(text, width)
    pad = " " * (width - size)
    return pad + text if right else text + pad


def _last_cells(text: str, width: int) -> str:
    """The end of `text` that fits in `width` cells."""
    out = ""
    for ch in reversed(text):
        if cell_len(ch + out) > width:
            break
        out = ch + out
    return out
