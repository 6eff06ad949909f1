"""The rich Console every CLI command prints through: text from clusters and files is shown with
its hidden characters as escapes (`textsafe.visible`), while our own colours still reach the
terminal (they are control segments and styles, not text).

Strings are made visible before layout, so tables measure what they print; text already
wrapped in `Text` objects is made visible segment by segment as it is rendered (a hostile cell
may then be wider than its column, never unsafe).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.console import Console, ConsoleOptions, RenderableType
from rich.segment import Segment
from rich.text import Text

from kspm_tui.textsafe import visible


class SafeConsole(Console):
    """A Console whose text output never carries hidden characters raw. Console markup is off
    unless asked for: a label such as `[link=https://x]` is text, not a terminal hyperlink."""

    def __init__(self, *args: Any, markup: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, markup=markup, **kwargs)

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(visible(text, keep_lines=True), **kwargs)

    def render(self, renderable: RenderableType, options: ConsoleOptions | None = None) -> Iterable[Segment]:
        for segment in super().render(renderable, options):
            if segment.control or segment.text.isprintable():
                yield segment
            else:
                yield Segment(visible(segment.text, keep_lines=True), segment.style)


def safe_app_console(console: Console) -> SafeConsole:
    """A `SafeConsole` with the settings of a Textual app's console (rich renderables in the
    explorer, such as Syntax panels, render through it)."""
    return SafeConsole(color_system=console.color_system, file=console.file, markup=True,
                       highlight=False, emoji=False, legacy_windows=False, force_terminal=True,
                       safe_box=False, soft_wrap=False)
