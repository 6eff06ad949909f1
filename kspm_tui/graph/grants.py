"""What one Role or ClusterRole grants, and where: the `role` variable of object rules on roles.

Each risk class is a set of requests asked with the authorizer's own matching (`rbac.py`), so a
rule limited by `resourceNames` does not answer "any secret" (it names a few: least
privilege), `*/subresource` counts as the API server counts it, and aggregated rules are
included. Rules with a `*` verb, resource or API group are listed as wildcards (with whether
they reach Kubernetes' own APIs); those over `*` resources or groups are not listed again under
every class their `*` covers. Reach follows the bindings: a Role grants in its namespace, a ClusterRole bound
by RoleBindings only in those namespaces, and only a ClusterRoleBinding makes it cluster-wide.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from typing import Any

from kspm_tui.graph.rbac import RBAC_GROUP, PolicyRule, RbacGraph, Ref, Request
from kspm_tui.graph.risks import (
    ADMISSION_GROUP,
    APIREG_GROUP,
    CERT_GROUP,
    EXEC,
    MUTATING_ADMISSION,
    POD_CREATORS,
    READ_SECRETS,
    VALIDATING_ADMISSION,
    WRITE,
)
from kspm_tui.kinds import BUILTIN

# Class → the requests any of which puts a role rule in the class (names asked as "any": "").
ROLE_CLASSES: dict[str, tuple[Request, ...]] = {
    "readSecrets": (*READ_SECRETS, Request("watch", "secrets", group="")),
    "createPods": tuple(Request("create", r, group=g) for r, g in POD_CREATORS),
    "exec": EXEC,
    "escalate": (*(Request(v, r, group=RBAC_GROUP) for v in ("bind", "escalate") for r in ("roles", "clusterroles")),
                 *(Request("impersonate", r, group="") for r in ("users", "groups", "serviceaccounts")),
                 *(Request("impersonate", r, s, group="authentication.k8s.io")
                   for r, s in (("uids", ""), ("userextras", "scopes")))),
    "createPersistentVolumes": (Request("create", "persistentvolumes", group=""),),
    "nodesProxy": tuple(Request(v, "nodes", "proxy", group="") for v in ("get", "create")),
    "nodesWrite": (*(Request(v, "nodes", group="") for v in ("update", "patch", "delete")),
                   *(Request(v, "nodes", "status", group="") for v in ("update", "patch"))),
    "approveCsr": tuple(Request(v, "certificatesigningrequests", "approval", group=CERT_GROUP)
                        for v in ("update", "patch")),
    "admissionWrite": tuple(Request(v, r, group=ADMISSION_GROUP) for v in (*WRITE, "delete")
                            for r in (*MUTATING_ADMISSION, *VALIDATING_ADMISSION)),
    "createTokens": (Request("create", "serviceaccounts", "token", group=""),),
    "apiservicesWrite": tuple(Request(v, "apiservices", group=APIREG_GROUP) for v in (*WRITE, "delete")),
}


def _words(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def describe(rule: PolicyRule) -> str:
    """A rule as a person says it: `get, list and watch secrets`, `every verb on every resource in
    argoproj.io`, `create serviceaccounts/token named vault`."""
    verbs = "every verb on" if "*" in rule.verbs else _words(list(rule.verbs) or ["no verb on"])
    if rule.non_resource_urls:
        urls = "every non-resource URL" if "*" in rule.non_resource_urls else _words(list(rule.non_resource_urls))
        return f"{verbs} {urls}"
    resources = "every resource" if "*" in rule.resources else _words(list(rule.resources) or ["nothing"])
    groups = [g for g in rule.api_groups if g]
    if "*" in rule.api_groups:
        where = " in every API group"
    elif groups:
        where = " in " + _words(groups) + (" and the core group" if "" in rule.api_groups else "")
    else:
        where = ""
    names = f" named {_words(list(rule.resource_names))}" if rule.resource_names else ""
    return f"{verbs} {resources}{where}{names}"


def _narrowed(rule: PolicyRule, requests: tuple[Request, ...]) -> PolicyRule:
    """`rule` with only the resources that answer `requests` (a message about Secrets names
    secrets, not the configmaps the same rule also lists); the evidence keeps the whole rule."""
    wanted = {f"{r.resource}/{r.subresource}" if r.subresource else r.resource for r in requests}
    wanted |= {f"*/{r.subresource}" for r in requests if r.subresource}
    kept = tuple(res for res in rule.resources if res in wanted)
    return replace(rule, resources=kept) if kept else rule


def core_wildcard(rule: PolicyRule) -> bool:
    """A wildcard that reaches Kubernetes' own APIs (any group, or a built-in one) — not one
    confined to a project's own API groups (`*` on `argoproj.io`)."""
    if rule.non_resource_urls:
        return "*" in rule.non_resource_urls or "*" in rule.verbs
    return "*" in rule.api_groups or any(g in BUILTIN for g in rule.api_groups)


