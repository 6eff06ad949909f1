"""`kspm-tui rbac ...` and the graph rules through the real CLI, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kspm_tui.engine.loader import load_rules
from kspm_tui.engine.testing import run_rule_tests

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = str(Path(__file__).parent / "fixtures" / "rbac" / "cluster.yaml")
GRAPH_RULE_DIRS = [ROOT / "rules" / "rbac-graph", ROOT / "rules" / "attack-paths"]


def test_graph_rules_pass_their_own_tests() -> None:
    ruleset = load_rules(GRAPH_RULE_DIRS)
    assert not ruleset.errors
    assert len(ruleset.rules) >= 9
    failures = [r for rule in ruleset.rules for r in run_rule_tests(rule) if not r.ok]
    assert failures == []


def test_who_can_with_namespace_after_paths(run_cli) -> None:
    result = run_cli("rbac", "who-can", "get", "secrets", FIXTURE, "-n", "ci", "-o", "json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["request"]["namespace"] == "ci" and data["request"]["apiGroup"] == ""
    subjects = {(g["subject"]["namespace"], g["subject"]["name"]) for g in data["grants"]}
    assert subjects == {("ci", "jenkins"), ("tools", "ops-console"), ("reports", "report-builder")}
    chain = next(g["chain"] for g in data["grants"] if g["subject"]["name"] == "jenkins")
    assert chain == "ClusterRoleBinding/jenkins-admin → ClusterRole/cluster-admin → * *.*"


def test_who_can_table_and_subresource(run_cli) -> None:
    result = run_cli("rbac", "who-can", "create", "pods", "--subresource", "exec", FIXTURE)
    assert result.code == 0, result.stderr
    assert "Who can create pods/exec (2 subjects)" in result.stdout
    assert "report-builder" not in result.stdout


def test_show_subject_groups_permissions_by_scope(run_cli) -> None:
    result = run_cli("rbac", "show", "sa/reports/report-builder", FIXTURE, "-o", "json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["implicitGroups"] == ["system:serviceaccounts", "system:serviceaccounts:reports",
                                      "system:authenticated"]
    assert data["facts"]["canReadSecrets"] and not data["facts"]["canEscalate"]
    assert [g["rule"] for g in data["grants"]] == [{"verbs": ["get", "list"], "apiGroups": [""],
                                                    "resources": ["secrets"]}]
    table = run_cli("rbac", "show", "report-builder", FIXTURE)
    assert "cluster-wide" in table.stdout and "ClusterRoleBinding/report-builder-secrets" in table.stdout


def test_show_unknown_subject_is_one_sentence(run_cli) -> None:
    result = run_cli("rbac", "show", "nobody", FIXTURE)
    assert result.code == 2
    assert result.stderr.strip().splitlines() == [
        "kspm-tui rbac show: error: no subject named 'nobody': list them with `kspm-tui rbac subjects`"]


def test_subjects_lists_risks(run_cli) -> None:
    result = run_cli("rbac", "subjects", FIXTURE, "-o", "json")
    assert result.code == 0, result.stderr
    rows = {row["key"]: row for row in json.loads(result.stdout)}
    assert rows["ServiceAccount/ci/jenkins"]["clusterAdmin"]
    assert rows["ServiceAccount/payments/payments-api"]["rules"] == 0


def test_paths_ranked_with_decoys_absent(run_cli) -> None:
    result = run_cli("rbac", "paths", FIXTURE, "-o", "json")
    assert result.code == 0, result.stderr
    paths = json.loads(result.stdout)
    assert [(p["source"]["name"], p["target"]) for p in paths] == [("jenkins", "cluster-admin"),
                                                                  ("payments-api", "cloud")]
    assert paths[0]["score"] > paths[1]["score"]
    assert paths[0]["cut"]["action"] == "narrow-binding" and paths[0]["cut"]["keeps_workload"]
    assert paths[0]["other_cuts"][0]["patch"] == {"spec": {"template": {"spec": {"automountServiceAccountToken": False}}}}
    table = run_cli("rbac", "paths", FIXTURE, "--to", "cluster-admin")
    assert table.stdout.startswith("1.  critical  Deployment/ci/jenkins → cluster-admin")
    assert "payments" not in table.stdout and "cut (keeps the workload running)" in table.stdout


def test_scan_reports_paths_as_findings(run_cli) -> None:
    result = run_cli("scan", FIXTURE, "-o", "json")
    assert result.code == 0, result.stderr
    findings = [f for f in json.loads(result.stdout)["findings"] if f["status"] == "fail"]
    paths = {(f["rule"], f["name"]): f for f in findings if f["rule"].startswith("K8S-PATH-")}
    assert set(paths) == {("K8S-PATH-INTERNET-CLUSTER-ADMIN", "jenkins"), ("K8S-PATH-INTERNET-CLOUD", "payments-api")}
    admin = paths[("K8S-PATH-INTERNET-CLUSTER-ADMIN", "jenkins")]
    assert admin["severity"] == "critical" and admin["kind"] == "Deployment"
    assert admin["remediation"]["kubectl"].startswith("kubectl create rolebinding jenkins-admin -n ci ")
    assert admin["remediation"]["kubectl"].endswith(" -- clusterrolebinding jenkins-admin")
    assert admin["remediation"]["guidance"].startswith("Cut that keeps the workload running: move the grant")
    assert admin["remediation"]["safety"] == "review" and "keeps the workload running" in admin["remediation"]["safety_reason"]
    subjects = {(f["rule"], f["kind"], f["name"]) for f in findings if f["rule"].startswith("K8S-RBAC-")}
    assert ("K8S-RBAC-READ-ALL-SECRETS", "ServiceAccount", "report-builder") in subjects
    # cluster-admins are reported by the binding rules, not again as "can escalate"
    assert not any(rule == "K8S-RBAC-CAN-ESCALATE" for rule, _, _ in subjects)


@pytest.mark.parametrize("args", [["rbac", "paths"], ["rbac", "who-can", "get", "pods"]])
def test_nothing_to_read_is_a_usage_error(run_cli, args: list[str]) -> None:
    result = run_cli(*args)
    assert result.code == 2 and "nothing to read" in result.stderr


USER_RULE = """
id: K8S-TEST-EXPOSED-TOKEN
title: Internet-reachable pod mounts an API token
severity: medium
category: Workload hygiene
scope: pod
check: "!(workload.reachableFromInternet && workload.serviceAccount.tokenMounted)"
messageExpression: "'reachable via ' + workload.exposedVia.join('; ')"
why: A user rule reading the `workload` facts.
remediation:
  patch: {spec: {automountServiceAccountToken: false}}
