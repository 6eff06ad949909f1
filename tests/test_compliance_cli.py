"""Compliance views through the real CLI: `scan --framework`, `rules list` coverage, `rules show`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kspm_tui.frameworks import load_frameworks

HARDENED = Path(__file__).parent / "fixtures" / "hardened"

WEAK_CLUSTER = """
apiVersion: v1
kind: Namespace
metadata: {name: kube-system}
---
apiVersion: v1
kind: Pod
metadata: {name: kube-apiserver-cp1, namespace: kube-system, labels: {component: kube-apiserver}}
spec:
  containers:
    - name: kube-apiserver
      image: registry.k8s.io/kube-apiserver:v1.31.2
      command: [kube-apiserver, --anonymous-auth=true, --authorization-mode=Node,RBAC, --profiling=false]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: ops-all}
rules: [{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec: {containers: [{name: web, image: "nginx:latest"}]}
"""


def controls(doc: dict) -> dict[str, dict]:
    return {c["id"]: c for c in doc["compliance"]["controls"]}


@pytest.fixture
def weak(tmp_path: Path) -> Path:
    path = tmp_path / "weak.yaml"
    path.write_text(WEAK_CLUSTER)
    return path


def test_cis_report_on_a_weak_cluster(run_cli, weak: Path) -> None:
    result = run_cli("scan", str(weak), "--framework", "cis", "-o", "json")
    assert result.code == 0, result.stderr
    doc = json.loads(result.stdout)
    by_id = controls(doc)
    catalog = [c.id for c in load_frameworks()["cis"].controls]
    assert list(by_id)[: len(catalog)] == catalog, "every catalogued control, in benchmark order"
    assert by_id["1.2.1"]["status"] == "fail" and by_id["1.2.1"]["failing"] == 1
    assert by_id["1.2.15"]["status"] == "pass"
    assert by_id["5.1.3"]["status"] == "fail" and "K8S-RBAC-WILDCARD" in by_id["5.1.3"]["rules"]
    assert by_id["5.3.2"]["status"] == "fail"
    assert by_id["1.3.2"]["status"] == "not-assessable" and "not visible" in by_id["1.3.2"]["reason"]
    assert by_id["5.4.2"]["status"] == "manual"
    # only CIS rules ran: every finding maps to a CIS control
    assert doc["findings"] and all(any(f.startswith("cis:") for f in x["frameworks"]) for x in doc["findings"])
    counts = doc["compliance"]["counts"]
    assert doc["compliance"]["score"] == round(100 * counts["pass"] / (counts["pass"] + counts["fail"]))
    assert sum(counts.values()) == len(by_id)


def test_cis_table_reads_like_an_audit_report(run_cli, weak: Path) -> None:
    result = run_cli("scan", str(weak), "--framework", "cis")
    assert result.code == 0, result.stderr
    out = result.stdout
    assert "CIS Kubernetes Benchmark v1.10.0" in out and "compliance score" in out
    row = next(line for line in out.splitlines() if line.startswith("1.2.1 "))
    assert "manual" in row and "fail" in row and "--anonymous-auth" in row
    assert any(line.startswith("5.7.4 ") for line in out.splitlines())


def test_managed_cluster_control_plane_is_never_pass(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "managed.yaml"
    path.write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: kube-system}\n")
    doc = json.loads(run_cli("scan", str(path), "--framework", "cis", "-o", "json").stdout)
    plane = [c for c in doc["compliance"]["controls"] if c["id"].startswith(("1.", "2."))]
    assert plane and {c["status"] for c in plane} <= {"not-assessable", "manual"}


def test_hardened_set_scores_full_marks(run_cli) -> None:
    for framework in ("cis", "nsa-cisa", "mitre", "soc2"):
        result = run_cli("scan", str(HARDENED), "--framework", framework, "-o", "json")
        assert result.code == 0, result.stderr
        doc = json.loads(result.stdout)
        assert doc["compliance"]["counts"]["fail"] == 0, framework
        assert doc["compliance"]["score"] == 100, framework


def test_pss_restricted_includes_baseline_controls(run_cli) -> None:
    doc = json.loads(run_cli("scan", str(HARDENED), "--framework", "pss-restricted", "-o", "json").stdout)
    ids = set(controls(doc))
    assert {"privileged", "hostnamespaces", "runasnonroot", "allowprivilegeescalation"} <= ids


def test_compliance_framework_maps_through_technical_controls(run_cli, weak: Path) -> None:
    doc = json.loads(run_cli("scan", str(weak), "--framework", "soc2", "-o", "json").stdout)
    by_id = controls(doc)
    assert by_id["CC6.3"]["status"] == "fail" and "K8S-RBAC-WILDCARD" in by_id["CC6.3"]["rules"]
    assert doc["compliance"]["name"].startswith("SOC 2")


def test_unknown_framework_is_one_clear_sentence(run_cli, weak: Path) -> None:
    result = run_cli("scan", str(weak), "--framework", "nist-9000")
    assert result.code == 2
    assert "unknown framework 'nist-9000'" in result.stderr and "cis" in result.stderr
    assert "Traceback" not in result.stderr


def test_rules_list_shows_coverage(run_cli) -> None:
    result = run_cli("rules", "list")
    assert result.code == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("coverage:")]
    assert any("RBAC" in line and "Control plane" in line for line in lines)
    assert any("cis " in line and "controls" in line for line in lines)


def test_rules_show_explains_mappings_and_remediation(run_cli) -> None:
    patched = run_cli("rules", "show", "K8S-IMAGE-PULL-POLICY")
    assert patched.code == 0, patched.stderr
    assert "mitre:T1525" in patched.stdout and "example patch" in patched.stdout
    assert "kubectl patch -n shop --type=strategic -p " in patched.stdout and "-- deployment web" in patched.stdout
    guided = run_cli("rules", "show", "K8S-RBAC-WILDCARD")
    assert guided.code == 0, guided.stderr
    assert "cis:5.1.3" in guided.stdout and "Minimize wildcard use in Roles" in guided.stdout
    assert "upstream recommendation is manual" in guided.stdout
    assert "kubectl auth can-i" in guided.stdout


def test_rules_list_by_mapped_framework(run_cli) -> None:
    soc2 = run_cli("rules", "list", "--framework", "soc2", "-o", "json")
    ids = {r["id"] for r in json.loads(soc2.stdout)}
    assert "K8S-RBAC-WILDCARD" in ids and "K8S-APISERVER-AUDIT-LOG" in ids
    cis51 = json.loads(run_cli("rules", "list", "--framework", "cis:5.1", "-o", "json").stdout)
    assert cis51 and all(any(f.startswith("cis:5.1") for f in r["frameworks"]) for r in cis51)


def test_demo_cis_report(run_cli) -> None:
    """The demo's kubeadm-style control plane is visible: CIS 1.x/2.x are assessed, not skipped."""
    doc = json.loads(run_cli("scan", "--demo", "--framework", "cis", "-o", "json").stdout)
    by_id = controls(doc)
    assert by_id["1.2.1"]["status"] in ("pass", "fail") and by_id["2.1"]["status"] in ("pass", "fail")
    assert doc["compliance"]["counts"]["fail"] > 0 and doc["compliance"]["counts"]["pass"] > 0
    assert not [c for c in doc["compliance"]["controls"] if c["status"] == "not-assessable"]


def test_info_rules_never_fail_a_control(run_cli, tmp_path: Path) -> None:
    """An inventory finding (a LoadBalancer exists) is reported, but the control stays pass."""
    path = tmp_path / "lb.yaml"
    path.write_text("""
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {type: LoadBalancer, loadBalancerSourceRanges: [10.0.0.0/8], selector: {app: web}, ports: [{port: 443}]}
""")
    doc = json.loads(run_cli("scan", str(path), "--framework", "mitre", "-o", "json").stdout)
    assert [f["rule"] for f in doc["findings"] if f["status"] == "fail"] == ["K8S-SERVICE-LOADBALANCER"]
    assert controls(doc)["T1133"]["status"] == "pass"


def test_every_reference_in_the_pack_is_catalogued() -> None:
    """Compliance views show titles for every control any built-in rule maps to."""
    from kspm_tui.engine.loader import load_rules
    from kspm_tui.locations import builtin_dir

    catalog = {fid: {c.id for c in f.controls} for fid, f in load_frameworks().items()}
    missing = [f"{r.id} {ref}" for r in load_rules([builtin_dir("rules")]).rules for ref in r.rule.frameworks
               if ref.partition(":")[2] not in catalog.get(ref.partition(":")[0], set())]
    assert missing == []
