"""Drop-in `Static`, `Label` and `Tree` that show hidden characters as escapes and strings as text.

Screens put names, labels, annotations and messages from clusters and files into these
widgets; whatever the text holds (escape sequences, bidi overrides, zero-width characters),
the terminal receives it as visible escapes (`textsafe.visible`). Rich renderables (Syntax,
tables) are covered by the app's `SafeConsole`, the lazy tables and breadcrumbs by their own
render code, notifications by the app.
"""

from __future__ import annotations

from typing import Any

from rich.style import Style
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


class _SafeText:
    """Strings are shown as they are, not as markup (`markup=True` for our own styled text): a
    `[/x]` in a file name would raise, a `[@click=...]` in a message would become an action link."""

    visual: Visual

    def __init__(self, content: Any = "", *, markup: bool = False, **kwargs: Any) -> None:
        super().__init__(content, markup=markup, **kwargs)  # type: ignore[call-arg]

    def render(self) -> Visual:
        return visible_content(self.visual)


class Static(_SafeText, widgets.Static):
    pass


class Label(_SafeText, widgets.Label):
    pass


class Tree(widgets.Tree):  # type: ignore[type-arg]
    def process_label(self, label: str | Text) -> Text:
        text = super().process_label(label)
        return text if text.plain.isprintable() else Text(visible(text.plain), style=text.style)

    def render_label(self, node: widgets.tree.TreeNode[Any], base_style: Style, style: Style) -> Text:
        """Dim parts of a label (evidence, scores) are undimmed on the cursor row: dimmed text
        on the cursor's background falls below 4.5:1 contrast."""
        label = super().render_label(node, base_style, style)
        if node.line == self.cursor_line:
            label.stylize(Style(dim=False))
        return label
