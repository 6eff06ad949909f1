"""Pod Security Standards conformance: the upstream fixtures, bare and in every workload kind.

Semantics from tests/conformance/README.md: a `fail/` fixture of level L must be failed by the
rule mapped to its check (at L; Baseline rules count toward Restricted), and a `pass/` fixture
must not be failed by any rule mapped to L.
"""

from __future__ import annotations

import pytest

from kspm_tui.engine.loader import RuleSet
from kspm_tui.model import Status
from kspm_tui.scan import ScanSettings, load_ruleset, scan
from kspm_tui.sources import Collected
from tests.pss_fixtures import WRAPPERS, Fixture, fixtures, parse, pss_rules, wrap

CASES = [pytest.param(f, kind, id=f"{f.label}-{kind}") for f in fixtures() for kind in WRAPPERS]


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    rules = load_ruleset(ScanSettings())
    assert not rules.errors, rules.errors
    return rules


def test_every_fixture_check_has_a_rule(ruleset: RuleSet) -> None:
    """Each check named by a fail fixture is mapped by exactly one rule, at the fixture's level or below."""
    for fixture in fixtures("fail"):
        mapped = [
            rid for rid, controls in pss_rules(ruleset, fixture.level).items() if fixture.check in controls
        ]
        assert len(mapped) == 1, (
            f"{fixture.label}: check {fixture.check!r} is mapped by {mapped or 'no rule'}"
        )


@pytest.mark.parametrize(("fixture", "kind"), CASES)
def test_pss_fixture(fixture: Fixture, kind: str, ruleset: RuleSet) -> None:
    obj = wrap(fixture.pod(), kind)
    result = scan(Collected(objects=parse(obj, fixture.label)), ScanSettings(), ruleset=ruleset)
    assert not result.rule_errors, [e.model_dump() for e in result.rule_errors]
    level_rules = pss_rules(ruleset, fixture.level)
    # A superseded rule's failure is reported by the finding that covers it (rule `supersedes`).
    reported = {rid for f in result.findings if f.status is Status.fail for rid in (f.rule, *f.covers)}
    fired = sorted(reported & set(level_rules))
    assert all(f.kind == kind for f in result.findings), "findings must attach to the top-level workload"
    if fixture.expect == "pass":
        assert not fired, f"{fixture.label} as {kind}: must pass {fixture.level}, but rules fired: {fired}"
    else:
        wanted = sorted(rid for rid, controls in level_rules.items() if fixture.check in controls)
        assert set(wanted) & set(fired), (
            f"{fixture.label} as {kind}: expected {wanted} ({fixture.check}) to fire; "
            f"fired: {fired or 'nothing'}"
        )
