"""Exported policies reject exactly what the scan reports.

Every exportable rule's own fail/pass manifests, and the 148 upstream Pod Security fixtures
bare and wrapped in every pod-template kind (read back through the real manifest parser):
the policies, evaluated by `policy test`'s admission evaluator, deny an object exactly when
the scan fails the rule on it (as its own finding, or covered by a superseding rule's finding).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from kspm_tui.engine.loader import CompiledRule, RuleSet
from kspm_tui.engine.testing import failing_rules
from kspm_tui.model import Status
from kspm_tui.policy.admission import Admission, load_policies
from kspm_tui.policy.export import RULE_ANNOTATION, ExportOptions, export_rule, exportable
from kspm_tui.scan import ScanSettings, load_ruleset, scan
from kspm_tui.sources import Collected
from tests.pss_fixtures import WRAPPERS, Fixture, fixtures, parse, wrap


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    rules = load_ruleset(ScanSettings())
    assert not rules.errors
    return rules


def exportable_rules() -> list[CompiledRule]:
    return [r for r in load_ruleset(ScanSettings()).rules if exportable(r.rule) is None]


def test_the_pod_security_rules_export() -> None:
    """Guard against the exporter quietly giving up: the core Pod Security rules stay exportable."""
    ids = {r.id for r in exportable_rules()}
    for rule_id in ("K8S-PRIVILEGED", "K8S-ALLOW-PRIVILEGE-ESCALATION", "K8S-RUN-AS-NON-ROOT",
                    "K8S-CAPABILITIES-DROP-ALL", "K8S-HOSTPATH-VOLUMES", "K8S-SECCOMP-REQUIRED",
                    "K8S-HOST-PORTS", "K8S-RESTRICTED-VOLUMES", "K8S-DEFAULT-SA-AUTOMOUNT"):
        assert rule_id in ids
    assert len(ids) >= 28


def _with_test_params(rule: CompiledRule) -> CompiledRule:
    if not rule.rule.tests.params:
        return rule
    return replace(rule, rule=rule.rule.model_copy(update={"params": {**rule.rule.params,
                                                                       **rule.rule.tests.params}}))


@pytest.mark.parametrize("rule", exportable_rules(), ids=lambda r: r.id)
def test_rule_cases_same_verdict(rule: CompiledRule) -> None:
    rule = _with_test_params(rule)
    admission = Admission(load_policies(export_rule(rule.rule, ExportOptions())))
    for expect, cases in (("fail", rule.rule.tests.fail), ("pass", rule.rule.tests.pass_)):
        for index, case in enumerate(cases, 1):
            objects = list(case.get("items") or []) if case.get("kind") == "List" else [case]
            scanned = rule.id in failing_rules(objects, [rule])
            verdicts = [admission.admit(o) for o in objects]
            denied = any(v.outcome == "denied" for v in verdicts)
            assert scanned == (expect == "fail"), f"{rule.id} {expect} case {index}: the scan disagrees"
            assert denied == scanned, (
                f"{rule.id} {expect} case {index}: scan {'fails' if scanned else 'passes'} it, the policy "
                f"{'denies' if denied else 'admits'} it: {[m for v in verdicts for m in v.messages]}")
            if denied:
                assert all(m.startswith(f"{rule.id}: ") for v in verdicts for _, _, m in v.messages)


@pytest.fixture(scope="module")
def all_policies(ruleset: RuleSet) -> Admission:
    documents = [d for r in ruleset.rules if exportable(r.rule) is None
                 for d in export_rule(r.rule, ExportOptions())]
    return Admission(load_policies(documents))


@pytest.mark.parametrize(("fixture", "kind"),
                         [pytest.param(f, k, id=f"{f.label}-{k}") for f in fixtures() for k in WRAPPERS])
def test_pss_fixture_same_verdict(fixture: Fixture, kind: str, ruleset: RuleSet, all_policies: Admission) -> None:
    objects = parse(wrap(fixture.pod(), kind), fixture.label)
    result = scan(Collected(objects=objects), ScanSettings(), ruleset=ruleset)
    exported = {r.id for r in ruleset.rules if exportable(r.rule) is None}
    # A superseded rule's failure is reported by the finding that covers it (rule `supersedes`):
    # the scan fails that rule too, so its policy must deny the object as well.
    scanned = {rid for f in result.findings if f.status is Status.fail
               for rid in (f.rule, *f.covers) if rid in exported}
    verdict = all_policies.admit(objects[0].obj)
    denied = {rule_of(name, all_policies) for outcome, name, _ in verdict.messages if outcome == "denied"}
    assert denied == scanned, f"{fixture.label} as {kind}: scan fails {sorted(scanned)}, policies deny {sorted(denied)}"


def rule_of(policy_name: str, admission: Admission) -> str:
    return next(p.annotations[RULE_ANNOTATION] for p in admission.policies if p.name == policy_name)
