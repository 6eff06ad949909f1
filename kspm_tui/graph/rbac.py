"""Effective RBAC permissions and who-can, with the Kubernetes authorizer's semantics.

Matching follows `plugin/pkg/auth/authorizer/rbac` (`RuleAllows`, `appliesToUser`) and
`pkg/apis/rbac/v1/evaluation_helpers.go` (`VerbMatches`, `APIGroupMatches`,
`ResourceMatches` with `*/subresource`, `ResourceNameMatches`, `NonResourceURLMatches` with a
trailing `*`): a RoleBinding grants only in its own namespace, a ClusterRoleBinding
everywhere and on cluster-scoped resources; a ServiceAccount subject without a namespace
means the binding's namespace; aggregated ClusterRoles gather the rules of the ClusterRoles
their `aggregationRule` selects. Subjects are also members of the implicit groups the API
server adds (`system:serviceaccounts[:NS]`, `system:authenticated`, `system:unauthenticated`).

The graph is built once per snapshot; queries touch roles first (thousands) and bindings
only through an index, so who-can stays fast on very large clusters.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from kspm_tui.graph.selectors import selector_matches
from kspm_tui.kinds import BUILTIN, CLUSTER_SCOPED
from kspm_tui.perf import paused_gc
from kspm_tui.snapshot import Snapshot, namespace_of

RBAC_GROUP = "rbac.authorization.k8s.io"
SA_PREFIX = "system:serviceaccount:"
ANONYMOUS = "system:anonymous"
AUTHENTICATED = "system:authenticated"
UNAUTHENTICATED = "system:unauthenticated"
ALL_SERVICEACCOUNTS = "system:serviceaccounts"
IMPLICIT_GROUPS = frozenset({AUTHENTICATED, UNAUTHENTICATED, ALL_SERVICEACCOUNTS})
SUBJECT_KINDS = ("ServiceAccount", "User", "Group")
URL_RULES = "<nonResourceURLs>"  # rule-index bucket of non-resource rules

# Bootstrap ClusterRoles every cluster has; used only when the snapshot lacks them (a folder
# of manifests that binds `cluster-admin` without shipping it).
DEFAULT_CLUSTER_ROLES: dict[str, list[dict[str, Any]]] = {
    "cluster-admin": [
        {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
        {"nonResourceURLs": ["*"], "verbs": ["*"]},
    ],
}


def plural(kind: str) -> str:
    """The resource name of a built-in kind (`NetworkPolicy` → `networkpolicies`)."""
    low = kind.lower()
    if low.endswith(("s", "x", "ch", "sh")):
        return low + "es"
    if low.endswith("y") and low[-2:-1] not in "aeiou":
        return low[:-1] + "ies"
    return low + "s"


def _resource_groups() -> dict[str, str]:
    groups: dict[str, str] = {}
    for group, kinds in sorted(BUILTIN.items()):  # "" first: core wins for Event
        for kind in kinds:
            groups.setdefault(plural(kind), group)
    groups.update({"users": "", "groups": "", "userextras": "authentication.k8s.io",
                   "signers": "certificates.k8s.io"})
    return groups


# resource → API group, so `who-can get deployments` means apps/deployments as kubectl would.
RESOURCE_GROUPS = _resource_groups()
CLUSTER_RESOURCES = frozenset(plural(k) for k in CLUSTER_SCOPED) | {"users", "groups", "userextras", "signers"}


class Ref(NamedTuple):
    """Kind, namespace and name of an object in the graph (namespace None: cluster-scoped).

    Refs and Subjects are named tuples: they are dictionary keys in hot loops, and tuple
    hashing runs in C.
    """

    kind: str
    namespace: str | None
    name: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}" if self.namespace else f"{self.kind}/{self.name}"

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "namespace": self.namespace, "name": self.name}


class Subject(NamedTuple):
    """Who a binding grants to. Only ServiceAccounts have a namespace."""

    kind: str
    name: str
    namespace: str | None = None

    @property
    def ref(self) -> Ref:
        return Ref(self.kind, self.namespace, self.name)

    @property
    def username(self) -> str | None:
        """The user name the API server authenticates this subject as (None for groups)."""
        if self.kind == "ServiceAccount":
            return f"{SA_PREFIX}{self.namespace}:{self.name}"
        return self.name if self.kind == "User" else None

    def __str__(self) -> str:
        return str(self.ref)

    def as_dict(self) -> dict[str, Any]:
        return self.ref.as_dict()


@dataclass(frozen=True, slots=True)
class PolicyRule:
    """One `rules[]` entry, normalised to tuples so it can be hashed and deduplicated."""

    verbs: tuple[str, ...]
    api_groups: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()
    non_resource_urls: tuple[str, ...] = ()

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> PolicyRule:
        def strings(key: str) -> tuple[str, ...]:
            value = raw.get(key) or ()
            return tuple(str(v) for v in value) if isinstance(value, list) else ()

        return cls(strings("verbs"), strings("apiGroups"), strings("resources"),
                   strings("resourceNames"), strings("nonResourceURLs"))

    def allows(self, verb: str, group: str | None, resource: str, subresource: str = "",
               name: str = "") -> bool:
        """`RuleAllows` for a resource request; group None matches any group (unknown resource)."""
        verbs = self.verbs
        if "*" not in verbs and verb not in verbs:
            return False
        if group is not None and "*" not in self.api_groups and group not in self.api_groups:
            return False
        combined = f"{resource}/{subresource}" if subresource else resource
        if not self._resource_matches(combined, subresource):
            return False
        return not self.resource_names or name in self.resource_names

    def _resource_matches(self, combined: str, subresource: str) -> bool:
        for res in self.resources:
            if res == "*" or res == combined:
                return True
            if subresource and len(res) == len(subresource) + 2 and res.startswith("*/") \
                    and res.endswith(subresource):
                return True
        return False

    def allows_url(self, verb: str, path: str) -> bool:
        """`RuleAllows` for a non-resource request (`/healthz`, `/logs/*`)."""
        if "*" not in self.verbs and verb not in self.verbs:
            return False
        for url in self.non_resource_urls:
            if url == "*" or url == path or (url.endswith("*") and path.startswith(url.rstrip("*"))):
                return True
        return False

    @property
    def wildcard(self) -> bool:
        return "*" in self.verbs or "*" in self.resources or "*" in self.non_resource_urls

    def text(self) -> str:
        """`get,list secrets [names: a]`, `* *.*`, `get deployments.apps`, `get /healthz`: kubectl style."""
        verbs = ",".join(self.verbs) or "-"
        if self.non_resource_urls:
            return f"{verbs} {','.join(self.non_resource_urls)} (non-resource URLs)"
        where = ",".join(f"{r}.{g}" if g else r for r in self.resources for g in self.api_groups) or "-"
        names = f" [names: {','.join(self.resource_names)}]" if self.resource_names else ""
        return f"{verbs} {where}{names}"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"verbs": list(self.verbs)}
        if self.non_resource_urls:
            out["nonResourceURLs"] = list(self.non_resource_urls)
        else:
            out.update(apiGroups=list(self.api_groups), resources=list(self.resources))
        if self.resource_names:
            out["resourceNames"] = list(self.resource_names)
        return out


@dataclass(slots=True)
class Role:
    """A Role or ClusterRole with its effective rules (own ones plus aggregated ones)."""

    ref: Ref
    obj: dict[str, Any] | None
    rules: list[tuple[PolicyRule, Ref | None]] = field(default_factory=list)  # (rule, aggregated from)
    default: bool = False  # a bootstrap role assumed because the snapshot lacks it


@dataclass(slots=True)
class Binding:
    ref: Ref
    role_ref: Ref  # Role in the binding's namespace, or ClusterRole
    subjects: tuple[Subject, ...]
    scope: str | None  # where it grants: a RoleBinding's namespace, None (everywhere) for a ClusterRoleBinding
    ranks: tuple[int, ...] = ()  # each subject's position in the graph's sorted subjects (who-can's order)


@dataclass(slots=True)
class Grant:
    """One rule a subject holds, and the chain that gives it: binding → role → rule."""

    subject: Subject  # as named in the binding (may be a group the queried subject is in)
    binding: Ref
    role: Ref
    rule: PolicyRule
    scope: str | None  # namespace, or None for cluster-wide
    aggregated_from: Ref | None = None
    default_role: bool = False

    def chain(self) -> str:
        via = f" (aggregated from {self.aggregated_from})" if self.aggregated_from else ""
        assumed = " (built-in default)" if self.default_role else ""
        return f"{self.binding} → {self.role}{assumed}{via} → {self.rule.text()}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject.as_dict(),
            "scope": self.scope or "*",
            "binding": self.binding.as_dict(),
            "role": self.role.as_dict(),
            "aggregatedFrom": self.aggregated_from.as_dict() if self.aggregated_from else None,
            "defaultRole": self.default_role,
            "rule": self.rule.as_dict(),
            "chain": self.chain(),
        }


@dataclass(frozen=True, slots=True, eq=False)
class Request:
    """What who-can asks: a resource request, or a non-resource URL when `path` is set.

    Compared by identity: the risk classes keep their requests as constants and test
    membership millions of times on large clusters.
    """

    verb: str
    resource: str = ""
    subresource: str = ""
    name: str = ""
    namespace: str | None = None  # None: any namespace, and cluster-scoped resources
    group: str | None = None  # None: as the resource's built-in group, or any group
    path: str = ""

    @classmethod
    def parse(cls, verb: str, resource: str, *, namespace: str | None = None, subresource: str = "",
              name: str = "") -> Request:
        """kubectl-style `pods`, `pods/exec`, `deployments.apps/scale`, or a `/url`."""
        if resource.startswith("/"):
            return cls(verb=verb, path=resource)
        res, _, sub = resource.partition("/")
        res, _, group = res.partition(".")
        group_or_default = group if group else RESOURCE_GROUPS.get(res)
        return cls(verb, res, subresource or sub, name, namespace, group_or_default)

    @property
    def cluster_scoped(self) -> bool:
        if self.resource == "namespaces" and self.name:
            return False  # the API server files `get namespace foo` under namespace foo
        return bool(self.path) or self.resource in CLUSTER_RESOURCES

    def matches(self, rule: PolicyRule) -> bool:
        if self.path:
            return rule.allows_url(self.verb, self.path)
        return rule.allows(self.verb, self.group, self.resource, self.subresource, self.name)

    def applies_in(self, scope: str | None) -> bool:
        """Whether a grant in `scope` (None = cluster-wide) covers this request."""
        if scope is None:
            return True
        if self.cluster_scoped:
            return False
        return self.request_namespace is None or self.request_namespace == scope

    @property
    def request_namespace(self) -> str | None:
        """The namespace the authorizer sees; for a named Namespace object, that namespace."""
        return self.name if self.resource == "namespaces" and self.name else self.namespace


class RbacGraph:
    """Roles, bindings and subjects of one snapshot, indexed for who-can and effective rules."""

    def __init__(self) -> None:
        self.roles: dict[Ref, Role] = {}
        self.bindings: dict[Ref, Binding] = {}
        self.by_subject: dict[Subject, list[Binding]] = defaultdict(list)
        self.by_user: dict[str, list[Binding]] = defaultdict(list)  # User subjects by name
        self.by_role: dict[Ref, list[Binding]] = defaultdict(list)
        self.by_role_scope: dict[tuple[Ref, str | None], list[Binding]] = defaultdict(list)
        # resource token (`pods`, `pods/exec`, `*`, `*/scale`, URL_RULES) → (role, rule, aggregated from)
        self.rule_index: dict[str, list[tuple[Role, PolicyRule, Ref | None]]] = defaultdict(list)
        self.service_accounts: set[Subject] = set()
        self.namespaces: set[str] = set()

    # -- lookups ----------------------------------------------------------------------
    def role(self, ref: Ref) -> Role | None:
        return self.roles.get(ref)

    def groups_of(self, subject: Subject) -> list[str]:
        """The groups the API server puts this subject in (beyond those from its IdP)."""
        if subject.kind == "ServiceAccount":
            return [ALL_SERVICEACCOUNTS, f"{ALL_SERVICEACCOUNTS}:{subject.namespace}", AUTHENTICATED]
        if subject.kind == "User":
            return [UNAUTHENTICATED] if subject.name == ANONYMOUS else [AUTHENTICATED]
        return []

    def subjects(self) -> list[Subject]:
        """Everyone named in a binding, and every ServiceAccount in the snapshot."""
        found = set(self.by_subject) | self.service_accounts
        return sorted(found, key=lambda s: (SUBJECT_KINDS.index(s.kind), s.namespace or "", s.name))

    def bindings_of(self, subject: Subject) -> list[tuple[Binding, Subject]]:
        """Bindings naming `subject` directly, as a user name, or through its implicit groups,
        each with the subject entry that matched."""
        out = [(b, subject) for b in self.by_subject.get(subject, ())]
        username = subject.username
        if subject.kind == "ServiceAccount" and username:
            as_user = Subject("User", username)
            out += [(b, as_user) for b in self.by_user.get(username, ())]
        for group in self.groups_of(subject):
            g = Subject("Group", group)
            out += [(b, g) for b in self.by_subject.get(g, ())]
        return out

    def _grants(self, binding: Binding, named: Subject) -> Iterator[Grant]:
        role = self.roles.get(binding.role_ref)
        if role is None:
            return
        for rule, source in role.rules:
            yield Grant(named, binding.ref, role.ref, rule, binding.scope, source, role.default)

    def effective(self, subject: Subject) -> list[Grant]:
        """Every rule `subject` holds, with its scope and chain, cluster-wide grants first."""
        grants = [g for b, named in self.bindings_of(subject) for g in self._grants(b, named)]
        return sorted(grants, key=lambda g: (g.scope is not None, g.scope or "", str(g.binding)))

    def can(self, subject: Subject, request: Request) -> list[Grant]:
        """The grants that let `subject` make `request` (empty: denied)."""
        return [g for b, named in self.bindings_of(subject) if request.applies_in(b.scope)
                for g in self._grants(b, named) if request.matches(g.rule)]

    def _candidate_rules(self, request: Request) -> list[tuple[Role, list[tuple[PolicyRule, Ref | None]]]]:
        """Rules that can match `request`, by role: only index buckets the request can hit."""
        if request.path:
            tokens: tuple[str, ...] = (URL_RULES,)
        elif request.subresource:
            tokens = ("*", f"{request.resource}/{request.subresource}", f"*/{request.subresource}")
        else:
            tokens = ("*", request.resource)
        matched: dict[Ref, tuple[Role, list[tuple[PolicyRule, Ref | None]]]] = {}
        for token in tokens:
            for role, rule, src in self.rule_index.get(token, ()):
                if request.matches(rule):
                    rules = matched.setdefault(role.ref, (role, []))[1]
                    if (rule, src) not in rules:
                        rules.append((rule, src))
        return list(matched.values())

    def who_can(self, request: Request) -> list[Grant]:
        """Subjects allowed to make `request`, each with the binding → role → rule chain."""
        with paused_gc():
            return self._who_can(request)

    def _who_can(self, request: Request) -> list[Grant]:
        # Grants are collected per subject, by the subject's precomputed rank, and the ranks
        # sorted: ordering ~10^4 ints, not sorting ~10^5 grants by subject tuples.
        by_rank: dict[int, list[Grant]] = {}
        for role, matched in self._candidate_rules(request):
            ref, default = role.ref, role.default
            namespace = request.request_namespace
            if namespace is not None and not request.cluster_scoped:
                bindings = self.by_role_scope.get((ref, None), []) + self.by_role_scope.get((ref, namespace), [])
            else:
                bindings = self.by_role.get(ref, [])
            for binding in bindings:
                scope = binding.scope
                if scope is not None and request.cluster_scoped:
                    continue
                binding_ref = binding.ref
                for subject, rank in zip(binding.subjects, binding.ranks):
                    grants = by_rank.get(rank)
                    if grants is None:
                        grants = by_rank[rank] = []
                    for rule, src in matched:
                        grants.append(Grant(subject, binding_ref, ref, rule, scope, src, default))
        # Subjects in order (kind: Group, ServiceAccount, User; name; namespace); one subject's
        # grants keep the order they were found in.
        return [grant for rank in sorted(by_rank) for grant in by_rank[rank]]


def _subject(raw: dict[str, Any], binding_ns: str | None) -> Subject | None:
    kind = raw.get("kind")
    name = raw.get("name")
    if kind not in SUBJECT_KINDS or not isinstance(name, str) or not name:
        return None
    if kind == "ServiceAccount":
        namespace = raw.get("namespace") or binding_ns
        return Subject(kind, name, namespace) if namespace else None
    return Subject(kind, name)


def _aggregate(roles: dict[Ref, Role]) -> None:
    """Fill aggregated ClusterRoles with the rules of the ClusterRoles they select (transitively)."""
    labels = {ref: (role.obj or {}).get("metadata", {}).get("labels") or {} for ref, role in roles.items()
              if ref.kind == "ClusterRole"}
    aggregators = {ref: role for ref, role in roles.items()
                   if ref.kind == "ClusterRole" and role.obj and role.obj.get("aggregationRule")}
    done: set[Ref] = set()
    for ref in aggregators:
        _resolve(ref, set(), roles, aggregators, labels, done)


def _resolve(ref: Ref, visiting: set[Ref], roles: dict[Ref, Role], aggregators: dict[Ref, Role],
             labels: dict[Ref, dict[str, str]], done: set[Ref]) -> list[tuple[PolicyRule, Ref | None]]:
    """The rules of `ref`, aggregated ones included (a plain function, not a recursive closure:
    that would be a reference cycle keeping every role alive after the scan)."""
    role = roles[ref]
    if ref not in aggregators or ref in done or ref in visiting:
        return role.rules
    visiting.add(ref)
    selectors = aggregators[ref].obj["aggregationRule"].get("clusterRoleSelectors") or []  # type: ignore[index]
    seen = {rule for rule, _ in role.rules}
    for other, other_labels in labels.items():
        if other == ref or not any(selector_matches(s, other_labels) for s in selectors):
            continue
        for rule, src in _resolve(other, visiting, roles, aggregators, labels, done):
            if rule not in seen:
                seen.add(rule)
                role.rules.append((rule, src or other))
    done.add(ref)
    return role.rules


def build_rbac(snapshot: Snapshot) -> RbacGraph:
    """The RBAC graph of a snapshot: roles (aggregated), bindings and the subject index.

    The cyclic garbage collector is paused while building (and answering who-can): the graph
    adds ~10^5 small acyclic objects next to a large snapshot, and collections triggered by
    those allocations would re-scan the whole snapshot again and again.
    """
    with paused_gc():
        return _build(snapshot)


def _build(snapshot: Snapshot) -> RbacGraph:
    graph = RbacGraph()
    for kind in ("Role", "ClusterRole"):
        for item in snapshot.of_kind(kind):
            obj = item.obj
            ref = Ref(kind, namespace_of(obj), obj["metadata"]["name"])
            rules = []
            seen: set[PolicyRule] = set()
            for raw in obj.get("rules") or ():
                if isinstance(raw, dict) and (rule := PolicyRule.parse(raw)) not in seen:
                    seen.add(rule)
                    rules.append((rule, None))
            graph.roles[ref] = Role(ref, obj, rules)
    _aggregate(graph.roles)
    for name, raw_rules in DEFAULT_CLUSTER_ROLES.items():
        ref = Ref("ClusterRole", None, name)
        if ref not in graph.roles:
            graph.roles[ref] = Role(ref, None, [(PolicyRule.parse(r), None) for r in raw_rules], default=True)
    for role in graph.roles.values():
        for rule, src in role.rules:
            tokens = [URL_RULES] if rule.non_resource_urls else rule.resources
            for token in dict.fromkeys(tokens):
                graph.rule_index[token].append((role, rule, src))
    for kind in ("RoleBinding", "ClusterRoleBinding"):
        for item in snapshot.of_kind(kind):
            _add_binding(graph, kind, item.obj)
    for item in snapshot.of_kind("ServiceAccount"):
        obj = item.obj
        graph.service_accounts.add(Subject("ServiceAccount", obj["metadata"]["name"], namespace_of(obj)))
    graph.namespaces = {item.obj["metadata"]["name"] for item in snapshot.of_kind("Namespace")}
    named = {subject for binding in graph.bindings.values() for subject in binding.subjects}
    rank = {subject: i for i, subject in enumerate(sorted(named))}
    for binding in graph.bindings.values():
        binding.ranks = tuple(rank[subject] for subject in binding.subjects)
    return graph


def _add_binding(graph: RbacGraph, kind: str, obj: dict[str, Any]) -> None:
    namespace = namespace_of(obj)
    role_ref = obj.get("roleRef") or {}
    role_kind = role_ref.get("kind", "")
    if role_kind not in ("Role", "ClusterRole") or not role_ref.get("name"):
        return
    role = Ref(role_kind, namespace if role_kind == "Role" else None, str(role_ref["name"]))
    subjects = tuple(s for raw in obj.get("subjects") or () if isinstance(raw, dict)
                     and (s := _subject(raw, namespace)) is not None)
    scope = namespace if kind == "RoleBinding" else None
    binding = Binding(Ref(kind, namespace, obj["metadata"]["name"]), role, subjects, scope)
    graph.bindings[binding.ref] = binding
    graph.by_role[role].append(binding)
    graph.by_role_scope[(role, scope)].append(binding)
    for subject in set(subjects):
        graph.by_subject[subject].append(binding)
        if subject.kind == "User":
            graph.by_user[subject.name].append(binding)


def parse_subject(text: str, candidates: Iterable[Subject]) -> Subject | list[Subject]:
    """`ServiceAccount/ns/name`, `sa/ns/name`, `User/alice`, `Group/devs`,
    `system:serviceaccount:ns:name`, or a bare name; a list when ambiguous or unknown."""
    aliases = {"serviceaccount": "ServiceAccount", "sa": "ServiceAccount", "user": "User", "group": "Group"}
    if text.startswith(SA_PREFIX):
        ns, _, name = text[len(SA_PREFIX):].partition(":")
        return Subject("ServiceAccount", name, ns)
    head, sep, rest = text.partition("/")
    if sep and head.lower() in aliases:
        kind = aliases[head.lower()]
        if kind == "ServiceAccount":
            ns, _, name = rest.partition("/")
            return Subject(kind, name, ns) if name else [s for s in candidates if s.kind == kind and s.name == ns]
        return Subject(kind, rest)
    return [s for s in candidates if s.name == text or str(s) == text]
