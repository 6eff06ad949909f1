"""A rule explained for a terminal: why, check, remediation with a worked example, frameworks."""

from __future__ import annotations

import json

from rich.console import Group
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from kspm_tui.engine.loader import CompiledRule
from kspm_tui.report.table import SEVERITY_STYLE
from kspm_tui.yamlio import dump_yaml


def example_remediation(compiled: CompiledRule) -> tuple[str, str] | None:
    """(patch YAML, kubectl) produced for the rule's first failing test manifest."""
    from kspm_tui.engine.evaluate import Options, evaluate_snapshot
    from kspm_tui.engine.loader import RuleSet
    from kspm_tui.engine.testing import _objects
    from kspm_tui.model import SourceRef
    from kspm_tui.snapshot import Snapshot
    from kspm_tui.sources import SourcedObject

    for case in compiled.rule.tests.fail:
        snap = Snapshot(SourcedObject(o, SourceRef()) for o in _objects(case))
        ev = evaluate_snapshot(snap, RuleSet(rules=[compiled]), Options(include_system=True, is_cluster=True))
        for finding in ev.findings:
            rem = finding.remediation
            if rem.patch:
                return dump_yaml(rem.patch), rem.kubectl or ""
    return None


def _mappings(refs: list[str], manual: bool) -> Group | Text:
    """Each `framework:control` with the control's title from the catalog."""
    from kspm_tui.frameworks import FrameworkError, load_frameworks

    try:
        catalog = load_frameworks()
    except FrameworkError:
        catalog = {}
    if not refs:
        return Text("frameworks: -")
    table = Table(show_header=False, box=None, pad_edge=False)
    for ref in refs:
        framework, _, control_id = ref.partition(":")
        known = catalog.get(framework)
        control = next((c for c in known.controls if c.id == control_id), None) if known else None
        title = control.title if control else ""
        kind = "" if control is None else ("manual" if not control.automated else "")
        table.add_row(Text(ref, "bold"), title, Text(kind, "cyan"))
    note = "   (the upstream recommendation is manual)" if manual else ""
    return Group(Text("frameworks:" + note), table)


def render_rule(compiled: CompiledRule) -> Group:
    rule = compiled.rule
    head = Text.assemble((rule.id, "bold"), "  ", (rule.severity.value, SEVERITY_STYLE[rule.severity]),
                         f"  {rule.category.value}  scope: {rule.scope.value}\n", (rule.title, "bold"))
    parts: list = [head, Panel(rule.why.strip(), title="why it matters", expand=False)]
    parts.append(Panel(Syntax(rule.check.strip(), "javascript", word_wrap=True), title="check (CEL, true = compliant)",
                       expand=False))
    if rule.params:
        parts.append(Panel(json.dumps(rule.params, indent=2), title="parameters (override in config.yaml)", expand=False))
    rem = rule.remediation
    body: list = [Text(rem.guidance.strip())] if rem.guidance else []
    example = example_remediation(compiled)
    if example:
        patch, kubectl = example
        body += [Text("\nexample patch (from the rule's failing test manifest):", "dim"), Syntax(patch, "yaml")]
        if kubectl:
            body += [Text("kubectl:", "dim"), Text(kubectl)]
    parts.append(Panel(Group(*body), title="remediation", expand=False))
    parts.append(_mappings(rule.frameworks, rule.manual))
    parts.append(Text(f"defined in {rule.source_file}", "dim"))
    return Group(*parts)
