"""RBAC findings read like the authorizer: resourceNames narrow, reach sets the severity, the
message is a sentence and the evidence is the rule that matched.

Shapes from real installs: cert-manager's webhook Role (its own named Secret), ingress-nginx's
admission ClusterRole (its own webhook configuration), Argo CD's controller (`*` over
argoproj.io), a ClusterRole reused per namespace through RoleBindings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

RBAC = """\
apiVersion: v1
kind: Namespace
metadata: {name: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: secret-reader}
rules:
  - {apiGroups: [""], resources: [configmaps], verbs: [get]}
  - {apiGroups: [""], resources: [secrets], verbs: [get, list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: secret-reader, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: secret-reader}
subjects: [{kind: ServiceAccount, name: app, namespace: shop}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: global-secret-reader}
rules: [{apiGroups: [""], resources: [secrets], verbs: [get, list, watch]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: global-secret-reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: global-secret-reader}
subjects: [{kind: ServiceAccount, name: sync, namespace: ops}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: local-secrets, namespace: shop}
rules: [{apiGroups: [""], resources: [secrets], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: cert-manager-webhook:dynamic-serving, namespace: cert-manager}
rules:
  - {apiGroups: [""], resources: [secrets], resourceNames: [cert-manager-webhook-ca], verbs: [get, list, watch, update]}
  - {apiGroups: [""], resources: [secrets], verbs: [create]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: ingress-nginx-admission}
rules:
  - {apiGroups: [admissionregistration.k8s.io], resources: [validatingwebhookconfigurations],
     resourceNames: [ingress-nginx-admission], verbs: [get, update]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ingress-nginx-admission}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ingress-nginx-admission}
subjects: [{kind: ServiceAccount, name: ingress-nginx-admission, namespace: ingress-nginx}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: token-for-one, namespace: kube-system}
rules: [{apiGroups: [""], resources: [serviceaccounts/token], resourceNames: [metrics-reader], verbs: [create]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: token-for-one, namespace: kube-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: token-for-one}
subjects: [{kind: ServiceAccount, name: grafana, namespace: monitoring}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: argocd-application-controller}
rules:
  - {apiGroups: [argoproj.io], resources: ["*"], verbs: ["*"]}
  - {apiGroups: [""], resources: [events], verbs: [create, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: argocd-application-controller}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: argocd-application-controller}
subjects: [{kind: ServiceAccount, name: argocd-application-controller, namespace: argocd}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: ops-everything}
rules: [{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ops-everything}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ops-everything}
subjects: [{kind: Group, name: ops}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: node-admin}
rules: [{apiGroups: [""], resources: [nodes], verbs: [patch, delete]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: node-admin, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: node-admin}
subjects: [{kind: ServiceAccount, name: app, namespace: shop}]
"""

ESCALATIONS = """\
apiVersion: v1
kind: Namespace
metadata: {name: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: api-redirector}
rules: [{apiGroups: [apiregistration.k8s.io], resources: [apiservices], verbs: [patch]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: api-redirector}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: api-redirector}
subjects: [{kind: User, name: mallory}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: policy-writer}
rules: [{apiGroups: [admissionregistration.k8s.io], resources: [mutatingadmissionpolicies], verbs: [create]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: policy-writer}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: policy-writer}
subjects: [{kind: User, name: trudy}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: token-minter}
rules: [{apiGroups: [""], resources: [serviceaccounts/token], verbs: [create]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: token-minter}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: token-minter}
subjects: [{kind: User, name: oscar}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: one-token}
rules: [{apiGroups: [""], resources: [serviceaccounts/token], resourceNames: [reader], verbs: [create]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: one-token}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: one-token}
subjects: [{kind: User, name: victor}]
"""


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    base = tmp_path_factory.mktemp("user")
    env = {**os.environ, "KSPM_TUI_CONFIG_DIR": str(base / "c"), "KSPM_TUI_DATA_DIR": str(base / "d")}
    proc = subprocess.run([sys.executable, "-m", "kspm_tui", "scan", "-", "-o", "json", "--fail-on", "none"],
                          input=RBAC, capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    return [f for f in json.loads(proc.stdout)["findings"] if f["status"] == "fail"]


def _one(findings: list[dict], rule: str, name: str) -> dict | None:
    found = [f for f in findings if f["rule"] == rule and f["name"] == name]
    assert len(found) <= 1
    return found[0] if found else None


def test_reach_sets_severity_and_words(findings: list[dict]) -> None:
    cluster = _one(findings, "K8S-RBAC-SECRETS-ACCESS", "global-secret-reader")
    assert cluster is not None and cluster["severity"] == "high"
    assert cluster["message"] == ("ClusterRole global-secret-reader can read Secrets cluster-wide "
                                  "(ClusterRoleBinding global-secret-reader): get, list and watch secrets")
    by_rolebinding = _one(findings, "K8S-RBAC-SECRETS-ACCESS", "secret-reader")
    assert by_rolebinding is not None and by_rolebinding["severity"] == "medium"
    assert "only in namespace shop (bound by RoleBinding)" in by_rolebinding["message"]
    local = _one(findings, "K8S-RBAC-SECRETS-ACCESS", "local-secrets")
    assert local is not None and local["severity"] == "medium"
    assert "in namespace shop: get secrets" in local["message"]


def test_evidence_is_the_rule_that_matched(findings: list[dict]) -> None:
    f = _one(findings, "K8S-RBAC-SECRETS-ACCESS", "secret-reader")
    assert f is not None
    assert f["evidence"] == [{"path": "rules[1]", "value": {"verbs": ["get", "list", "watch"], "apiGroups": [""],
                                                             "resources": ["secrets"]}}]


def test_resource_names_are_least_privilege(findings: list[dict]) -> None:
    assert _one(findings, "K8S-RBAC-SECRETS-ACCESS", "cert-manager-webhook:dynamic-serving") is None
    assert _one(findings, "K8S-RBAC-WEBHOOK-CONFIG", "ingress-nginx-admission") is None
    assert _one(findings, "K8S-RBAC-TOKEN-CREATE", "token-for-one") is None
    # A token for one named service account, even in kube-system, is not "any service account".
    grafana = [f for f in findings if f["name"] == "grafana" and f["rule"] == "K8S-RBAC-CAN-ESCALATE"]
    assert grafana == []


def test_a_wildcard_on_a_projects_own_group_ranks_below_one_on_core(findings: list[dict]) -> None:
    argo = _one(findings, "K8S-RBAC-WILDCARD", "argocd-application-controller")
    ops = _one(findings, "K8S-RBAC-WILDCARD", "ops-everything")
    assert argo is not None and ops is not None
    assert (argo["severity"], ops["severity"]) == ("low", "high")
    assert argo["message"] == ("ClusterRole argocd-application-controller grants every verb on every resource "
                               "in argoproj.io cluster-wide (ClusterRoleBinding argocd-application-controller)")
    assert [e["path"] for e in argo["evidence"]] == ["rules[0]"]


def test_cluster_scoped_grants_through_a_rolebinding_grant_nothing(findings: list[dict]) -> None:
    f = _one(findings, "K8S-RBAC-NODES-WRITE", "node-admin")
    assert f is not None and f["severity"] == "low"
    assert "nowhere yet: only RoleBindings bind it (in shop)" in f["message"]


def test_messages_are_sentences(findings: list[dict]) -> None:
    rbac = [f for f in findings if f["category"] == "RBAC"]
    assert rbac
    for f in rbac:
        assert " ; " not in f["message"] and "; ;" not in f["message"], f["message"]
        assert "verbs resources" not in f["message"], f["message"]


def test_missing_escalations_are_found(run_cli) -> None:
    res = run_cli("scan", "-", "-o", "json", "--fail-on", "none", stdin=ESCALATIONS)
    assert res.code == 0, res.stderr
    escalate = {f["name"]: f["message"] for f in json.loads(res.stdout)["findings"]
                if f["rule"] == "K8S-RBAC-CAN-ESCALATE" and f["status"] == "fail"}
    assert "register APIServices" in escalate["mallory"]
    assert "mutating webhooks or admission policies" in escalate["trudy"]
    assert "create tokens for service accounts" in escalate["oscar"]
    assert "victor" not in escalate  # a token for one named service account only
