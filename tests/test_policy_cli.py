"""`kspm-tui policy export|list|test` as a user runs them: documents, stderr notes, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import kubernetes_validate
import pytest

from kspm_tui.policy.export import ExportOptions, export_rule, exportable
from kspm_tui.scan import ScanSettings, load_ruleset
from kspm_tui.yamlio import load_yaml_all

FIXTURES = Path(__file__).parent / "fixtures"
MANIFESTS = str(FIXTURES / "manifests")


def docs(text: str) -> list[dict]:
    return [d for d in load_yaml_all(text) if d]


def test_export_one_rule_gives_policy_and_binding(run_cli) -> None:
    res = run_cli("policy", "export", "--rule", "K8S-PRIVILEGED", "--action", "warn", "-n", "shop")
    assert res.code == 0, res.stderr
    policy, binding = docs(res.stdout)
    assert (policy["apiVersion"], policy["kind"]) == ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy")
    assert binding["kind"] == "ValidatingAdmissionPolicyBinding"
    assert binding["spec"]["policyName"] == policy["metadata"]["name"] == "kspm-tui-k8s-privileged"
    assert binding["spec"]["validationActions"] == ["Warn"]
    selector = binding["spec"]["matchResources"]["namespaceSelector"]["matchExpressions"]
    assert {"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["shop"]} in selector
    assert {"key": "kubernetes.io/metadata.name", "operator": "NotIn",
            "values": ["kube-node-lease", "kube-public", "kube-system"]} in selector
    resources = {r for rule in policy["spec"]["matchConstraints"]["resourceRules"] for r in rule["resources"]}
    assert resources == {"pods", "deployments", "statefulsets", "daemonsets", "replicasets", "jobs", "cronjobs",
                         "replicationcontrollers"}
    assert "exported 1 of 1" in res.stderr


def test_include_system_drops_the_system_exclusion(run_cli) -> None:
    res = run_cli("policy", "export", "--rule", "K8S-PRIVILEGED", "--include-system")
    _, binding = docs(res.stdout)
    assert "matchResources" not in binding["spec"]


def test_not_exportable_rules_are_named_on_stderr_never_dropped(run_cli) -> None:
    res = run_cli("policy", "export", "--rule", "K8S-PRIVILEGED,K8S-IMAGE-NO-DIGEST,K8S-NS-NO-LIMITRANGE")
    assert res.code == 0
    assert "not exportable: K8S-IMAGE-NO-DIGEST: calls imageDigest() (a kspm-tui engine helper)" in res.stderr
    assert "not exportable: K8S-NS-NO-LIMITRANGE: namespace rule" in res.stderr
    assert "exported 1 of 3 selected rules" in res.stderr
    only = run_cli("policy", "export", "--rule", "K8S-IMAGE-NO-DIGEST")
    assert only.code == 1 and only.stdout == ""
    assert "none of the selected rules can run at admission" in only.stderr


def test_explain_prints_the_table(run_cli) -> None:
    res = run_cli("policy", "export", "--category", "Pod Security", "--explain")
    assert res.code == 0
    assert "K8S-HOST-NAMESPACES" in res.stderr and "WHY NOT" in res.stderr


def test_selection_by_framework_control(run_cli) -> None:
    res = run_cli("policy", "export", "--framework", "cis", "--control", "5.2.2")
    assert res.code == 0, res.stderr
    names = {d["metadata"]["name"] for d in docs(res.stdout) if d["kind"] == "ValidatingAdmissionPolicy"}
    assert names == {"kspm-tui-k8s-privileged"}
    assert run_cli("policy", "export", "--framework", "cis", "--control", "9.9.9").code == 2
    assert run_cli("policy", "export", "--rule", "K8S-NOPE").code == 2
    assert run_cli("policy", "export", "--control", "5.2.2").code == 2
    bad = run_cli("policy", "export", "--rule", "K8S-PRIVILEGED", "--kubernetes-version", "1.25")
    assert bad.code == 2 and "1.30" in bad.stderr


def test_failing_exports_the_rules_failing_in_a_scan(run_cli) -> None:
    res = run_cli("policy", "export", "--failing", MANIFESTS)
    assert res.code == 0, res.stderr
    names = {d["metadata"]["annotations"]["kspm-tui.io/rule"] for d in docs(res.stdout)
             if d["kind"] == "ValidatingAdmissionPolicy"}
    assert "K8S-PRIVILEGED" in names and "K8S-HOSTPATH-VOLUMES" not in names
    assert run_cli("policy", "export", "--failing").code == 2


def test_exceptions_become_match_conditions(run_cli, tmp_path: Path) -> None:
    accepted = tmp_path / "accepted.yaml"
    accepted.write_text("exceptions:\n- rule: K8S-PRIVILEGED\n  namespace: shop\n  kind: Deployment\n"
                        "  name: web\n  reason: debug sidecar until the 3.0 release\n")
    res = run_cli("policy", "export", "--rule", "K8S-PRIVILEGED", "--exceptions", str(accepted))
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(res.stdout)
    conditions = docs(res.stdout)[0]["spec"]["matchConditions"]
    assert [c["name"] for c in conditions] == ["not-being-deleted", "accepted-risk-1"]
    app = tmp_path / "app.yaml"
    pod_spec = "{containers: [{name: debug, image: busybox, securityContext: {privileged: true}}]}"
    app.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n"
        f"spec: {{selector: {{matchLabels: {{a: b}}}}, template: {{metadata: {{labels: {{a: b}}}}, spec: {pod_spec}}}}}\n"
        "---\napiVersion: v1\nkind: Pod\nmetadata: {name: web-7d9f-abcde, namespace: shop, ownerReferences: "
        "[{apiVersion: apps/v1, kind: ReplicaSet, name: web-7d9f, uid: u, controller: true}]}\n"
        f"spec: {pod_spec}\n"
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web2, namespace: shop}\n"
        f"spec: {{selector: {{matchLabels: {{a: b}}}}, template: {{metadata: {{labels: {{a: b}}}}, spec: {pod_spec}}}}}\n")
    tested = run_cli("policy", "test", str(policy_file), str(app))
    assert tested.code == 1
    lines = tested.stdout.splitlines()
    assert lines[0].startswith("admitted  Deployment shop/web ")
    assert lines[1].startswith("admitted  Pod shop/web-7d9f-abcde ")
    assert lines[2].startswith("denied    Deployment shop/web2 ")
    assert "K8S-PRIVILEGED: container debug runs privileged" in lines[3]


def test_policy_test_reports_per_object_and_exit_code(run_cli, tmp_path: Path) -> None:
    export = run_cli("policy", "export", "--rule", "K8S-PRIVILEGED,K8S-HOSTPATH-VOLUMES")
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(export.stdout)
    res = run_cli("policy", "test", str(policy_file), MANIFESTS)
    assert res.code == 1, res.stderr
    out = res.stdout
    assert "denied    Deployment shop/web" in out
    assert "  denied: kspm-tui-k8s-privileged: K8S-PRIVILEGED: container debug runs privileged" in out
    assert "admitted  Service shop/web" in out
    assert "denied" in res.stderr.splitlines()[-1]
    warn = run_cli("policy", "export", "--rule", "K8S-PRIVILEGED", "--action", "warn")
    policy_file.write_text(warn.stdout)
    warned = run_cli("policy", "test", str(policy_file), MANIFESTS)
    assert warned.code == 0 and "warned    Deployment shop/web" in warned.stdout
    hardened = run_cli("policy", "test", str(policy_file), str(FIXTURES / "hardened"))
    assert hardened.code == 0 and "denied" not in hardened.stdout


def test_policy_test_bad_inputs(run_cli, tmp_path: Path) -> None:
    empty = tmp_path / "none.yaml"
    empty.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    res = run_cli("policy", "test", str(empty), MANIFESTS)
    assert res.code == 2 and "no ValidatingAdmissionPolicy" in res.stderr
    orphan = tmp_path / "orphan.yaml"
    orphan.write_text("apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\n"
                      "metadata: {name: b}\nspec: {policyName: gone, validationActions: [Deny]}\n")
    res = run_cli("policy", "test", str(orphan), MANIFESTS)
    assert res.code == 2 and "policy 'gone' is not in the file" in res.stderr


def test_kyverno_format(run_cli) -> None:
    res = run_cli("policy", "export", "--rule", "K8S-PRIVILEGED", "--format", "kyverno")
    assert res.code == 0, res.stderr
    (policy,) = docs(res.stdout)
    assert (policy["apiVersion"], policy["kind"]) == ("kyverno.io/v1", "ClusterPolicy")
    rule = policy["spec"]["rules"][0]
    assert rule["validate"]["failureAction"] == "Enforce"
    assert rule["validate"]["cel"]["expressions"][0]["expression"].startswith("variables.initContainers.all(")
    assert rule["match"]["any"][0]["resources"]["kinds"][:2] == ["Pod", "Deployment"]


def test_list_shows_every_rule(run_cli) -> None:
    res = run_cli("policy", "list")
    assert res.code == 0
    assert "K8S-PRIVILEGED" in res.stdout and "K8S-PATH-INTERNET-NODE" in res.stdout


@pytest.mark.parametrize("version", ["1.30", "1.34"])
def test_exported_objects_validate_against_the_kubernetes_schema(version: str) -> None:
    """Every exported policy and binding, with selectors and accepted risks, against the strict
    OpenAPI schema of the release (kubernetes-validate)."""
    from kspm_tui.triage.acceptance import AcceptedRisk

    risk = AcceptedRisk(rules=["K8S-*"], namespace="mon*", kind="DaemonSet", name="node-exporter", reason="r")
    options = ExportOptions(namespaces=["prod"], exclude_namespaces=["legacy"], risks=[risk], action="audit")
    count = 0
    for rule in load_ruleset(ScanSettings()).rules:
        if exportable(rule.rule) is None:
            for doc in export_rule(rule.rule, options):
                kubernetes_validate.validate(doc, f"{version}.0", strict=True)
                count += 1
    assert count >= 56


def test_readme_table_of_exportable_rules_is_current() -> None:
    from kspm_tui.cli.policy import export_table, markdown_table

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    shown = readme.split("<!-- policy-table:begin -->\n", 1)[1].split("<!-- policy-table:end -->", 1)[0]
    assert shown == markdown_table(export_table(load_ruleset(ScanSettings()).rules, 30)), (
        "README table is stale: regenerate it with `kspm-tui policy list -o markdown`")


def test_failing_in_a_live_context(serve, kubeconfig, run_cli, tmp_path: Path) -> None:
    """`--failing --context`: the rules failing in a live, read-only scan of the test API server,
    the same as in an offline scan of the same objects."""
    from tests.apiserver.fixtures import CLUSTER

    server = serve()
    live = run_cli("policy", "export", "--failing", "--context", "test", "--kubeconfig", str(kubeconfig(server)))
    offline = run_cli("policy", "export", "--failing", str(CLUSTER))
    assert live.code == 0, live.stderr
    names = [d["metadata"]["name"] for d in docs(live.stdout)]
    assert names and names == [d["metadata"]["name"] for d in docs(offline.stdout)]
    assert server.methods() == {"GET"}


def test_failing_includes_the_rules_a_finding_covers(run_cli, tmp_path: Path) -> None:
    """A superseded rule fails too (its finding is folded into the one that covers it): a privileged
    container without allowPrivilegeEscalation: false fails K8S-ALLOW-PRIVILEGE-ESCALATION, so
    `--failing` exports its policy as well."""
    app = tmp_path / "app.yaml"
    app.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: debug, namespace: shop}\n"
                   "spec: {containers: [{name: debug, image: busybox@sha256:" + "a" * 64 + ", "
                   "securityContext: {privileged: true}}]}\n")
    scanned = run_cli("scan", str(app), "-o", "json")
    findings = [f for f in json.loads(scanned.stdout)["findings"] if f["status"] == "fail"]
    privileged = next(f for f in findings if f["rule"] == "K8S-PRIVILEGED")
    assert "K8S-ALLOW-PRIVILEGE-ESCALATION" in privileged["covers"]
    assert "K8S-ALLOW-PRIVILEGE-ESCALATION" not in {f["rule"] for f in findings}
    res = run_cli("policy", "export", "--failing", str(app))
    assert res.code == 0, res.stderr
    names = {d["metadata"]["annotations"]["kspm-tui.io/rule"] for d in docs(res.stdout)
             if d["kind"] == "ValidatingAdmissionPolicy"}
    assert {"K8S-PRIVILEGED", "K8S-ALLOW-PRIVILEGE-ESCALATION"} <= names


def _rule(text: str):
    from kspm_tui.model import Rule

    return Rule.model_validate(load_yaml_all(text)[0])


RULE_HEAD = ("id: K8S-TEAM-X\ntitle: t\nseverity: low\ncategory: RBAC\nwhy: w\n"
             "tests: {fail: [], pass: []}\n")


def test_rules_reading_graph_facts_do_not_export_and_say_why() -> None:
    """Only what the API server can compute from the admitted object: a rule reading the `role`
    facts (bindings and aggregation from other objects) is refused with that reason, even when its
    CEL is plain; so is any rule variable the scope cannot have at admission."""
    from kspm_tui.policy.export import NotExportable

    role = _rule(RULE_HEAD + "scope: object\nmatch: {kinds: [ClusterRole]}\n"
                             "check: \"role.reach != 'cluster' || !has(object.rules)\"\n")
    assert exportable(role) is not None and exportable(role).startswith("reads `role`")
    with pytest.raises(NotExportable, match="reads `role`"):
        export_rule(role, ExportOptions())
    workload = _rule(RULE_HEAD + "scope: pod\ncheck: '!workload.exposed || podSpec.hostNetwork != true'\n")
    assert exportable(workload).startswith("reads `workload`")
    in_message = _rule(RULE_HEAD + "scope: object\nmatch: {kinds: [Role]}\ncheck: 'true'\n"
                                   "messageExpression: \"'reach ' + role.reach\"\n")
    assert exportable(in_message).startswith("reads `role`")
    rules = {r.id: r.rule for r in load_ruleset(ScanSettings()).rules}
    for rule_id in ("K8S-RBAC-WILDCARD", "K8S-RBAC-SECRETS-ACCESS", "K8S-RBAC-POD-EXEC"):
        assert exportable(rules[rule_id]).startswith("reads `role`"), rule_id


def test_object_rules_match_their_kinds_api_group_at_every_served_version() -> None:
    """HorizontalPodAutoscaler at autoscaling/v2 and Gateway API routes (gateway.networking.k8s.io,
    v1 or the experimental v1alpha2) are matched by the policy as the scan matches them; a kind
    whose API group is unknown is refused, never matched under the core group."""
    from kspm_tui.policy.admission import Admission, load_policies

    rules = {r.id: r.rule for r in load_ruleset(ScanSettings()).rules}
    policy, _ = export_rule(rules["K8S-DEFAULT-NAMESPACE-OBJECTS"], ExportOptions())
    groups = {g: r for r in policy["spec"]["matchConstraints"]["resourceRules"] for g in r["apiGroups"]}
    assert "gateways" not in groups[""]["resources"]
    assert {"gateways", "httproutes", "tcproutes"} <= set(groups["gateway.networking.k8s.io"]["resources"])
    admission = Admission(load_policies(export_rule(rules["K8S-DEFAULT-NAMESPACE-OBJECTS"], ExportOptions())))
    for api_version, kind in (("autoscaling/v2", "HorizontalPodAutoscaler"),
                              ("autoscaling/v1", "HorizontalPodAutoscaler"),
                              ("gateway.networking.k8s.io/v1", "HTTPRoute"),
                              ("gateway.networking.k8s.io/v1alpha2", "TCPRoute")):
        obj = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "web", "namespace": "default"}}
        assert admission.admit(obj).outcome == "denied", (api_version, kind)
        moved = {**obj, "metadata": {"name": "web", "namespace": "shop"}}
        assert admission.admit(moved).outcome == "admitted", (api_version, kind)
    custom = _rule(RULE_HEAD + "scope: object\nmatch: {kinds: [Widget]}\ncheck: 'true'\n")
    assert "Widget" in exportable(custom) and "API group" in exportable(custom)
