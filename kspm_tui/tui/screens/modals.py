"""Small modal screens: key help (`?`), the `:` jump prompt, and the error screen."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.suggester import SuggestFromList
from textual.widgets import Input

from kspm_tui.tui import keymap
from kspm_tui.tui.jumps import JUMPS, words
from kspm_tui.tui.widgets.safe import Static

KEY_NAMES = {"question_mark": "?", "colon": ":", "slash": "/", "escape": "Esc", "enter": "Enter",
             "tab": "Tab"}
KEY_NAMES_REVERSE = {v: k for k, v in KEY_NAMES.items()}
# Keys of every table and the app itself (space-separated keys as shown).
NAVIGATION = (("Enter", "drill in / open"), ("Esc", "back (clears a filter first)"),
              ("↑ ↓ j k", "move"), ("PgUp PgDn g G", "page, top, bottom"), ("ctrl+p", "command palette"))


def key_label(keys: str) -> str:
    return " ".join(KEY_NAMES.get(k, k) for k in keys.split(","))


class HelpScreen(ModalScreen[None]):
    """`?`: the keys of the screen it was opened on first, then the ones that work everywhere.

    Each key is listed once (a screen key that shadows a global one wins); keys of other
    screens are not listed (the command palette and the README list everything)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def __init__(self, screen: Screen[object] | None = None) -> None:
        super().__init__()
        self.under = screen

    def sections(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """(heading, [(keys, what)]) for the screen beneath, then everywhere; no key twice."""
        remap: dict[str, str] = getattr(self.app, "user_keys", {})
        screen_keys = getattr(self.under, "screen_keys", None)
        title = getattr(self.under, "help_title", "This screen")
        own = [(remap.get(k.id, k.keys), k.description) for k in (screen_keys() if screen_keys else [])]
        everywhere = [(",".join(KEY_NAMES_REVERSE.get(p, p) for p in keys.split()), what)
                      for keys, what in NAVIGATION]
        everywhere += [(remap.get(k.id, k.keys), k.description) for k in keymap.APP_KEYS]
        seen: set[str] = set()
        out: list[tuple[str, list[tuple[str, str]]]] = []
        for heading, rows in ((title, own), ("Everywhere", everywhere)):
            kept = []
            for keys, what in rows:
                names = [key_label(k) for k in keys.split(",")]
                fresh = [n for n in names if n not in seen]
                if not fresh:
                    continue
                seen.update(fresh)
                kept.append((" ".join(fresh), what))
            if kept:
                out.append((heading, kept))
        return out

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", justify="right")
        table.add_column()
        for number, (heading, rows) in enumerate(self.sections()):
            if number:
                table.add_row("", "")
            table.add_row("", Text(heading, style="bold underline"))
            for keys, what in rows:
                table.add_row(keys, what)
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
