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
    assert report["excluded"] == {"namespaces": [], "workloads": 0, "findings": 0, "by_severity": {}}
    assert {(f["namespace"], f["name"], f["container"]) for f in report["findings"] if f["rule"] == "K8S-PRIVILEGED"} \
        >= {("kube-system", "calico-node", "calico-node"), ("kube-system", "calico-node", "install-cni")}


FAKE_HELM = """#!/bin/sh
# Stands in for helm (no helm binary is installable from PyPI): prints what `helm template`
# prints for a one-template chart, and records its arguments.
echo "$@" > "$(dirname "$0")/argv"
cat <<'YAML'
---
# Source: web/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: app
        image: nginx:1.27
        securityContext: {privileged: true}
YAML
"""


def test_a_chart_directory_is_rendered_with_helm_when_on_path(run_cli, tmp_path: Path) -> None:
    chart = tmp_path / "web"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n")
    (chart / "templates" / "deployment.yaml").write_text("{{- if .Values.on }}\nkind: {{ .Values.kind }}\n{{- end }}\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "helm").write_text(FAKE_HELM)
    (bin_dir / "helm").chmod(0o755)
    without = run_cli("scan", str(chart), "-o", "json", "--no-history", env={"PATH": "/usr/bin:/bin"})
    assert without.code == 2
    expected = (f"a Helm chart: its templates are not YAML until rendered; run `helm template web {chart} | "
                "kspm-tui scan -` (or put helm on PATH)")
    assert [e["message"] for e in json.loads(without.stdout)["errors"]] == [expected]
    with_helm = run_cli("scan", str(chart), "-o", "json", "--no-history", "--only", "K8S-PRIVILEGED",
                        env={"PATH": f"{bin_dir}:/usr/bin:/bin"})
    assert with_helm.code == 0, with_helm.stderr
    assert (bin_dir / "argv").read_text().split() == ["template", "web", "--", str(chart)]
    finding = json.loads(with_helm.stdout)["findings"][0]
    assert (finding["name"], finding["source"]["file"]) == ("web", str(chart / "templates" / "deployment.yaml"))


NO_NAMESPACE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: nginx:1.27
        securityContext: {privileged: true}
"""


def test_an_object_without_a_namespace_is_in_an_unknown_namespace_and_its_patch_names_none(
        run_cli, tmp_path: Path) -> None:
    path = tmp_path / "app.yaml"
    path.write_text(NO_NAMESPACE)
    report = json.loads(run_cli("scan", str(path), "-o", "json", "--no-history", "--only", "K8S-PRIVILEGED").stdout)
    finding = report["findings"][0]
    assert finding["namespace"] == "(namespace unknown)"
    assert finding["remediation"]["kubectl"].startswith("kubectl patch --type=strategic -p ")
    assert finding["remediation"]["kubectl"].endswith(" -- deployment web")
    assert " -n " not in finding["remediation"]["kubectl"]
    table = run_cli("scan", str(path), "--no-history", "--only", "K8S-PRIVILEGED")
    assert "(namespace unknown)" in table.stdout and "default" not in table.stdout
