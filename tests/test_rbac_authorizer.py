"""who-can and effective permissions against cases built from the upstream RBAC authorizer tests.

The rule-matching tables mirror `TestRuleMatches` in kubernetes
`plugin/pkg/auth/authorizer/rbac/rbac_test.go`; the binding cases mirror `TestAuthorizer`
there (RoleBinding → ClusterRole scoped to one namespace, non-resource URLs with a trailing
`*`, subresources and `*/subresource`). Objects go through the real file reader.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from kspm_tui.graph.rbac import PolicyRule, Request, Subject, build_rbac, parse_subject
from kspm_tui.snapshot import Snapshot
from kspm_tui.sources.files import read_text

RBAC = "rbac.authorization.k8s.io/v1"


def rule(verbs: list[str], groups: list[str] | None = None, resources: list[str] | None = None,
         names: list[str] | None = None, urls: list[str] | None = None) -> PolicyRule:
    raw: dict[str, Any] = {"verbs": verbs}
    if urls is not None:
        raw["nonResourceURLs"] = urls
    else:
        raw.update(apiGroups=groups or [], resources=resources or [])
    if names:
        raw["resourceNames"] = names
    return PolicyRule.parse(raw)


def res(verb: str, group: str, resource: str, sub: str = "", name: str = "") -> Request:
    return Request(verb, resource, sub, name, group=group)


def url(verb: str, path: str) -> Request:
    return Request(verb, path=path)


RULE_CASES = [
    # star verb, exact match other
    (rule(["*"], ["group1"], ["resource1"]), [
        (res("verb1", "group1", "resource1"), True), (res("verb1", "group2", "resource1"), False),
        (res("verb1", "group1", "resource2"), False), (res("verb2", "group1", "resource1"), True),
    ]),
    # star group, exact match other
    (rule(["verb1"], ["*"], ["resource1"]), [
        (res("verb1", "group1", "resource1"), True), (res("verb1", "group2", "resource1"), True),
        (res("verb1", "group1", "resource2"), False), (res("verb2", "group1", "resource1"), False),
    ]),
    # star resource, exact match other
    (rule(["verb1"], ["group1"], ["*"]), [
        (res("verb1", "group1", "resource1"), True), (res("verb1", "group2", "resource1"), False),
        (res("verb1", "group1", "resource2"), True), (res("verb2", "group1", "resource1"), False),
    ]),
    # tuple expansion
    (rule(["verb1", "verb2"], ["group1", "group2"], ["resource1", "resource2"]), [
        (res(v, g, r), True) for v in ("verb1", "verb2") for g in ("group1", "group2")
        for r in ("resource1", "resource2")
    ] + [(res("verb3", "group1", "resource1"), False), (res("verb1", "group3", "resource1"), False),
         (res("verb1", "group1", "resource3"), False)]),
    # subresource expansion
    (rule(["*"], ["*"], ["resource1/subresource1"]), [
        (res("verb1", "group1", "resource1", "subresource1"), True),
        (res("verb1", "group1", "resource1", "subresource2"), False),
        (res("verb1", "group1", "resource2", "subresource1"), False),
        (res("verb1", "group1", "resource1"), False),
    ]),
    # */subresource matches that subresource of any resource, and never the resource itself
    (rule(["get"], ["*"], ["*/scale"]), [
        (res("get", "apps", "deployments", "scale"), True), (res("get", "x", "anything", "scale"), True),
        (res("get", "apps", "deployments"), False), (res("get", "apps", "deployments", "status"), False),
        (res("get", "apps", "deployments", "xscale"), False),
    ]),
    # star nonresource, exact match other
    (rule(["verb1"], urls=["*"]), [
        (url("verb1", p), True) for p in ("/foo", "/foo/bar", "/foo/baz", "/foo/bar/one")
    ] + [(url("verb2", "/foo"), False)]),
    # star nonresource subpath
    (rule(["verb1"], urls=["/foo/*"]), [
        (url("verb1", "/foo"), False), (url("verb1", "/foo/bar"), True), (url("verb1", "/foo/baz"), True),
        (url("verb1", "/foo/bar/one"), True), (url("verb1", "/notfoo"), False),
        (url("verb1", "/notfoo/bar"), False), (url("verb2", "/foo/bar"), False),
    ]),
    # star verb, exact nonresource
    (rule(["*"], urls=["/foo", "/foo/bar/one"]), [
        (url("verb1", "/foo"), True), (url("verb1", "/foo/bar"), False), (url("verb1", "/foo/baz"), False),
        (url("verb1", "/foo/bar/one"), True), (url("verb2", "/foo"), True),
    ]),
    # resourceNames: only named objects; a list (no name) is not covered
    (rule(["get", "list"], [""], ["secrets"], names=["a"]), [
        (res("get", "", "secrets", name="a"), True), (res("get", "", "secrets", name="b"), False),
        (res("list", "", "secrets"), False),
    ]),
    # a resource rule never answers a non-resource request, and vice versa
    (rule(["*"], ["*"], ["*"]), [(url("get", "/healthz"), False), (res("get", "", "pods"), True)]),
    (rule(["*"], urls=["*"]), [(res("get", "", "pods"), False)]),
]


@pytest.mark.parametrize("policy, checks", RULE_CASES, ids=[c[0].text() for c in RULE_CASES])
def test_rule_matches_like_the_authorizer(policy: PolicyRule, checks: list[tuple[Request, bool]]) -> None:
    for request, expected in checks:
        assert request.matches(policy) is expected, (policy.text(), request)


def snapshot_of(text: str) -> Snapshot:
    collected = read_text(text.encode(), "test.yaml")
    assert not collected.errors, collected.errors
    return Snapshot(collected.objects)


def cluster_role(name: str, *rules: dict[str, Any], labels: dict[str, str] | None = None,
                 aggregate: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {"apiVersion": RBAC, "kind": "ClusterRole",
                           "metadata": {"name": name, **({"labels": labels} if labels else {})},
                           "rules": list(rules)}
    if aggregate is not None:
        obj["aggregationRule"] = {"clusterRoleSelectors": aggregate}
    return obj


def binding(kind: str, name: str, role_kind: str, role: str, subjects: list[dict[str, str]],
            namespace: str | None = None) -> dict[str, Any]:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": RBAC, "kind": kind, "metadata": meta,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
            "subjects": subjects}


def manifest(*objects: dict[str, Any]) -> str:
    return yaml.safe_dump_all(objects)


USER_ADMIN = Subject("User", "admin")
GROUP_ADMINS = Subject("Group", "admins")


def test_rolebinding_to_clusterrole_grants_only_in_its_namespace() -> None:
    graph = build_rbac(snapshot_of(manifest(
        cluster_role("admin", {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}),
        binding("RoleBinding", "admin", "ClusterRole", "admin",
                [{"kind": "User", "name": "admin"}, {"kind": "Group", "name": "admins"}], "ns1"),
    )))
    pods_ns1 = Request.parse("get", "pods", namespace="ns1")
    assert graph.can(USER_ADMIN, pods_ns1) and graph.can(GROUP_ADMINS, pods_ns1)
    assert not graph.can(USER_ADMIN, Request.parse("get", "pods", namespace="ns2"))
    assert not graph.can(USER_ADMIN, Request.parse("get", "nodes"))  # cluster-scoped: RB never grants
    who = graph.who_can(Request.parse("delete", "secrets", namespace="ns2"))
    assert who == []
    scopes = {(str(g.subject), g.scope) for g in graph.who_can(Request.parse("delete", "secrets"))}
    assert scopes == {("User/admin", "ns1"), ("Group/admins", "ns1")}


def test_non_resource_urls_only_through_cluster_role_bindings() -> None:
    graph = build_rbac(snapshot_of(manifest(
        cluster_role("non-resource-url-getter", {"nonResourceURLs": ["/apis"], "verbs": ["get"]}),
        cluster_role("non-resource-url", {"nonResourceURLs": ["/apis"], "verbs": ["*"]}),
        cluster_role("non-resource-url-prefix", {"nonResourceURLs": ["/apis/*"], "verbs": ["get"]}),
        binding("RoleBinding", "getter", "ClusterRole", "non-resource-url-getter",
                [{"kind": "User", "name": "rb-only"}], "ns1"),
        binding("ClusterRoleBinding", "getter", "ClusterRole", "non-resource-url-getter",
                [{"kind": "User", "name": "foo"}, {"kind": "Group", "name": "bar"}]),
        binding("ClusterRoleBinding", "any", "ClusterRole", "non-resource-url",
                [{"kind": "User", "name": "admin"}]),
        binding("ClusterRoleBinding", "prefix", "ClusterRole", "non-resource-url-prefix",
                [{"kind": "User", "name": "prefixed"}]),
    )))
    allowed = [("foo", "get", "/apis"), ("admin", "get", "/apis"), ("admin", "watch", "/apis"),
               ("prefixed", "get", "/apis/v1"), ("prefixed", "get", "/apis/v1/foobar")]
    denied = [("foo", "get", "/api"), ("foo", "get", "/apis/v1"), ("foo", "watch", "/apis"),
              ("prefixed", "get", "/apis"), ("prefixed", "get", "/api"), ("rb-only", "get", "/apis")]
    for user, verb, path in allowed:
        assert graph.can(Subject("User", user), Request.parse(verb, path)), (user, verb, path)
    for user, verb, path in denied:
        assert not graph.can(Subject("User", user), Request.parse(verb, path)), (user, verb, path)
    assert graph.can(Subject("Group", "bar"), Request.parse("get", "/apis"))


def test_subresources_need_their_own_grant() -> None:
    graph = build_rbac(snapshot_of(manifest(
        cluster_role("pods", {"apiGroups": ["*"], "resources": ["pods"], "verbs": ["get"]}),
        cluster_role("status", {"apiGroups": ["*"], "resources": ["pods/status"], "verbs": ["get"]},
                     {"apiGroups": ["*"], "resources": ["*/scale"], "verbs": ["get"]}),
        binding("RoleBinding", "a", "ClusterRole", "pods", [{"kind": "User", "name": "a"}], "ns1"),
        binding("RoleBinding", "b", "ClusterRole", "status", [{"kind": "User", "name": "b"}], "ns1"),
    )))
    a, b = Subject("User", "a"), Subject("User", "b")
    assert graph.can(a, Request.parse("get", "pods", namespace="ns1"))
    assert not graph.can(a, Request.parse("get", "pods", namespace="ns1", subresource="status"))
    assert graph.can(b, Request.parse("get", "pods/status", namespace="ns1"))
    assert graph.can(b, Request.parse("get", "deployments.apps/scale", namespace="ns1"))
    assert not graph.can(b, Request.parse("get", "pods", namespace="ns1"))
    assert {str(g.subject) for g in graph.who_can(Request.parse("get", "pods", subresource="exec"))} == set()


def test_aggregated_cluster_roles_gather_selected_rules_transitively() -> None:
    graph = build_rbac(snapshot_of(manifest(
        cluster_role("monitoring", aggregate=[{"matchLabels": {"rbac.example.com/aggregate-to-monitoring": "true"}}]),
        cluster_role("metrics-reader", {"apiGroups": ["metrics.k8s.io"], "resources": ["pods"], "verbs": ["get"]},
                     labels={"rbac.example.com/aggregate-to-monitoring": "true"}),
        cluster_role("edit-ish", aggregate=[{"matchExpressions": [
            {"key": "rbac.example.com/aggregate-to-edit", "operator": "Exists"}]}],
            labels={"rbac.example.com/aggregate-to-monitoring": "true"}),
        cluster_role("secret-writer", {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]},
                     labels={"rbac.example.com/aggregate-to-edit": "yes"}),
        cluster_role("unrelated", {"apiGroups": [""], "resources": ["nodes"], "verbs": ["delete"]}),
        binding("ClusterRoleBinding", "mon", "ClusterRole", "monitoring", [{"kind": "Group", "name": "sre"}]),
    )))
    sre = Subject("Group", "sre")
    metrics = graph.can(sre, Request.parse("get", "pods.metrics.k8s.io", namespace="x"))
    assert metrics and metrics[0].aggregated_from and metrics[0].aggregated_from.name == "metrics-reader"
    secrets = graph.can(sre, Request.parse("create", "secrets", namespace="x"))
    assert secrets and secrets[0].aggregated_from.name == "secret-writer"  # through edit-ish
    assert not graph.can(sre, Request.parse("delete", "nodes"))


def test_service_account_subjects_and_implicit_groups() -> None:
    graph = build_rbac(snapshot_of(manifest(
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "builder", "namespace": "ci"}},
        {"apiVersion": RBAC, "kind": "Role", "metadata": {"name": "cm", "namespace": "ci"},
         "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]},
        # no namespace on the SA subject: the binding's namespace
        binding("RoleBinding", "cm", "Role", "cm", [{"kind": "ServiceAccount", "name": "builder"}], "ci"),
        cluster_role("lister", {"apiGroups": [""], "resources": ["services"], "verbs": ["list"]}),
        binding("ClusterRoleBinding", "all-sa-in-ci", "ClusterRole", "lister",
                [{"kind": "Group", "name": "system:serviceaccounts:ci"}]),
        cluster_role("deleter", {"apiGroups": [""], "resources": ["pods"], "verbs": ["delete"]}),
        binding("ClusterRoleBinding", "as-user", "ClusterRole", "deleter",
                [{"kind": "User", "name": "system:serviceaccount:ci:builder"}]),
        cluster_role("anon", {"nonResourceURLs": ["/version"], "verbs": ["get"]}),
        binding("ClusterRoleBinding", "anon", "ClusterRole", "anon",
                [{"kind": "Group", "name": "system:unauthenticated"}]),
    )))
    sa = Subject("ServiceAccount", "builder", "ci")
    assert graph.can(sa, Request.parse("get", "configmaps", namespace="ci"))
    assert not graph.can(Subject("ServiceAccount", "builder", "other"), Request.parse("get", "configmaps", namespace="ci"))
    via_group = graph.can(sa, Request.parse("list", "services", namespace="prod"))
    assert via_group and via_group[0].subject == Subject("Group", "system:serviceaccounts:ci")
    assert graph.can(sa, Request.parse("delete", "pods", namespace="x"))
    assert not graph.can(sa, Request.parse("get", "/version"))  # authenticated, not unauthenticated
    assert graph.can(Subject("User", "system:anonymous"), Request.parse("get", "/version"))
    assert not graph.can(Subject("User", "alice"), Request.parse("get", "/version"))
    assert sa in graph.subjects()
    assert parse_subject("system:serviceaccount:ci:builder", graph.subjects()) == sa
    assert parse_subject("sa/ci/builder", graph.subjects()) == sa
    assert parse_subject("builder", graph.subjects()) == [sa]


def test_missing_role_grants_nothing_but_cluster_admin_is_known() -> None:
    graph = build_rbac(snapshot_of(manifest(
        binding("RoleBinding", "gone", "Role", "gone", [{"kind": "User", "name": "u"}], "ns1"),
        binding("ClusterRoleBinding", "root", "ClusterRole", "cluster-admin", [{"kind": "User", "name": "root"}]),
    )))
    assert not graph.can(Subject("User", "u"), Request.parse("get", "pods", namespace="ns1"))
    grants = graph.can(Subject("User", "root"), Request.parse("escalate", "clusterroles.rbac.authorization.k8s.io"))
    assert grants and grants[0].default_role
    assert graph.can(Subject("User", "root"), Request.parse("get", "/metrics"))


def test_a_named_namespace_is_authorized_inside_that_namespace() -> None:
    graph = build_rbac(snapshot_of(manifest(
        cluster_role("ns-reader", {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"]}),
        binding("RoleBinding", "r", "ClusterRole", "ns-reader", [{"kind": "User", "name": "dev"}], "team-a"),
    )))
    dev = Subject("User", "dev")
    assert graph.can(dev, Request.parse("get", "namespaces", name="team-a"))
    assert not graph.can(dev, Request.parse("get", "namespaces", name="team-b"))
    assert not graph.can(dev, Request.parse("get", "namespaces"))  # a list is cluster-scoped
    assert [str(g.subject) for g in graph.who_can(Request.parse("get", "namespaces", name="team-a"))] == ["User/dev"]
    assert graph.who_can(Request.parse("get", "namespaces", name="team-b")) == []
