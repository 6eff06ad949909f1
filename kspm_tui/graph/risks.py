"""What a subject's effective permissions let it do: the RBAC risk classes.

Each class is a set of requests asked of the real authorizer semantics in `rbac.py`
(`can this subject create pods in kube-system?`), not a pattern over role text, so
wildcards, `*/subresource`, aggregated roles and implicit groups count exactly as the API
server counts them. Requests are matched once per role and reused for every binding and
subject, which keeps facts for tens of thousands of service accounts cheap.

The facts feed `subject`-scope rules (`rules/rbac-graph/`) and the attack-path graph.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kspm_tui.graph.rbac import (
    ANONYMOUS,
    IMPLICIT_GROUPS,
    RBAC_GROUP,
    UNAUTHENTICATED,
    Binding,
    PolicyRule,
    RbacGraph,
    Ref,
    Request,
    Subject,
)

CERT_GROUP = "certificates.k8s.io"
ADMISSION_GROUP = "admissionregistration.k8s.io"
APIREG_GROUP = "apiregistration.k8s.io"
WRITE = ("create", "update", "patch")
# What rewrites objects at admission: a webhook sees (and may change) everything it matches,
# a MutatingAdmissionPolicy patches it in CEL.
MUTATING_ADMISSION = ("mutatingwebhookconfigurations", "mutatingadmissionpolicies",
                       "mutatingadmissionpolicybindings")
VALIDATING_ADMISSION = ("validatingwebhookconfigurations", "validatingadmissionpolicies",
                         "validatingadmissionpolicybindings")
POD_CREATORS = (("pods", ""), ("deployments", "apps"), ("daemonsets", "apps"), ("statefulsets", "apps"),
                 ("replicasets", "apps"), ("jobs", "batch"), ("cronjobs", "batch"),
                 ("replicationcontrollers", ""))


@dataclass(frozen=True, slots=True)
class Technique:
    """A way to become cluster-admin. `needs`: every group must be granted (any request of it).

    `where`: `cluster` — only a cluster-wide grant counts; `privileged` — a grant in a
    privileged namespace (kube-system, PSA `privileged`) counts too.
    """

    id: str
    label: str
    needs: tuple[tuple[Request, ...], ...]
    where: str = "cluster"


def _any(*requests: Request) -> tuple[Request, ...]:
    return requests


ESCALATION: tuple[Technique, ...] = (
    Technique("impersonate", "impersonate users, groups or service accounts", (_any(
        *(Request("impersonate", r, group="") for r in ("users", "groups", "serviceaccounts"))),)),
    Technique("bind", "bind any ClusterRole, cluster-admin included", (_any(
        Request("bind", "clusterroles", group=RBAC_GROUP)),)),
    Technique("escalate", "escalate: write ClusterRoles with permissions it does not hold", (_any(
        Request("escalate", "clusterroles", group=RBAC_GROUP)),)),
    Technique("modify-rbac", "create, update or patch ClusterRoles or ClusterRoleBindings", (_any(
        *(Request(v, r, group=RBAC_GROUP) for v in ("create", "update", "patch")
          for r in ("clusterroles", "clusterrolebindings"))),)),
    Technique("create-pods", "create pods (or pod controllers) in privileged namespaces", (_any(
        *(Request("create", r, group=g) for r, g in POD_CREATORS)),), "privileged"),
    Technique("serviceaccount-token", "create tokens for service accounts (serviceaccounts/token)", (_any(
        Request("create", "serviceaccounts", "token", group="")),), "privileged"),
    Technique("approve-csr", "approve certificate signing requests (mint client certificates)", (
        _any(*(Request(v, "certificatesigningrequests", "approval", group=CERT_GROUP)
               for v in ("update", "patch"))),
        _any(Request("approve", "signers", group=CERT_GROUP)),
    )),
    Technique("nodes-proxy", "proxy to every kubelet's API (nodes/proxy: exec in any pod)", (_any(
        *(Request(v, "nodes", "proxy", group="") for v in ("get", "create"))),)),
    Technique("apiservices", "register APIServices (redirect an API group, and the tokens sent to it, "
              "to a service it controls)", (_any(
                  *(Request(v, "apiservices", group=APIREG_GROUP) for v in WRITE)),)),
    Technique("mutating-admission", "write mutating webhooks or admission policies (rewrite any pod "
              "at admission: a privileged container, another service account)", (_any(
                  *(Request(v, r, group=ADMISSION_GROUP) for v in WRITE for r in MUTATING_ADMISSION)),)),
)
CLUSTER_ADMIN = Request("*", "*", group="*")
READ_SECRETS = (Request("get", "secrets", group=""), Request("list", "secrets", group=""))
EXEC = tuple(Request(v, "pods", sub, group="") for v in ("create", "get") for sub in ("exec", "attach"))
ALL_REQUESTS: tuple[Request, ...] = tuple(dict.fromkeys(
    [CLUSTER_ADMIN, *READ_SECRETS, *EXEC,
     *(r for t in ESCALATION for group in t.needs for r in group)]))


@dataclass(frozen=True, slots=True)
class Hit:
    """One grant that answers one risk request for a subject."""

    request: Request
    subject: Subject  # as named in the binding (the subject itself, or a group it is in)
    binding: Ref
    role: Ref
    rule: PolicyRule
    scope: str | None

    def chain(self) -> str:
        where = "cluster-wide" if self.scope is None else f"in {self.scope}"
        via = f" as {self.subject}" if self.subject.kind == "Group" else ""
        return f"{self.binding}{via} → {self.role} → {self.rule.text()} ({where})"

    def as_dict(self) -> dict[str, Any]:
        return {"binding": self.binding.as_dict(), "role": self.role.as_dict(), "via": str(self.subject),
                "rule": self.rule.text(), "scope": self.scope or "*", "chain": self.chain()}


@dataclass(slots=True)
class SubjectRisk:
    subject: Subject
    cluster_admin: list[Hit] = field(default_factory=list)
    escalation: dict[str, list[Hit]] = field(default_factory=dict)  # technique id → hits
    read_secrets: list[Hit] = field(default_factory=list)  # cluster-wide
    secret_namespaces: list[str] = field(default_factory=list)
    exec_: list[Hit] = field(default_factory=list)

    @property
    def can_escalate(self) -> bool:
        return bool(self.escalation)


def is_system_subject(subject: Subject, system_namespaces: Iterable[str]) -> bool:
    """Control-plane identities (`system:kube-scheduler`, SAs in kube-system): powerful by design.

    The implicit groups and the anonymous user are not: binding them is a real finding.
    """
    if subject.kind == "ServiceAccount":
        return subject.namespace in set(system_namespaces)
    name = subject.name
    if name == ANONYMOUS or name in IMPLICIT_GROUPS or name.startswith("system:serviceaccounts:"):
        return False
    return name.startswith("system:")


class RiskIndex:
    """Risk facts per subject over one RbacGraph; per-role request matches are cached."""

    def __init__(self, graph: RbacGraph, privileged_namespaces: Iterable[str]) -> None:
        self.graph = graph
        self.privileged = frozenset(privileged_namespaces)
        self._role_hits: dict[Ref, list[tuple[Request, PolicyRule]]] = {}
        self._cache: dict[Subject, SubjectRisk] = {}

    def _hits_of_role(self, ref: Ref) -> list[tuple[Request, PolicyRule]]:
        cached = self._role_hits.get(ref)
        if cached is None:
            role = self.graph.role(ref)
            rules = [rule for rule, _ in role.rules] if role else []
            cached = self._role_hits[ref] = [(req, rule) for req in ALL_REQUESTS for rule in rules
                                             if req.matches(rule)]
        return cached

    def hits(self, binding: Binding, named: Subject) -> list[Hit]:
        return [Hit(req, named, binding.ref, binding.role_ref, rule, binding.scope)
                for req, rule in self._hits_of_role(binding.role_ref) if req.applies_in(binding.scope)]

    def risk(self, subject: Subject) -> SubjectRisk:
        cached = self._cache.get(subject)
        if cached is not None:
            return cached
        hits = [h for binding, named in self.graph.bindings_of(subject) for h in self.hits(binding, named)]
        risk = SubjectRisk(subject)
        risk.cluster_admin = [h for h in hits if h.request is CLUSTER_ADMIN and h.scope is None]
        for technique in ESCALATION:
            found: list[Hit] = []
            for group in technique.needs:
                matched = [h for h in hits if h.request in group and self._counts(h.scope, technique)]
                if not matched:
                    found = []
                    break
                found.extend(matched)
            if found:
                risk.escalation[technique.id] = found
        secret_hits = [h for h in hits if h.request in READ_SECRETS]
        risk.read_secrets = [h for h in secret_hits if h.scope is None]
        risk.secret_namespaces = sorted({h.scope or "*" for h in secret_hits})
        risk.exec_ = [h for h in hits if h.request in EXEC]
        self._cache[subject] = risk
        return risk

    def _counts(self, scope: str | None, technique: Technique) -> bool:
        return scope is None or (technique.where == "privileged" and scope in self.privileged)

    def facts(self, subject: Subject, system_namespaces: Iterable[str]) -> dict[str, Any]:
        """The `subject` variable of subject-scope rules (documented in rules/README.md)."""
        risk = self.risk(subject)
        bindings = self.graph.bindings_of(subject)
        labels = {t.id: t.label for t in ESCALATION}
        rules = [rule for binding, _ in bindings if (role := self.graph.role(binding.role_ref))
                 for rule, _ in role.rules]
        return {
            "kind": subject.kind,
            "name": subject.name,
            "namespace": subject.namespace or "",
            "key": str(subject),
            "system": is_system_subject(subject, system_namespaces),
            "anonymous": subject.name in (ANONYMOUS, UNAUTHENTICATED),
            "exists": subject.kind != "ServiceAccount" or subject in self.graph.service_accounts,
            "bindings": [{"kind": b.ref.kind, "namespace": b.ref.namespace or "", "name": b.ref.name,
                          "role": str(b.role_ref), "via": str(named)} for b, named in bindings],
            "clusterAdmin": bool(risk.cluster_admin),
            "clusterAdminVia": _chains(risk.cluster_admin),
            "canEscalate": risk.can_escalate,
            "escalation": [{"technique": tid, "label": labels[tid], "chain": hits[0].chain()}
                           for tid, hits in risk.escalation.items()],
            "canReadSecrets": bool(risk.read_secrets),
            "readSecretsVia": _chains(risk.read_secrets),
            "secretNamespaces": risk.secret_namespaces,
            "canExec": bool(risk.exec_),
            "execNamespaces": sorted({h.scope or "*" for h in risk.exec_}),
            "execVia": _chains(risk.exec_),
            "wildcard": any(rule.wildcard for rule in rules),
            "rules": len(rules),
        }


def _chains(hits: Iterable[Hit]) -> list[str]:
    """Distinct chains (one rule answering `get` and `list` is one chain)."""
    return list(dict.fromkeys(h.chain() for h in hits))


def privileged_namespaces(namespace_facts: dict[str, dict[str, Any]], system_namespaces: Iterable[str]) -> set[str]:
    """Namespaces where a new pod may be privileged and sits next to control-plane credentials:
    the system namespaces, and namespaces whose PSA enforce level is `privileged`."""
    found = set(system_namespaces)
    found.update(name for name, facts in namespace_facts.items()
                 if facts.get("psa", {}).get("enforce") == "privileged")
    return found
