"""Remediations proven with the real kubectl: applying a finding's patch removes that finding.

For every failing upstream PSS fixture, bare and wrapped in each workload kind, every finding
that carries a patch is applied with `kubectl patch --local --type=strategic` and the output is
scanned again: the finding's fingerprint must be gone and no new failing finding of equal or
higher severity may appear. Findings with the same patch are applied in one kubectl call, and
all objects of a kind are scanned together in one snapshot (a scan per object made this file
41% of the suite's time).
The `kubectl` command shown to the user is parsed with shlex and its `-p` is what we apply.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kspm_tui.engine.loader import RuleSet
from kspm_tui.model import Finding, Status
from kspm_tui.scan import ScanSettings, load_ruleset, scan
from kspm_tui.snapshot import namespace_of
from kspm_tui.sources import Collected, SourcedObject
from kspm_tui.sources.demo import read_demo
from kspm_tui.yamlio import dump_yaml
from tests.kubectl import KUBECTL, requires_kubectl
from tests.pss_fixtures import WRAPPERS, fixtures, parse, wrap
from tests.pss_strategies import pods

pytestmark = requires_kubectl

Item = tuple[str, dict[str, Any], Finding, list[Finding]]  # (fixture label, object, finding, its failing)


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
    if obj["kind"] in ("Pod", "Job"):  # pod template immutable: patch the manifest, re-create
        problems = [] if command is None else [f"{obj['kind']} template is immutable, yet: {command}"]
        if "re-create" not in finding.remediation.guidance and "recreate" not in finding.remediation.guidance:
            problems.append("no guidance to re-create the object")
        return json.dumps(patch), problems
    if command is None:
        return json.dumps(patch), ["no kubectl command"]
    args = shlex.split(command)
    meta = obj["metadata"]
    problems = []
    if args[:2] != ["kubectl", "patch"] or args[-3:] != ["--", obj["kind"].lower(), meta["name"]]:
        problems.append(f"command targets {args[:2] + args[-3:]}")
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
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "", "KUBECONFIG": str(path.parent / "none")},
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


def renamed(obj: dict[str, Any], name: str) -> dict[str, Any]:
    return {**obj, "metadata": {**obj["metadata"], "name": name}}


def failing_by_object(objects: list[dict[str, Any]], ruleset: RuleSet) -> dict[tuple[str, str], list[Finding]]:
    """Scan many objects in one snapshot (names unique); each object's failing findings by (kind, name)."""
    collected = Collected(objects=[item for obj in objects for item in parse(obj, obj["metadata"]["name"])])
    result = scan(collected, ScanSettings(), ruleset=ruleset)
    assert not result.rule_errors, [e.model_dump() for e in result.rule_errors]
    out: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for f in result.findings:
        if f.status is Status.fail:
            out[(f.kind, f.name)].append(f)
    return out


@pytest.mark.parametrize("kind", WRAPPERS)
def test_patches_remove_their_findings(kind: str, ruleset: RuleSet, tmp_path: Path) -> None:
    """Three scans per kind, each of one snapshot: every fixture; a copy per patchable finding;
    every patched copy (names keep the copies apart, and fingerprints stable across scans)."""
    objects = [renamed(wrap(fixture.pod(), kind), f"f{i}") for i, fixture in enumerate(fixtures("fail"))]
    labels = {obj["metadata"]["name"]: fixture.label for obj, fixture in zip(objects, fixtures("fail"))}
    before_all = failing_by_object(objects, ruleset)
    copies: list[tuple[str, dict[str, Any], Finding]] = []  # (label, the copy, the finding it is for)
    for obj in objects:
        label = labels[obj["metadata"]["name"]]
        for finding in before_all[(kind, obj["metadata"]["name"])]:
            if finding.remediation.patch is None:
                assert finding.remediation.guidance, f"{label}: {finding.rule} has neither patch nor guidance"
                continue
            copies.append((label, renamed(obj, f"{obj['metadata']['name']}-{len(copies)}"), finding))
    assert copies, "no finding with a patch: nothing was verified"
    before = failing_by_object([c for _, c, _ in copies], ruleset)
    batches: dict[str, list[Item]] = defaultdict(list)
    problems: list[str] = []
    for label, copy, original in copies:
        found = before[(kind, copy["metadata"]["name"])]
        [finding] = [f for f in found if (f.rule, f.container) == (original.rule, original.container)]
        patch, wrong = kubectl_patch_json(finding, copy)
        problems += [f"{label} as {kind}: {finding.rule}: {w}" for w in wrong]
        batches[patch].append((label, copy, finding, found))
    patched: list[tuple[str, str, dict[str, Any], Finding, list[Finding]]] = []
    for n, (patch, items) in enumerate(batches.items()):
        out = apply(patch, [obj for _, obj, _, _ in items], tmp_path / f"batch{n}.yaml")
        patched += [(label, patch, new, finding, found) for (label, _, finding, found), new in zip(items, out)]
    after_all = failing_by_object([new for _, _, new, _, _ in patched], ruleset)
    for label, patch, new, finding, found in patched:
        after = after_all[(kind, new["metadata"]["name"])]
        where = f"{label} as {kind}: {finding.rule} patch {patch}"
        if any(f.fingerprint == finding.fingerprint for f in after):
            problems.append(f"{where}: finding still present")
        known = {f.fingerprint for f in found}
        worse = [
            f"{f.rule} ({f.severity.value})"
            for f in after
            if f.fingerprint not in known and f.severity.rank >= finding.severity.rank
        ]
        if worse:
            problems.append(f"{where}: introduced {', '.join(worse)}")
    assert not problems, "\n".join(problems)


