"""A scan seen through one framework: per-control status and a score an auditor can read.

A control's status comes from the rules that map to it: `fail` if any of them has a failing
(not accepted) finding, `not-assessable` if any could not be assessed, else `pass`. A control
no rule covers is `manual` when the framework calls it manual upstream, else `not-assessable`.
Info-severity rules are an inventory (a LoadBalancer exists, an image has no digest), not a
violation: they count as checked but never fail a control.
"""

from __future__ import annotations

from collections import Counter
from fnmatch import fnmatchcase

from kspm_tui.engine.loader import RuleSet
from kspm_tui.frameworks import Control, Framework
from kspm_tui.model import ComplianceReport, ControlResult, Rule, RuleStat, Severity

STATUSES = ("pass", "fail", "not-assessable", "manual")


def select_rules(ruleset: RuleSet, framework: Framework) -> RuleSet:
    """Only the rules that support one of the framework's controls."""
    return RuleSet(rules=[r for r in ruleset.rules if framework.selects(r.rule)], errors=ruleset.errors)


def _controls(framework: Framework, rules: list[Rule]) -> list[Control]:
    """The catalog's controls, plus any control a rule references that the catalog lacks."""
    known = {c.id for c in framework.controls}
    extra = sorted({ref.partition(":")[2] for rule in rules for ref in framework.refs(rule)} - known)
    return framework.controls + [Control(id=cid, title="(not in the framework catalog)") for cid in extra]


def _control_result(framework: Framework, control: Control, rules: list[Rule],
                    stats: dict[str, RuleStat]) -> ControlResult:
    patterns = framework.patterns(control)
    mapped = [r for r in rules if any(fnmatchcase(ref, p) for p in patterns for ref in r.frameworks)]
    result = ControlResult(id=control.id, title=control.title, section=framework.section_of(control.id),
                           automated=control.automated, status="manual", rules=[r.id for r in mapped])
    if not mapped:
        if control.automated:
            result.status, result.reason = "not-assessable", "no rule in the pack checks it"
        else:
            result.reason = "review by hand (not visible in API objects)"
        return result
    blocked: list[str] = []
    for rule in mapped:
        stat = stats.get(rule.id, RuleStat(rule=rule.id))
        if rule.severity is not Severity.info:
            result.failing += max(stat.failed - stat.accepted, 0)
        result.accepted += stat.accepted
        result.checked += stat.evaluated
        if stat.not_assessable and stat.reason not in blocked:
            blocked.append(stat.reason)
    if result.failing:
        result.status = "fail"
    elif blocked:
        result.status, result.reason = "not-assessable", "; ".join(blocked)
    else:
        result.status = "pass"
    return result


def compliance_report(framework: Framework, rules: list[Rule], stats: list[RuleStat]) -> ComplianceReport:
    by_rule = {s.rule: s for s in stats}
    controls = [_control_result(framework, c, rules, by_rule) for c in _controls(framework, rules)]
    counts = Counter(c.status for c in controls)
    decided = counts["pass"] + counts["fail"]
    return ComplianceReport(
        framework=framework.id, name=framework.name, version=framework.version,
        score=round(100 * counts["pass"] / decided) if decided else None,
        counts={s: counts[s] for s in STATUSES},
        controls=controls,
        note=" ".join(framework.description.split()),
    )
