"""The demo cluster's intended attack paths and decoys (kspm_tui/demo/README.md), via the real CLI."""

from __future__ import annotations

import json


def test_demo_paths_are_exactly_the_intended_two(run_cli) -> None:
    result = run_cli("rbac", "paths", "--demo", "-o", "json")
    assert result.code == 0, result.stderr
    paths = json.loads(result.stdout)
    assert [(p["source"]["kind"], p["source"]["namespace"], p["source"]["name"], p["target"]) for p in paths] == [
        ("StatefulSet", "ci", "jenkins", "cluster-admin"),
        ("Deployment", "payments", "payments-api", "cloud"),
    ]
    jenkins, payments = paths
    assert [e["object"]["name"] for e in jenkins["edges"] if e["object"]][:5] == [
        "jenkins", "jenkins", "jenkins", "jenkins", "jenkins-cluster-admin"]
    assert jenkins["cut"]["action"] == "narrow-binding"  # jenkins uses its grants: keep it running
    assert payments["target_label"] == "aws identity arn:aws:iam::123456789012:role/acme-prod-eu-payments-api"
    assert payments["ingress_isolated"]  # default-deny, but the controller is admitted
    assert any("admits the ingress controller" in e["evidence"] for e in payments["edges"])


def test_demo_decoys_are_not_paths_even_from_inside(run_cli) -> None:
    result = run_cli("rbac", "paths", "--demo", "--internal", "--include-system", "-o", "json")
    assert result.code == 0, result.stderr
    sources = {(p["source"]["name"], p["exposed"]) for p in json.loads(result.stdout)}
    names = {name for name, _ in sources}
    assert "storefront" not in names  # token not mounted
    assert "pgadmin" not in names  # data admin only in its namespace, and isolated
    assert {name for name, exposed in sources if exposed} == {"jenkins", "payments-api"}


def test_demo_scan_reports_the_paths_first(run_cli) -> None:
    result = run_cli("scan", "--demo", "-o", "json")
    assert result.code in (0, 2), result.stderr
    findings = [f for f in json.loads(result.stdout)["findings"] if f["status"] == "fail"]
    paths = [(f["rule"], f["name"]) for f in findings if f["rule"].startswith("K8S-PATH-")]
    assert paths == [("K8S-PATH-INTERNET-CLUSTER-ADMIN", "jenkins"), ("K8S-PATH-INTERNET-CLOUD", "payments-api")]
    rbac = {(f["rule"], f["kind"], f["namespace"], f["name"]) for f in findings if f["rule"].startswith("K8S-RBAC-")}
    assert {
        ("K8S-RBAC-CAN-ESCALATE", "Group", None, "acme:platform-admins"),
        ("K8S-RBAC-CAN-ESCALATE", "ServiceAccount", "payments", "payments-worker"),
        ("K8S-RBAC-READ-ALL-SECRETS", "ServiceAccount", "monitoring", "prometheus-server"),
        ("K8S-RBAC-CAN-EXEC", "Group", None, "acme:developers"),
        ("K8S-RBAC-BINDING-DANGLING-ROLE", "RoleBinding", "shop", "shop-legacy-deployer"),
        ("K8S-RBAC-BINDING-MISSING-SUBJECT", "RoleBinding", "payments", "payments-ci-deploy"),
    } <= rbac


def test_demo_who_can_follows_aggregation_and_subresources(run_cli) -> None:
    token = json.loads(run_cli("rbac", "who-can", "create", "serviceaccounts/token", "--demo", "-o", "json").stdout)
    assert ("payments", "payments-worker") in {(g["subject"]["namespace"], g["subject"]["name"])
                                               for g in token["grants"]}
    exec_shop = json.loads(run_cli("rbac", "who-can", "create", "pods", "--subresource", "exec", "-n", "shop",
                                   "--demo", "-o", "json").stdout)
    assert "acme:developers" in {g["subject"]["name"] for g in exec_shop["grants"]}
    assert "acme:developers" not in {g["subject"]["name"] for g in json.loads(run_cli(
        "rbac", "who-can", "create", "pods/exec", "-n", "payments", "--demo", "-o", "json").stdout)["grants"]}
