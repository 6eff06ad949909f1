"""Manifests read the way `kubectl apply` reads them, as a user sees it in the scan's output:
removed API versions named as such, findings pointing at the object's own line, system
namespaces shown when they are what was scanned."""

from __future__ import annotations

import json
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"

PSP_AND_OLD_DEPLOYMENT = """\
apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata:
  name: old
spec: {}
---
apiVersion: extensions/v1beta1
kind: Deployment
metadata:
  name: legacy
spec:
  template:
    spec:
      containers: [{name: c, image: nginx}]
---
apiVersion: apps/v1
kind: Deploymnet
metadata:
  name: typo
"""

PRIVILEGED = """\
# a comment before the separator
---

# and one after it
apiVersion: v1
kind: Pod
metadata:
  name: first
spec:
  containers:
  - name: c
    image: nginx:1.27
    securityContext:
      privileged: true
---
apiVersion: v1
kind: Pod
metadata:
  name: second
spec:
  containers:
  - name: c
    image: nginx:1.27
    securityContext: {privileged: true}
"""


def test_removed_kinds_are_named_as_removed_not_as_typos(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "old.yaml"
    path.write_text(PSP_AND_OLD_DEPLOYMENT)
    result = run_cli("scan", str(path), "-o", "json", "--no-history")
    assert result.code == 2
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("input error")]
    assert len(lines) == 3
    assert "PodSecurityPolicy policy/v1beta1 was removed in Kubernetes 1.25 (use Pod Security Admission" in lines[0]
    assert "Deployment extensions/v1beta1 was removed in Kubernetes 1.16 (use apps/v1)" in lines[1]
    assert "typo" not in lines[0] + lines[1]
    assert "unknown kind 'Deploymnet'" in lines[2] and "a typo?" in lines[2]


def test_a_finding_points_at_its_objects_first_line_in_json_and_sarif(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "pods.yaml"
    path.write_text(PRIVILEGED)
    found = json.loads(run_cli("scan", str(path), "-o", "json", "--no-history", "--only", "K8S-PRIVILEGED").stdout)
    lines = {f["name"]: f["source"]["line"] for f in found["findings"]}
    assert lines == {"first": 5, "second": 16}  # `apiVersion:` lines, never the `---` above them
    sarif = json.loads(run_cli("scan", str(path), "-o", "sarif", "--no-history", "--only", "K8S-PRIVILEGED").stdout)
    regions = sorted(r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in sarif["runs"][0]["results"])
    assert regions == [14, 24]  # the `privileged: true` field of each object


def test_a_manifest_scan_shows_system_namespaces_and_fails_on_them(run_cli) -> None:
    """calico installs into kube-system: scanned from files, its privileged node agent is the point."""
    result = run_cli("scan", str(CORPUS / "calico"), "-o", "json", "--no-history", "--fail-on", "critical")
    assert result.code == 1
    report = json.loads(result.stdout)
    assert report["excluded"] == {"namespaces": [], "workloads": 0, "findings": 0}
    assert {(f["namespace"], f["name"], f["container"]) for f in report["findings"] if f["rule"] == "K8S-PRIVILEGED"} \
        >= {("kube-system", "calico-node", "calico-node"), ("kube-system", "calico-node", "install-cni")}
