"""Finding detail: what failed, why it matters, the evidence, frameworks, and the fix.

The fix panel has three tabs — the strategic-merge patch, the `kubectl patch` command and a
before/after diff of the object — and `c` copies whichever tab is showing.
"""

from __future__ import annotations

import difflib
import json
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.widgets import Footer, TabbedContent, TabPane

from kspm_tui import strategic_merge
from kspm_tui.engine.evidence import redact_manifest
from kspm_tui.labels import FRAMEWORK_TAGS, object_ref
from kspm_tui.model import Finding, Status
from kspm_tui.tui import keymap
from kspm_tui.tui.screens.base import KspmScreen
from kspm_tui.tui.widgets.code import code_block
from kspm_tui.tui.widgets.safe import Static
from kspm_tui.yamlio import dump_yaml


class FindingScreen(KspmScreen):
    footer: ClassVar[tuple[str, ...]] = keymap.FINDING_FOOTER
    BINDINGS: ClassVar[list[BindingType]] = keymap.bindings(keymap.FINDING_KEYS + keymap.POLICY_KEYS)

    def __init__(self, finding: Finding) -> None:
        super().__init__()
        self.finding = finding

    @property
    def crumb(self) -> str:  # type: ignore[override]
        return self.finding.rule + (f" [{self.finding.container}]" if self.finding.container else "")

    def action_policy(self) -> None:
        from kspm_tui.tui.screens.policy import open_policy

        open_policy(self, self.finding.rule)

    # -- texts ---------------------------------------------------------------------------
    def patch_yaml(self) -> str | None:
        patch = self.finding.remediation.patch
        return dump_yaml(patch) if patch else None

    def diff_text(self) -> str | None:
        patch = self.finding.remediation.patch
        scanned = self.kspm.scanned
        if not patch or scanned is None:
            return None
        f = self.finding
        item = scanned.snapshot.get(f.kind, f.namespace, f.name)
        if item is None:
            return None
        shown = redact_manifest(item.obj)  # secrets masked as in findings' evidence (and so in copies)
        before = dump_yaml(shown).splitlines(keepends=True)
        after = dump_yaml(strategic_merge.apply(shown, patch)).splitlines(keepends=True)
        ref = object_ref(f.kind, f.namespace, f.name)
        return "".join(difflib.unified_diff(before, after, f"{ref} (now)", f"{ref} (patched)", n=4))

    # -- layout --------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        f = self.finding
        yield from self.compose_header()
        with VerticalScroll(id="finding-body"):
            yield Static(self.heading(), id="finding-head")
            yield Static(self.details(), id="finding-details")
            if f.remediation.safety is not None:
                yield Static(self.safety(), id="fix-safety")
            with TabbedContent(id="fix", initial=self.kspm.session.fix_tab):
                with TabPane("Patch", id="tab-patch"):
                    yield Static(self.code(self.patch_yaml(), "yaml", "no patch: see guidance below"),
                                 id="fix-patch")
                with TabPane("kubectl", id="tab-kubectl"):
                    yield Static(self.code(f.remediation.kubectl, "bash",
                                           "no kubectl command: see guidance below"), id="fix-kubectl")
                with TabPane("Diff", id="tab-diff"):
                    yield Static(self.code(self.diff_text(), "diff",
                                           "no before/after: no patch, or the object is not in the scan"),
                                 id="fix-diff")
            if f.remediation.guidance:
                yield Static(Text.assemble(("Guidance  ", "bold"), f.remediation.guidance), id="fix-guidance")
        yield Footer()

    def heading(self) -> RenderableType:
        f = self.finding
        colors = self.kspm.colors()
        head = Text()
        head.append(f" {f.severity.value.upper()} ", style=f"bold reverse {colors[f.severity.value]}")
        head.append(f"  {f.rule}  ", style="bold")
        head.append(f.title)
        where = Text(object_ref(f.kind, f.namespace, f.name), style="bold")
        if f.container:
            where.append(f"  container {f.container}")
        if f.status is not Status.fail:
            where.append(f"  [{f.status.value}]", style=colors["good"] if f.status is Status.accepted else "dim")
        return Group(head, where, Text(f.message, style="italic"))

    def safety(self) -> RenderableType:
        """The verdict next to the copy action: can this be pasted as is, and what it costs."""
        rem = self.finding.remediation
        colors = self.kspm.colors()
        style = colors["good"] if rem.verdict == "safe" else colors["warn"]
        return Text.assemble(("Fix is ", "bold"), (f" {rem.verdict.upper()} ", f"bold reverse {style}"),
                             ("  cost: ", "bold"), rem.cost or "none", f"  {rem.safety_reason}")

    def details(self) -> RenderableType:
        f = self.finding
        parts: list[RenderableType] = []
        rule = self.kspm.rule(f.rule)
        if rule is not None:
            parts += [Text("Why it matters", style="bold underline"), Text(rule.why.strip()), Text("")]
        if f.acceptance:
            a = f.acceptance
            origin = f", from {a.origin}" if a.origin else ""
            if a.expired:
                parts.append(Text(f"Exception expired on {a.expires}: {a.reason} (owner {a.owner or '?'}{origin})",
                                  style=self.kspm.colors()["warn"]))
            else:
                parts.append(Text(f"Accepted: {a.reason} (owner {a.owner or '?'}, until {a.expires or 'no expiry'}"
                                  f"{origin})", style=self.kspm.colors()["good"]))
            parts.append(Text(""))
        if f.covers:
            parts += [Text.assemble(("Also covers ", "bold"), ", ".join(f.covers),
                                    " (failed here too; this finding and its fix include them)"), Text("")]
        if f.evidence:
            parts.append(Text("Evidence", style="bold underline"))
            for ev in f.evidence:
                shown = "(unset)" if ev.value is None else json.dumps(ev.value)
                parts.append(Text.assemble(("  " + ev.path, "bold"), " = ", shown))
            parts.append(Text(""))
        if f.frameworks:
            tags = Text("Frameworks  ", style="bold")
            for fw in f.frameworks:
                prefix, _, control = fw.partition(":")
                tags.append(f" {FRAMEWORK_TAGS.get(prefix, prefix)} {control} ", style="reverse")
                tags.append(" ")
            parts.append(tags)
        if f.source.file:
            line = f":{f.source.line}" if f.source.line else ""
            parts.append(Text(f"Source      {f.source.file}{line}", style="dim"))
        return Group(*parts)

    def code(self, text: str | None, lexer: str, missing: str) -> RenderableType:
        if not text:
            return Text(missing, style="dim italic")
        return code_block(text, lexer, self.app.theme_variables)

    # -- keys ----------------------------------------------------------------------------
    def copy_text(self) -> tuple[str, str] | None:
        tab = self.query_one(TabbedContent).active
        f = self.finding
        if tab == "tab-kubectl" and f.remediation.kubectl:
            return f.remediation.kubectl, f"kubectl patch command for {f.rule}"
        if tab == "tab-patch" and (text := self.patch_yaml()):
            return text, f"patch for {f.rule}"
        if tab == "tab-diff" and (text := self.diff_text()):
            return text, f"before/after diff for {f.rule}"
        if f.remediation.guidance:
            return f.remediation.guidance, f"guidance for {f.rule}"
        return None

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """The next finding opens on the tab chosen here (Tab or a click)."""
        if event.tabbed_content.id == "fix" and event.pane.id:
            self.kspm.remember_fix_tab(event.pane.id)

    def action_next_tab(self) -> None:
        tabs = self.query_one(TabbedContent)
        order = ["tab-patch", "tab-kubectl", "tab-diff"]
        tabs.active = order[(order.index(tabs.active) + 1) % len(order)]

    def action_accept(self) -> None:
        from kspm_tui.tui.screens.accept import AcceptScreen

        if self.finding.status is not Status.fail:
            self.notify(f"only failing findings can be accepted (this one is {self.finding.status.value})",
                        severity="warning")
            return
        target = self.kspm.target
        if target is not None and target.kind == "reports":  # judged in the cluster, by its exceptions
            self.notify("this finding comes from the cluster's PolicyReports: accept it in the exceptions file "
                        "the in-cluster reporter mounts (its ConfigMap), or scan the context live (`l` in :fleet) "
                        "to accept it here", severity="warning", timeout=8)
            return
        finding = self.finding
        self.app.push_screen(AcceptScreen(finding), lambda risk: self.kspm.accept(finding, risk))

    def refresh_data(self) -> None:
        """After a rescan or an accepted risk, show this finding's current state."""
        scanned = self.kspm.scanned
        if scanned is None:
            return
        current = next((f for f in scanned.result.findings if f.fingerprint == self.finding.fingerprint), None)
        if current is not None:
            self.finding = current
            self.query_one("#finding-head", Static).update(self.heading())
            self.query_one("#finding-details", Static).update(self.details())

    def action_by_rule(self) -> None:
        from kspm_tui.tui.screens.by_rule import ByRuleScreen

        self.app.push_screen(ByRuleScreen(self.finding.rule))
