"""Every finding of one rule across the cluster: the fix-one-thing-everywhere view."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType

from kspm_tui.labels import object_ref
from kspm_tui.model import Finding
from kspm_tui.tui import keymap
from kspm_tui.tui.screens.base import Sort, TableScreen
from kspm_tui.tui.screens.workload import finding_sorts, new_mark
from kspm_tui.tui.widgets.lazy_table import Cell, Column
from kspm_tui.tui.widgets.safe import Static
from kspm_tui.tui.widgets.severity import severity_cell


class ByRuleScreen(TableScreen):
    footer: ClassVar[tuple[str, ...]] = keymap.RULES_FOOTER
    BINDINGS: ClassVar[list[BindingType]] = [*TableScreen.BINDINGS, *keymap.bindings(keymap.POLICY_KEYS)]
    columns: ClassVar[list[Column]] = [Column("", 1), Column("status", 9), Column("object", 44, fit=True), Column("container", 16, fit=True),
                                       Column("message")]
    sorts: ClassVar[list[Sort]] = [
        ("object", lambda f: (f.namespace or "", f.kind, f.name, f.container or "")),
        *finding_sorts()[2:],
    ]

    def __init__(self, rule_id: str) -> None:
        super().__init__()
        self.rule_id = rule_id

    @property
    def crumb(self) -> str:  # type: ignore[override]
        return f"rule {self.rule_id}"

    def compose_top(self) -> ComposeResult:
        rule = self.kspm.rule(self.rule_id)
        text = Text(self.rule_id, style="bold")
        if rule is not None:
            text.append(f"  {rule.title}  ({rule.severity.value}, {rule.category.value})\n")
            text.append(rule.why.strip(), style="italic")
        yield Static(text, id="rule-head")

    def items(self) -> list[Finding]:
        index = self.kspm.index
        row = index.rules.get(self.rule_id) if index else None
        return list(row.findings) if row else []

    def haystack(self, f: Finding) -> str:
        return f"{f.kind} {f.namespace or ''} {f.name} {f.container or ''} {f.message}".lower()

    def cells(self, f: Finding) -> Sequence[Cell]:
        return [new_mark(self, f), severity_cell(f), object_ref(f.kind, f.namespace, f.name), f.container or "", f.message]

    def open(self, row: Any) -> None:
        from kspm_tui.tui.screens.finding import FindingScreen

        self.app.push_screen(FindingScreen(row))

    def action_policy(self) -> None:
        from kspm_tui.tui.screens.policy import open_policy

        open_policy(self, self.rule_id)

    def copy_text(self) -> tuple[str, str] | None:
        """All kubectl commands of this rule, one per line: fix it everywhere in one paste."""
        commands = [f.remediation.kubectl for f in self.table.rows if f.remediation.kubectl]
        if not commands:
            return None
        return "\n".join(commands), f"{len(commands)} kubectl commands for {self.rule_id}"
