"""The built-in rule pack loads cleanly and every rule passes its own test manifests.

Parametrized by rule id over whatever is in `rules/`, so rules added later are covered too;
`kspm-tui rules test DIR` is exercised on a user's directory with a broken rule in it.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from kspm_tui import exit_codes
from kspm_tui.engine.loader import load_rules
from kspm_tui.engine.testing import run_rule_tests
from kspm_tui.locations import builtin_dir

PACK = load_rules([builtin_dir("rules")])
RULES = {rule.id: rule for rule in PACK.rules}


def test_builtin_pack_loads_without_errors() -> None:
    assert not PACK.errors, "\n".join(f"{e.file} [{e.rule}]: {e.message}" for e in PACK.errors)
    assert "K8S-PRIVILEGED" in RULES


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_rule_passes_its_own_tests(rule_id: str) -> None:
    results = run_rule_tests(RULES[rule_id])
    failed = [f"{r.expect}[{r.index}]: {r.detail}" for r in results if not r.ok]
    assert not failed, f"{rule_id} ({RULES[rule_id].rule.source_file}):\n" + "\n".join(failed)


GOOD = """\
    id: K8S-TEST-GOOD
    title: Latest tag
    severity: low
    category: Image hygiene
    scope: container
    check: "imageTag(container.image) != 'latest'"
    why: A moving tag makes rollouts unreproducible.
    tests:
      fail:
        - {apiVersion: v1, kind: Pod, metadata: {name: p},
           spec: {containers: [{name: c, image: "nginx:latest"}]}}
      pass:
        - {apiVersion: v1, kind: Pod, metadata: {name: p},
           spec: {containers: [{name: c, image: "nginx:1.27"}]}}
"""
BROKEN = """\
    id: K8S-TEST-BROKEN
    title: Broken rule
    severity: low
    category: Image hygiene
    scope: container
    check: "container.image.startsWith('x' &&"
    why: Its CEL does not compile.
"""


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_rules_test_reports_broken_rule_and_runs_the_good_one(run_cli, tmp_path: Path) -> None:
    _write(tmp_path, "good.yaml", GOOD)
    broken = _write(tmp_path, "broken.yaml", BROKEN)
    result = run_cli("rules", "test", str(tmp_path))
    assert result.code != exit_codes.OK
    error_lines = [line for line in result.stderr.splitlines() if "K8S-TEST-BROKEN" in line]
    assert error_lines and str(broken) in error_lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert "1 rules tested, 0 failed" in result.stdout, result.stdout


def test_rules_test_reports_a_rule_whose_manifests_disagree(run_cli, tmp_path: Path) -> None:
    _write(tmp_path, "good.yaml", GOOD.replace('image: "nginx:latest"', 'image: "nginx:1.0"'))
    result = run_cli("rules", "test", str(tmp_path))
    assert result.code == exit_codes.FINDINGS
    assert "K8S-TEST-GOOD fail[1]: expected a finding, got none" in result.stdout, result.stdout
