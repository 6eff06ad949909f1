"""A workload's fix plan: one patch for every `safe` finding, its before/after diff, review items.

`c` copies the single `kubectl patch` command (or the patch YAML for objects that cannot be
patched in place); review items and withheld fixes are listed with their reasons, never applied.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static

from kspm_tui.fixes.plan import Plan, plan_for
from kspm_tui.model import Finding
from kspm_tui.tui.index import WorkloadKey
from kspm_tui.tui.screens.base import KspmScreen
from kspm_tui.yamlio import dump_yaml


class FixPlanScreen(KspmScreen):
    def __init__(self, key: WorkloadKey, findings: list[Finding]) -> None:
        super().__init__()
        self.key = key
        self.findings = findings

    @property
    def crumb(self) -> str:  # type: ignore[override]
        return "fix plan"

    @property
    def plan(self) -> Plan | None:
        scanned = self.kspm.scanned
        if scanned is None:
            return None
        return plan_for(self.key, self.findings, scanned.snapshot, self.findings[0].context if self.findings else None)

    def compose(self) -> ComposeResult:
        plan = self.plan
        yield from self.compose_header()
        with VerticalScroll(id="plan-body"):
            yield Static(self.summary(plan), id="plan-summary")
            yield Static(self.code(plan.kubectl if plan else None, "bash",
                                   "no command: nothing here is safe to apply unreviewed" if plan and not plan.patch
                                   else "no command: apply the patch to the manifest and re-create the object"),
                         id="plan-command")
            yield Static(self.code(plan.diff() if plan else None, "diff", "no before/after"), id="plan-diff")
            yield Static(self.review(plan), id="plan-review")
        yield Footer()

    def summary(self, plan: Plan | None) -> RenderableType:
        if plan is None:
            return Text("no scan loaded", style="dim italic")
        head = Text.assemble((plan.ref, "bold"), f"  {len(plan.applied)} safe fixes in one patch",
                             ("   cost: ", "bold"), plan.cost)
        lines = [head] + [Text(f"  ✓ {f.rule}" + (f" [{f.container}]" if f.container else "")
                               + f": {f.remediation.safety_reason}") for f in plan.applied]
        return Group(*lines)

    def review(self, plan: Plan | None) -> RenderableType:
        if plan is None or not plan.review:
            return Text("")
        lines = [Text("Review before applying (not in the patch)", style="bold underline")]
        lines += [Text(f"  • {f.rule}" + (f" [{f.container}]" if f.container else "") + f": {why}")
                  for f, why in plan.review]
        return Group(*lines)

    def code(self, text: str | None, lexer: str, missing: str) -> RenderableType:
        if not text:
            return Text(missing, style="dim italic")
        dark = self.app.current_theme.dark
        return Syntax(text, lexer, theme="monokai" if dark else "friendly", background_color="default", word_wrap=True)

    def copy_text(self) -> tuple[str, str] | None:
        plan = self.plan
        if plan is None or plan.patch is None:
            return None
        if plan.kubectl:
            return plan.kubectl, f"fix plan for {plan.ref} ({len(plan.applied)} fixes, one kubectl patch)"
        return dump_yaml(plan.patch), f"fix plan patch for {plan.ref}"
