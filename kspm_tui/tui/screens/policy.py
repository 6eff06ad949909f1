"""`p` on a rule or a finding: the admission policy that would prevent it, and what it would break now."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static

from kspm_tui.policy.export import ExportOptions
from kspm_tui.policy.preview import Preview, preview
from kspm_tui.tui.screens.base import KspmScreen


def open_policy(screen: KspmScreen, rule_id: str | None) -> None:
    """`p`: push the policy screen for the rule under the cursor (nothing when there is none)."""
    if rule_id:
        screen.app.push_screen(PolicyScreen(rule_id))


class PolicyScreen(KspmScreen):
    """The deny policy for one rule; `c` copies it. The count is worked out in a worker."""

    def __init__(self, rule_id: str) -> None:
        super().__init__()
        self.rule_id = rule_id
        self.preview: Preview | None = None

    @property
    def crumb(self) -> str:  # type: ignore[override]
        return f"policy {self.rule_id}"

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        with VerticalScroll(id="policy-body"):
            yield Static(Text(f"{self.rule_id}: working out the policy and what it would reject now…"),
                         id="policy-head")
            yield Static(id="policy-yaml")
        yield Footer()

    def on_mount(self) -> None:
        self.compute()

    @work(thread=True, exclusive=True, group="policy")
    def compute(self) -> None:
        rule = self.kspm.rule(self.rule_id)
        if rule is None:
            return
        scanned = self.kspm.scanned
        if scanned is None:
            return
        options = ExportOptions(include_system=self.kspm.include_system,
                                system_namespaces=tuple(self.kspm.config.system_namespaces))
        result = preview(rule, scanned.snapshot, options)
        self.app.call_from_thread(self.show, result)

    def show(self, result: Preview) -> None:
        self.preview = result
        self.query_one("#policy-head", Static).update(self.heading(result))
        if result.yaml:
            self.query_one("#policy-yaml", Static).update(
                Syntax(result.yaml, "yaml", background_color="default", word_wrap=True))

    def heading(self, result: Preview) -> RenderableType:
        colors = self.kspm.colors()
        title = Text.assemble(("Admission policy  ", "bold"), (self.rule_id, "bold"))
        if not result.yaml:
            return Group(title, Text(f"Not exportable: {result.reason}", style=colors["warn"]),
                         Text("This rule can only be checked by a scan."))
        count = Text(f"Would reject {result.rejected} existing object{'s' if result.rejected != 1 else ''} now "
                     f"({result.workloads} workload{'s' if result.workloads != 1 else ''} and what their "
                     f"controllers create; it applies to {result.matched} objects in this scan).",
                     style=colors["warn"] if result.rejected else colors["good"])
        hint = Text.assemble(
            "Roll out with warn first: ",
            (f"kspm-tui policy export --rule {self.rule_id} --action warn | kubectl apply -f -", "bold"),
            "\nthen switch to deny once nothing warns. c copies the deny policy below.", style="dim")
        return Group(title, count, hint, Text(""))

    def copy_text(self) -> tuple[str, str] | None:
        if self.preview is None or not self.preview.yaml:
            return None
        return self.preview.yaml, f"admission policy for {self.rule_id}"