class RoleGrants:
    """The `role` facts of every Role and ClusterRole of one RBAC graph (aggregation included)."""

    def __init__(self, graph: RbacGraph) -> None:
        self.graph = graph
        self._aggregated_into: dict[Ref, list[Ref]] = defaultdict(list)
        for role in graph.roles.values():
            for src in dict.fromkeys(src for _, src in role.rules if src is not None):
                self._aggregated_into[src].append(role.ref)

    def reach(self, ref: Ref) -> dict[str, Any]:
        """Where the role's rules apply: `cluster`, `namespaces` (RoleBindings), `namespace` (a
        Role) or `unbound` (a ClusterRole no binding in the scan uses), with the words for it
        (`where`; `clusterWhere` for grants on cluster-scoped resources, which RoleBindings never give)."""
        if ref.kind == "Role":
            where = f"in namespace {ref.namespace}"
            return {"reach": "namespace", "namespaces": [ref.namespace], "where": where, "clusterWhere": where}
        bindings = [b for r in (ref, *self._aggregated_into.get(ref, ())) for b in self.graph.by_role.get(r, ())]
        cluster = sorted(b.ref.name for b in bindings if b.scope is None)
        if cluster:
            more = f" and {len(cluster) - 1} more" if len(cluster) > 1 else ""
            where = f"cluster-wide (ClusterRoleBinding {cluster[0]}{more})"
            return {"reach": "cluster", "namespaces": ["*"], "where": where, "clusterWhere": where}
        namespaces = sorted({b.scope for b in bindings if b.scope is not None})
        if namespaces:
            word = "namespace" if len(namespaces) == 1 else "namespaces"
            return {"reach": "namespaces", "namespaces": namespaces,
                    "where": f"only in {word} {_words(namespaces)} (bound by RoleBinding)",
                    "clusterWhere": f"nowhere yet: only RoleBindings bind it (in {_words(namespaces)}), and they "
                                    "grant nothing on cluster-scoped resources"}
        where = "wherever it is bound (no binding in this scan)"
        return {"reach": "unbound", "namespaces": [], "where": where, "clusterWhere": where}

    def facts(self, obj: dict[str, Any], ref: Ref) -> dict[str, Any]:
        role = self.graph.role(ref)
        rules = role.rules if role else []
        raw_rules = obj.get("rules") if isinstance(obj.get("rules"), list) else []
        own = [PolicyRule.parse(r) if isinstance(r, dict) else None for r in raw_rules]

        def match(rule: PolicyRule, src: Ref | None, requests: tuple[Request, ...] = ()) -> dict[str, Any]:
            index = own.index(rule) if src is None and rule in own else -1
            return {"text": describe(_narrowed(rule, requests)), "rule": rule.as_dict(),
                    "path": f"rules[{index}]" if index >= 0 else f"aggregated from {src}"}

        # A rule over `*` resources or API groups is one finding (K8S-RBAC-WILDCARD), not one per
        # class its `*` also reaches; `*` verbs on named resources count in their classes too.
        wild = [(rule, src) for rule, src in rules if rule.wildcard or "*" in rule.api_groups]
        explicit = [(rule, src) for rule, src in rules if "*" not in rule.resources and "*" not in rule.api_groups]
        grants = {cls: [match(rule, src, requests) for rule, src in explicit
                        if any(req.matches(rule) for req in requests)]
                  for cls, requests in ROLE_CLASSES.items()}
        wildcards = [{**match(rule, src), "core": core_wildcard(rule)} for rule, src in wild]
        return {**self.reach(ref), "grants": grants, "wildcards": wildcards}
