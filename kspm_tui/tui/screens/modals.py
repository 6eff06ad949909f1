"""Small modal screens: key help (`?`), the `:` jump prompt, and the error screen."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input

from kspm_tui.tui import keymap
from kspm_tui.tui.jumps import JUMPS, words
from kspm_tui.tui.widgets.safe import Static

KEY_NAMES = {"question_mark": "?", "colon": ":", "slash": "/", "escape": "Esc", "enter": "Enter",
             "tab": "Tab"}
NAVIGATION = (("Enter", "drill in / open"), ("Esc", "back (clears a filter first)"),
              ("↑ ↓ j k", "move"), ("PgUp PgDn g G", "page, top, bottom"), ("ctrl+p", "command palette"))


def key_label(keys: str) -> str:
    return " ".join(KEY_NAMES.get(k, k) for k in keys.split(","))


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", justify="right")
        table.add_column()
        for keys, what in NAVIGATION:
            table.add_row(keys, what)
        keymap_now: dict[str, str] = getattr(self.app, "user_keys", {})
        for key in keymap.all_keys():
            table.add_row(key_label(keymap_now.get(key.id, key.keys)), key.description)
        jumps = Table.grid(padding=(0, 2))
        jumps.add_column(style="bold", justify="right")
        jumps.add_column()
        for jump in JUMPS:
            jumps.add_row(f":{jump.name}", jump.help)
        layout = Table.grid(padding=(0, 4))
        layout.add_row(Text("Keys", style="bold underline"), Text("Jumps", style="bold underline"))
        layout.add_row(table, jumps)
        with VerticalScroll(id="help"):
            yield Static(layout)
            yield Static(Text("\nEsc to close", style="dim"))


class JumpScreen(ModalScreen[str | None]):
    """`:` then a view name (k9s style); returns what was typed."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, prefill: str = "") -> None:
        super().__init__()
        self.prefill = prefill

    def compose(self) -> ComposeResult:
        with Vertical(id="jump"):
            yield Input(self.prefill, placeholder=":" + " | :".join(j.name for j in JUMPS), id="jump-input",
                        select_on_focus=False,
                        suggester=SuggestFromList(words(), case_sensitive=False))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip().lstrip(":"))


class ErrorScreen(ModalScreen[None]):
    """A clear message instead of a traceback; Esc returns to where you were."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,enter", "dismiss", "Close")]

    def __init__(self, title: str, message: str, detail: str = "") -> None:
        super().__init__()
        self.title_text, self.message, self.detail = title, message, detail

    def compose(self) -> ComposeResult:
        with Vertical(id="error"):
            yield Static(Text(self.title_text, style="bold"), id="error-title")
            yield Static(Text(self.message), id="error-message")
            if self.detail:
                yield Static(Text(self.detail, style="dim"), id="error-detail")
            yield Static(Text("Esc to close", style="dim"))
