"""Rules browser: search every loaded rule, read its explanation, open its findings."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Input

from kspm_tui.engine.loader import CompiledRule
from kspm_tui.locations import builtin_dir
from kspm_tui.tui import keymap
from kspm_tui.tui.screens.base import Sort, TableScreen
from kspm_tui.tui.widgets.code import code_block
from kspm_tui.tui.widgets.lazy_table import Cell, Column, LazyTable
from kspm_tui.tui.widgets.safe import Static


def shown_path(source: str) -> str:
    """Built-in rule files by their place in the pack, not this machine's install path."""
    try:
        return "built-in rules/" + Path(source).resolve().relative_to(builtin_dir("rules").resolve()).as_posix()
    except ValueError:
        return source


class RulesScreen(TableScreen):
    footer: ClassVar[tuple[str, ...]] = keymap.RULES_FOOTER
    BINDINGS: ClassVar[list[BindingType]] = [*TableScreen.BINDINGS, *keymap.bindings(keymap.POLICY_KEYS)]
    crumb = "rules"
    columns: ClassVar[list[Column]] = [Column("rule", 24, fit=True), Column("title"), Column("severity", 9),
                                       Column("failing", 7, "right")]
    sorts: ClassVar[list[Sort]] = [
        ("severity", lambda r: (-r.rule.severity.rank, r.id)),
        ("id", lambda r: r.id),
        ("category", lambda r: (r.rule.category.value, r.id)),
    ]

    def __init__(self, search: str = "") -> None:
        super().__init__()
        self.query_text = search

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        with Horizontal(id="rules-split"):
            with Vertical(id="table-box"):
                yield Input(self.query_text, placeholder="search rules (id, title, category, why)", id="filter",
                            classes="" if self.query_text else "hidden")
                yield self.make_table()
                yield Static(id="table-status")
            with VerticalScroll(id="rule-detail-box"):
                yield Static(id="rule-detail")
        yield Footer()

    def items(self) -> list[CompiledRule]:
        return list(self.kspm.ruleset().rules)

    def haystack(self, r: CompiledRule) -> str:
        rule = r.rule
        return f"{rule.id} {rule.title} {rule.category.value} {rule.severity.value} {rule.why}".lower()

    def primary(self, r: CompiledRule) -> str:
        return f"{r.id} {r.rule.title}".lower()

    def failing(self, r: CompiledRule) -> int:
        index = self.kspm.index
        row = index.rules.get(r.id) if index else None
        return row.counts.total if row else 0

    def cells(self, r: CompiledRule) -> Sequence[Cell]:
        n = self.failing(r)
        return [r.id, r.rule.title, (r.rule.severity.value, r.rule.severity.value), (str(n), "high") if n else ("0", "dim")]

    def on_lazy_table_highlighted(self, event: LazyTable.Highlighted) -> None:
        r: CompiledRule = event.row
        rule = r.rule
        parts = [
            Text.assemble((rule.id, "bold"), "  ", rule.title),
            Text(f"{rule.severity.value} · {rule.category.value} · scope {rule.scope.value}", style="dim"),
            Text(""), Text("Why it matters", style="bold underline"), Text(rule.why.strip()), Text(""),
        ]
        if rule.remediation.guidance:
            parts += [Text("Fix", style="bold underline"), Text(rule.remediation.guidance), Text("")]
        if rule.frameworks:
            parts += [Text("Frameworks: " + ", ".join(rule.frameworks)), Text("")]
        parts += [Text("Check (CEL, true = compliant)", style="bold underline"),
                  code_block(rule.check.strip(), "javascript", self.app.theme_variables),
                  Text(f"\n{self.failing(r)} failing · {shown_path(rule.source_file)}", style="dim")]
        self.query_one("#rule-detail", Static).update(Group(*parts))

    def open(self, row: Any) -> None:
        from kspm_tui.tui.screens.by_rule import ByRuleScreen

        self.app.push_screen(ByRuleScreen(row.id))

    def action_policy(self) -> None:
        from kspm_tui.tui.screens.policy import open_policy

        row = self.table.current
        open_policy(self, row.id if row else None)

    def copy_text(self) -> tuple[str, str] | None:
        row = self.table.current
        return (row.id, "rule id") if row else None
