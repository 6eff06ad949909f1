"""Drop-in `Static`, `Label` and `Tree` that show hidden characters as escapes.

Screens put names, labels, annotations and messages from clusters and files into these
widgets; whatever the text holds (escape sequences, bidi overrides, zero-width characters),
the terminal receives it as visible escapes (`textsafe.visible`). Rich renderables (Syntax,
tables) are covered by the app's `SafeConsole`, the lazy tables and breadcrumbs by their own
render code, notifications by the app.
"""

from __future__ import annotations

from rich.text import Text
from textual import widgets
from textual.content import Content
from textual.visual import Visual

from kspm_tui.textsafe import visible


def visible_content(visual: Visual) -> Visual:
    """The same visual, or its plain text made visible when it holds hidden characters (styles
    of such hostile text are dropped)."""
    if isinstance(visual, Content):
        plain = visual.plain
        if not plain.replace("\n", "").isprintable():
            return Content(visible(plain, keep_lines=True))
    return visual


class Static(widgets.Static):
    def render(self) -> Visual:  # type: ignore[override]
        return visible_content(self.visual)


class Label(widgets.Label):
    def render(self) -> Visual:  # type: ignore[override]
        return visible_content(self.visual)


class Tree(widgets.Tree):  # type: ignore[type-arg]
    def process_label(self, label: str | Text) -> Text:
        text = super().process_label(label)
        return text if text.plain.isprintable() else Text(visible(text.plain), style=text.style)