def test_demo_cluster_pss_patches_remove_their_findings(ruleset: RuleSet, tmp_path: Path) -> None:
    """The same guarantee on realistic objects: PSS findings of the demo cluster (system namespaces
    included) with a kubectl command, one per rule and workload kind, applied to their object and
    rescanning the whole demo with the patched object in place."""
    collected = read_demo()
    settings = ScanSettings(include_system=True)
    before = scan(collected, settings, ruleset=ruleset)
    index = {
        (o.obj["kind"], namespace_of(o.obj), o.obj["metadata"]["name"]): i
        for i, o in enumerate(collected.objects)
    }
    known = {f.fingerprint for f in before.findings if f.status is Status.fail}
    todo = list(
        {
            (f.rule, f.kind): f
            for f in before.findings
            if f.status is Status.fail
            and f.remediation.kubectl
            and any(fw.startswith("pss-") for fw in f.frameworks)
        }.values()
    )
    assert todo, "the demo has no patchable Pod Security finding"
    problems: list[str] = []
    for n, finding in enumerate(todo):
        position = index[(finding.kind, finding.namespace, finding.name)]
        original = collected.objects[position]
        patch, wrong = kubectl_patch_json(finding, original.obj)
        where = f"demo {finding.kind}/{finding.namespace}/{finding.name}: {finding.rule}"
        problems += [f"{where}: {w}" for w in wrong]
        [patched] = apply(patch, [original.obj], tmp_path / f"demo{n}.yaml")
        objects = list(collected.objects)
        objects[position] = SourcedObject(patched, original.source)
        after = scan(Collected(objects=objects), settings, ruleset=ruleset)
        failing_after = [f for f in after.findings if f.status is Status.fail]
        if any(f.fingerprint == finding.fingerprint for f in failing_after):
            problems.append(f"{where}: finding still present after {patch}")
        worse = [
            f"{f.rule} ({f.severity.value})"
            for f in failing_after
            if f.fingerprint not in known and f.severity.rank >= finding.severity.rank
        ]
        if worse:
            problems.append(f"{where}: introduced {', '.join(worse)}")
    assert not problems, "\n".join(problems)


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(pod=pods(), kind=st.sampled_from(WRAPPERS))
def test_patches_fix_generated_pods(pod: dict[str, Any], kind: str, ruleset: RuleSet, tmp_path: Path) -> None:
    """Pods where pod-level and container-level settings disagree, many fields at once."""
    obj = wrap(pod, kind)
    before = failing(obj, ruleset, "generated")
    problems: list[str] = []
    for n, finding in enumerate(f for f in before if f.remediation.patch is not None):
        patch, wrong = kubectl_patch_json(finding, obj)
        problems += [f"{finding.rule}: {w}" for w in wrong]
        [patched] = apply(patch, [obj], tmp_path / f"generated{n}.yaml")
        after = failing(patched, ruleset, "generated")
        if any(f.fingerprint == finding.fingerprint for f in after):
            problems.append(f"{finding.rule}: finding still present after {patch}")
        known = {f.fingerprint for f in before}
        worse = [
            f.rule for f in after if f.fingerprint not in known and f.severity.rank >= finding.severity.rank
        ]
        if worse:
            problems.append(f"{finding.rule}: patch {patch} introduced {worse}")
    assert not problems, "\n".join(problems)
