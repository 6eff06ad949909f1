"""Command palette (ctrl+p): every action in the keymap, every `:` jump, and every theme."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

from kspm_tui.tui import keymap
from kspm_tui.tui.jumps import JUMPS
from kspm_tui.tui.screens.modals import key_label

if TYPE_CHECKING:
    from kspm_tui.tui.app import KspmApp


class KspmCommands(Provider):
    def entries(self) -> list[tuple[str, str, Callable[[], object]]]:
        app: KspmApp = self.app  # type: ignore[assignment]
        out: list[tuple[str, str, Callable[[], object]]] = []
        screen = self.screen
        for key in keymap.all_keys():
            if not key.palette:
                continue
            if key.app:
                action = key.action
            elif hasattr(screen, f"action_{key.action.split('(')[0]}"):
                action = f"screen.{key.action}"
            else:
                continue  # a key of another screen: not applicable here
            label = f"{key.description} ({key_label(app.user_keys.get(key.id, key.keys))})"
            out.append((label, f"action: {key.action}", partial(app.run_command_action, action)))
        for jump in JUMPS:
            out.append((f"Go to :{jump.name}", jump.help, partial(app.jump, jump.name)))
        for theme in app.kspm_themes:
            out.append((f"Theme: {theme}", "switch theme (saved to config)", partial(app.set_theme, theme)))
        return out

    async def discover(self) -> Hits:
        for label, help_text, run in self.entries():
            yield DiscoveryHit(label, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for label, help_text, run in self.entries():
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, matcher.highlight(label), run, help=help_text)
