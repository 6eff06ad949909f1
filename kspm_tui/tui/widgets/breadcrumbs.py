"""The header line: where you are (k9s-style breadcrumbs) and what is being scanned."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from kspm_tui.textsafe import visible

HOME = " kspm-tui "
SEPARATOR = " › "


def fit_crumbs(crumbs: list[str], room: int) -> list[str]:
    """Crumbs that fit in `room` cells: the middle ones collapse into `…` (the first and the
    places nearest the current one stay), then the current one is cut in its middle."""
    def size(parts: list[str]) -> int:
        return sum(len(SEPARATOR) + len(p) for p in parts)

    if size(crumbs) <= room or len(crumbs) < 2:
        return list(crumbs)
    for keep in range(len(crumbs) - 2, 0, -1):
        parts = [crumbs[0], "…", *crumbs[-keep:]]
        if size(parts) <= room:
            return parts
    parts = [crumbs[0], "…", crumbs[-1]] if len(crumbs) > 2 else list(crumbs)
    last, fits = parts[-1], max(room - size(parts[:-1]) - len(SEPARATOR), 3)
    tail = (fits - 1) // 2
    parts[-1] = last[: fits - 1 - tail] + "…" + last[len(last) - tail:]
    return parts


class Breadcrumbs(Static):
    """`kspm-tui › demo › ns prod › Deployment/web` on the left, status on the right."""

    def show(self, crumbs: list[str], status: str = "") -> None:
        self._shown = (list(crumbs), status)
        width = self.size.width or 80
        room = width - len(HOME) - (len(status) + 3 if status else 0)
        text = Text()
        text.append(HOME, style="bold reverse")
        for crumb in fit_crumbs([visible(c) for c in crumbs], room):
            text.append(SEPARATOR)
            text.append(crumb)
        if status:
            pad = width - text.cell_len - len(status) - 1
            text.append(" " * max(pad, 2))
            text.append(visible(status), style="italic")
        self.update(text)

    def on_resize(self) -> None:
        """Fit again: the first show may come before the line has its width."""
        if shown := getattr(self, "_shown", None):
            self.show(*shown)