tests:
  fail:
    - apiVersion: v1
      kind: List
      items:
        - {apiVersion: v1, kind: Pod, metadata: {name: p, labels: {app: p}}, spec: {containers: [{name: c, image: "x:1"}]}}
        - {apiVersion: v1, kind: Service, metadata: {name: p}, spec: {type: LoadBalancer, selector: {app: p}}}
  pass:
    - apiVersion: v1
      kind: List
      items:
        - apiVersion: v1
          kind: Pod
          metadata: {name: p, labels: {app: p}}
          spec: {automountServiceAccountToken: false, containers: [{name: c, image: "x:1"}]}
        - {apiVersion: v1, kind: Service, metadata: {name: p}, spec: {type: LoadBalancer, selector: {app: p}}}
"""


def test_user_rules_can_read_workload_facts(run_cli, tmp_path: Path) -> None:
    (tmp_path / "exposed-token.yaml").write_text(USER_RULE)
    tested = run_cli("rules", "test", str(tmp_path))
    assert tested.code == 0, tested.stdout + tested.stderr
    result = run_cli("scan", FIXTURE, "--rules", str(tmp_path), "-o", "json")
    findings = [f for f in json.loads(result.stdout)["findings"] if f["rule"] == "K8S-TEST-EXPOSED-TOKEN"]
    # payments-api's SA disables automount; report-builder is isolated from the controller
    assert [(f["namespace"], f["name"]) for f in findings] == [("ci", "jenkins")]
    assert "Service/ci/jenkins type LoadBalancer" in findings[0]["message"]
