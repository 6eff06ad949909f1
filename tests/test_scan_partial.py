"""Partial results: each manifest file's workloads judged by the template checks as it is read.

The explorer lists these before the whole snapshot is known; the scan that follows must be
exactly the scan without them (they share the template verdicts, never the rest).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from kspm_tui.model import ScanResult
from kspm_tui.scan import Partial, ScanSettings, load_ruleset, run_scan
from kspm_tui.target import Target

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import generate  # noqa: E402


def _comparable(result: ScanResult) -> dict[str, Any]:
    return result.model_dump(mode="json", exclude={"started", "duration_s"})


def _where(finding: Any) -> tuple[str, str, str | None, str, str | None]:
    return (finding.rule, finding.kind, finding.namespace, finding.name, finding.container)


def _generated(tmp_path: Path, workloads: int) -> Path:
    files, _ = generate.build(workloads)
    for name, objects in files.items():
        (tmp_path / f"{name}.yaml").write_text(generate.dump_list(objects), encoding="utf-8")
    return tmp_path


def test_partials_stream_per_file_and_the_scan_is_unchanged(tmp_path: Path) -> None:
    folder = _generated(tmp_path, 200)
    target, settings = Target("paths", paths=(str(folder),)), ScanSettings()
    ruleset = load_ruleset(settings)
    partials: list[Partial] = []
    streamed = run_scan(target, settings, ruleset=ruleset, on_partial=partials.append)
    plain = run_scan(target, settings, ruleset=ruleset)

    # Every field of every finding, and the rest of the report, as without partials.
    assert [f.model_dump(mode="json") for f in streamed.result.findings] == \
        [f.model_dump(mode="json") for f in plain.result.findings]
    assert _comparable(streamed.result) == _comparable(plain.result)

    files = sorted(folder.glob("*.yaml"))
    assert [(p.files_done, p.files_total) for p in partials] == \
        [(i, len(files)) for i in range(1, len(files) + 1)]
    # This is a cluster dump: its system namespaces are a hidden group, in the partials too.
    listed = [key for p in partials for key in p.workloads]
    final = {(w.kind, w.namespace, w.name) for w in plain.snapshot.workloads()
             if w.namespace not in plain.result.excluded.namespaces}
    assert len(listed) == len(set(listed)) == len(final) and set(listed) == final
    # Provisional findings are template checks the full scan also made (unless a stricter one covers them).
    made = {_where(f) for f in plain.result.findings} | \
           {(rule, *_where(f)[1:]) for f in plain.result.findings for rule in f.covers}
    provisional = [_where(f) for p in partials for f in p.findings]
    assert len(provisional) > 1000
    assert set(provisional) <= made
    template_only = {r.id for r in ruleset.rules if r.template_only}
    assert {f.rule for p in partials for f in p.findings} <= template_only


def test_a_workload_owned_from_another_file_waits_for_the_whole_snapshot(tmp_path: Path) -> None:
    (tmp_path / "a-pods.yaml").write_text("""\
apiVersion: v1
kind: Pod
metadata:
  name: web-7d9f-abcde
  namespace: shop
  uid: p1
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-7d9f, uid: rs1, controller: true}]
spec:
  containers: [{name: web, image: nginx:1.27, securityContext: {privileged: true}}]
---
apiVersion: v1
kind: Pod
metadata: {name: debug, namespace: shop, uid: p2}
spec:
  containers: [{name: sh, image: busybox:1.36}]
""", encoding="utf-8")
    (tmp_path / "b-deploy.yaml").write_text("""\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, uid: d1}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.27, securityContext: {privileged: true}}]
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-7d9f
  namespace: shop
  uid: rs1
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: d1, controller: true}]
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.27, securityContext: {privileged: true}}]
""", encoding="utf-8")
    partials: list[Partial] = []
    scanned = run_scan(Target("paths", paths=(str(tmp_path),)), ScanSettings(), on_partial=partials.append)
    assert [p.workloads for p in partials] == [[("Pod", "shop", "debug")], [("Deployment", "shop", "web")]]
    judged = {(w.kind, w.name) for w in scanned.snapshot.workloads()}
    assert judged == {("Pod", "debug"), ("Deployment", "web")}
    assert any(f.rule == "K8S-PRIVILEGED" and f.name == "web" for f in partials[1].findings)


def test_a_rule_error_is_reported_once_by_the_full_scan(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "broken.yaml").write_text("""\
id: K8S-TEST-NO-KEY
title: Reads a key that is not there
severity: low
category: Pod Security
scope: container
check: container.securityContext.doesNotExist == true
why: A test rule whose check fails with a missing key.
remediation: {guidance: none}
""", encoding="utf-8")
    folder = tmp_path / "manifests"
    folder.mkdir()
    for name in ("a", "b"):
        (folder / f"{name}.yaml").write_text(f"""\
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: shop}}
spec:
  containers: [{{name: c, image: busybox:1.36, securityContext: {{runAsUser: 1}}}}]
""", encoding="utf-8")
    settings = ScanSettings(rules_dirs=[rules])
    target = Target("paths", paths=(str(folder),))
    streamed = run_scan(target, settings, on_partial=lambda _: None)
    plain = run_scan(target, settings)
    errors = [e for e in streamed.result.rule_errors if e.rule == "K8S-TEST-NO-KEY"]
    assert len(errors) == 1 and "Pod shop/a" in errors[0].message
    assert _comparable(streamed.result) == _comparable(plain.result)


def test_no_partials_for_a_live_context_or_the_demo() -> None:
    partials: list[Partial] = []
    run_scan(Target("demo"), ScanSettings(), on_partial=partials.append)
    assert partials == []
