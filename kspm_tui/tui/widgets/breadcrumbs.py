"""The header line: where you are (k9s-style breadcrumbs) and what is being scanned."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class Breadcrumbs(Static):
    """`kspm-tui › demo › ns prod › Deployment/web` on the left, status on the right."""

    def show(self, crumbs: list[str], status: str = "") -> None:
        text = Text()
        text.append(" kspm-tui ", style="bold reverse")
        for crumb in crumbs:
            text.append(" › ")
            text.append(crumb)
        if status:
            width = max(self.size.width, 80)
            pad = width - text.cell_len - len(status) - 1
            text.append(" " * max(pad, 2))
            text.append(status, style="italic")
        self.update(text)
