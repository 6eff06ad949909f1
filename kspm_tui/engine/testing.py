"""Runs the pass/fail manifests each rule ships (`tests:` in the rule file).

Used by the test suite for the built-in pack and by `kspm-tui rules test DIR` for users'
own rules. A test case is one object, or a `kind: List` for rules that need several
(a Namespace and its NetworkPolicies, say).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from kspm_tui.engine.evaluate import Options, evaluate_snapshot
from kspm_tui.engine.loader import CompiledRule, RuleSet, load_rules
from kspm_tui.locations import builtin_dir
from kspm_tui.model import SourceRef, Status
from kspm_tui.snapshot import Snapshot
from kspm_tui.sources import SourcedObject


@dataclass(slots=True)
class CaseResult:
    rule: str
    expect: str  # "fail" or "pass"
    index: int
    ok: bool
    detail: str


def _objects(case: dict[str, Any]) -> list[dict[str, Any]]:
    return list(case.get("items") or []) if case.get("kind") == "List" else [case]


def failing_rules(objects: list[dict[str, Any]], rules: list[CompiledRule]) -> dict[str, list[str]]:
    """Rule id → messages of failing findings, evaluating `objects` as a small cluster."""
    snapshot = Snapshot(SourcedObject(o, SourceRef()) for o in objects)
    options = Options(include_system=True, is_cluster=True)
    evaluation = evaluate_snapshot(snapshot, RuleSet(rules=rules), options)
    out: dict[str, list[str]] = {}
    for finding in evaluation.findings:
        if finding.status is Status.fail:
            out.setdefault(finding.rule, []).append(finding.message)
            for covered in finding.covers:  # superseded: reported by this finding (rule `supersedes`)
                out.setdefault(covered, []).append(f"covered by {finding.rule}: {finding.message}")
    for error in evaluation.rule_errors:
        out.setdefault("!error", []).append(f"{error.rule}: {error.message}")
    return out


@lru_cache(maxsize=1)
def _pod_security_rules() -> tuple[CompiledRule, ...]:
    return tuple(load_rules([builtin_dir("rules") / "pod-security"]).rules)


def companions(rule: CompiledRule) -> list[CompiledRule]:
    """Rules whose results `rule` reads: the Pod Security pack feeds `ns.podSecurity`."""
    reads = rule.rule.check + (rule.rule.message_expression or "") + (rule.rule.remediation.patch_expression or "")
    return [r for r in _pod_security_rules() if r.id != rule.id] if "podSecurity" in reads else []


def run_rule_tests(rule: CompiledRule) -> list[CaseResult]:
    results: list[CaseResult] = []
    if rule.rule.tests.params:
        rule = replace(rule, rule=rule.rule.model_copy(
            update={"params": {**rule.rule.params, **rule.rule.tests.params}}))
    cases = [("fail", c) for c in rule.rule.tests.fail] + [("pass", c) for c in rule.rule.tests.pass_]
    counters = {"fail": 0, "pass": 0}
    for expect, case in cases:
        counters[expect] += 1
        failing = failing_rules(_objects(case), [rule, *companions(rule)])
        errors = failing.get("!error")
        failed = rule.id in failing
        ok = not errors and failed == (expect == "fail")
        if errors:
            detail = "; ".join(errors)
        elif ok:
            detail = "; ".join(failing.get(rule.id, [])) or "no finding"
        else:
            detail = "expected a finding, got none" if expect == "fail" else (
                "unexpected finding: " + "; ".join(failing[rule.id]))
        results.append(CaseResult(rule.id, expect, counters[expect], ok, detail))
    if not rule.rule.tests.fail or not rule.rule.tests.pass_:
        results.append(CaseResult(rule.id, "tests", 0, False,
                                  "a rule needs at least one `fail` and one `pass` test manifest"))
    return results
