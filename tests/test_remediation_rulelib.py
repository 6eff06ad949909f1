"""Every patch the rule library offers is applied with the real kubectl client
(`kubectl patch --local`) to the rule's failing test manifests, then the result is rescanned
with the whole pack: the finding is gone and nothing new of equal or higher severity appears."""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest

from kspm_tui.engine.loader import load_rules
from kspm_tui.locations import builtin_dir
from kspm_tui.model import Finding, Status
from kspm_tui.snapshot import namespace_of
from tests.kubectl import KUBECTL
from tests.rulelib_support import case_objects, rulelib_rules, scan_objects

PACK = load_rules([builtin_dir("rules")])
PATCHED = [r for r in rulelib_rules().rules if r.rule.remediation.patch or r.rule.remediation.patch_expression]
CASES = [(r.id, i, case) for r in PATCHED for i, case in enumerate(r.rule.tests.fail)]


def kubectl_patch(obj: dict[str, Any], patch: dict[str, Any], tmp: Path) -> dict[str, Any]:
    path = tmp / "object.json"
    path.write_text(json.dumps(obj))
    proc = subprocess.run(
        [str(KUBECTL), "patch", "--local", "-f", str(path), "--type=strategic", "-p", json.dumps(patch),
         "-o", "json"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def target(objects: list[dict[str, Any]], finding: Finding) -> int:
    return next(i for i, o in enumerate(objects) if o["kind"] == finding.kind
                and o["metadata"]["name"] == finding.name and namespace_of(o) == finding.namespace)


def failing(findings: list[Finding]) -> dict[str, Finding]:
    return {f.fingerprint: f for f in findings if f.status is Status.fail}


def test_rule_library_offers_patches() -> None:
    assert len(PATCHED) >= 10 and KUBECTL.exists()


@pytest.mark.parametrize(("rule_id", "index", "case"), CASES, ids=[f"{r}-fail{i}" for r, i, _ in CASES])
def test_patch_removes_finding_without_new_ones(rule_id: str, index: int, case: dict[str, Any],
                                                tmp_path: Path) -> None:
    objects = [json.loads(json.dumps(o)) for o in case_objects(case)]
    before = failing(scan_objects(objects, PACK))
    # The rule's failure is reported by its own finding, or by one that `supersedes` it (`covers`).
    mine = [f for f in before.values() if f.rule == rule_id or rule_id in f.covers]
    assert mine, "the failing manifest must fail the rule in the full pack"
    for finding in mine:
        assert finding.remediation.patch, finding.remediation.guidance
        i = target(objects, finding)
        objects[i] = kubectl_patch(objects[i], finding.remediation.patch, tmp_path)
    after = failing(scan_objects(objects, PACK))
    assert [f.message for f in after.values() if f.rule == rule_id or rule_id in f.covers] == []
    severity = mine[0].severity.rank
    new = [f"{f.rule}: {f.message}" for fp, f in after.items() if fp not in before and f.severity.rank >= severity]
    assert new == []


def test_kubectl_command_is_what_a_user_pastes() -> None:
    """The command names the owning object and carries the same patch (shell-quoted)."""
    rule = next(r for r in PATCHED if r.id == "K8S-READONLY-ROOT-FILESYSTEM")
    findings = scan_objects([{
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}}],
        type(PACK)(rules=[rule]))
    command = findings[0].remediation.kubectl
    args = shlex.split(command)
    assert args[:5] == ["kubectl", "patch", "-n", "shop", "--type=strategic"]
    assert args[-3:] == ["--", "deployment", "web"]
    assert json.loads(args[args.index("-p") + 1]) == findings[0].remediation.patch
