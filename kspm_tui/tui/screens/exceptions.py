"""All accepted risks: active, expired and matching nothing, with where each comes from."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult

from kspm_tui.triage.acceptance import ExceptionStatus, all_exceptions, list_exceptions
from kspm_tui.tui.screens.base import Sort, TableScreen
from kspm_tui.tui.widgets.lazy_table import Cell, Column, LazyTable
from kspm_tui.tui.widgets.safe import Static

STATE_TONE = {"active": "good", "expired": "critical", "unmatched": "dim"}


def selector(status: ExceptionStatus) -> str:
    r = status.risk
    parts = [f"{r.kind}/{r.namespace}/{r.name}"]
    if r.container:
        parts.append(f"[{r.container}]")
    if r.cluster != "*":
        parts.append(f"cluster {r.cluster}")
    return " ".join(parts)


def short_origin(origin: str) -> str:
    """`/long/path/exceptions.yaml entry 3` → `exceptions.yaml entry 3` (c copies the full one)."""
    head, sep, entry = origin.rpartition(" entry ")
    return f"{Path(head).name}{sep}{entry}" if sep and "/" in head else origin


class ExceptionsScreen(TableScreen):
    crumb = "exceptions"
    columns: ClassVar[list[Column]] = [
        Column("state", 9), Column("rules", 18, fit=True), Column("selects", 40), Column("matches", 7, "right"),
        Column("until", 10), Column("owner", 12, fit=True), Column("reason"),
    ]
    sorts: ClassVar[list[Sort]] = [
        ("state", lambda s: (["expired", "active", "unmatched"].index(s.state), s.risk.rules)),
        ("expiry", lambda s: (s.risk.expires is None, s.risk.expires or 0)),
        ("rule", lambda s: s.risk.rules),
    ]

    def items(self) -> list[ExceptionStatus]:
        scanned = self.kspm.scanned
        if scanned is None:
            return []
        risks, errors = all_exceptions(scanned.result, self.kspm.settings.exception_files,
                                       user_file=self.kspm.settings.user_exceptions,
                                       annotations=self.kspm.settings.config.annotation_exceptions)
        for err in errors:
            self.notify(f"{err.file}: {err.message}", severity="warning", timeout=8)
        self.table.empty_text = ("no exceptions: press a on a finding to accept a risk, or add "
                                 "exceptions.yaml / the kspm-tui.io/accept annotation")
        return list_exceptions(risks, scanned.result)

    def haystack(self, s: ExceptionStatus) -> str:
        r = s.risk
        return f"{s.state} {' '.join(r.rules)} {selector(s)} {r.owner} {r.reason} {r.origin}".lower()

    def cells(self, s: ExceptionStatus) -> Sequence[Cell]:
        r = s.risk
        return [(s.state, STATE_TONE[s.state]), ",".join(r.rules), selector(s), str(s.matches),
                str(r.expires or "never"), r.owner, r.reason]

    def compose_top(self) -> ComposeResult:
        yield Static(id="exception-origin")

    def on_lazy_table_highlighted(self, event: LazyTable.Highlighted) -> None:
        s: ExceptionStatus = event.row
        self.query_one("#exception-origin", Static).update(
            Text.assemble(("defined in ", "dim"), short_origin(s.risk.origin), ("   (c copies the full path)", "dim")))

    def copy_text(self) -> tuple[str, str] | None:
        s = self.table.current
        return (s.risk.origin, "where the exception is defined") if s else None
