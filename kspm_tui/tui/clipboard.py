"""Copying to the clipboard: the system clipboard via pyperclip, else OSC 52 via the terminal.

Over SSH or in a container there is no system clipboard; the terminal's OSC 52 escape still
reaches the user's own clipboard. The last copy is kept so the UI (and tests) can say what
was copied and how.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Protocol

from kspm_tui.textsafe import visible

SYSTEM = "system clipboard"
TERMINAL = "terminal clipboard (OSC 52)"


class _Terminal(Protocol):
    def copy_to_clipboard(self, text: str) -> None: ...


@dataclass(slots=True)
class Clipboard:
    last_text: str | None = None
    last_method: str | None = None

    def copy(self, text: str, terminal: _Terminal) -> str:
        """Copy `text` (hidden characters as visible escapes: it will be pasted into a shell);
        returns how it was copied."""
        text = visible(text, keep_lines=True)
        method = TERMINAL
        if os.environ.get("KSPM_TUI_CLIPBOARD", "").lower() != "osc52":
            try:
                import pyperclip

                pyperclip.copy(text)
                method = SYSTEM
            except Exception:  # no xclip/xsel/wl-copy/pbcopy here: fall back to the terminal  # noqa: BLE001
                method = TERMINAL
        if method == TERMINAL:
            terminal.copy_to_clipboard(text)
        self.last_text, self.last_method = text, method
        return method
