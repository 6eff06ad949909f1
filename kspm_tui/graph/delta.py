"""Graph deltas: which evaluation units a batch of changed objects can affect.

A unit is the (kind, namespace, name) findings attach to: a top-level workload (its
containers, pod template and attack paths), any other object, a Namespace, an RBAC subject
(a ServiceAccount's unit is its object's key). A watch re-evaluates the units a batch touches
and keeps every other finding; `tests/test_watch_incremental.py` proves the result equal to
evaluating the whole snapshot again, on random change sequences.

What a changed object feeds, before and after the change:
- a RoleBinding/ClusterRoleBinding: the subjects it names → the workloads running as those
  ServiceAccounts (their `workload` facts and attack paths); its role (the `role` facts say
  where a role is bound); an implicit group (`system:authenticated`, ...) reaches everyone;
- a Role/ClusterRole: itself, the aggregated ClusterRoles that pull its rules, the bindings
  referencing any of them, and on through their subjects;
- a ServiceAccount: its subject, the workloads running as it, the bindings naming it (and a
  Namespace the bindings naming its `default` ServiceAccount);
- a Service, Ingress or HTTPRoute: the workloads the Service selects (old and new selector);
- a NetworkPolicy: the workloads in its namespace its pod selector picks (old and new);
- a workload object: its top-level owner (the caller resolves it) and that owner's Namespace
  (`ns.podSecurity` and `ns.workloads` read every workload there).
Facts that span many units are compared whole before and after (`Facts`): a namespace whose
facts changed re-evaluates everything in it; changed cluster facts or privileged namespaces
re-evaluate everything; changed node addresses every workload; changed ingress controllers
the workloads routed through an Ingress or HTTPRoute.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kspm_tui.graph.exposure import _ingress_backends, _route_backends, nodes_have_external_addresses
from kspm_tui.graph.facts import cluster_facts, namespace_facts, policy_engine
from kspm_tui.graph.identity import service_account_name
from kspm_tui.graph.paths import Reachability
from kspm_tui.graph.rbac import IMPLICIT_GROUPS, SA_PREFIX, Subject, _subject
from kspm_tui.graph.risks import privileged_namespaces
from kspm_tui.graph.selectors import map_selector_matches, selector_matches
from kspm_tui.kinds import WORKLOAD_KINDS
from kspm_tui.snapshot import Key, Snapshot, Workload, key_of, namespace_of

BINDING_KINDS = frozenset({"RoleBinding", "ClusterRoleBinding"})
ROLE_KINDS = frozenset({"Role", "ClusterRole"})
ROUTE_KINDS = frozenset({"Service", "Ingress", "HTTPRoute"})
Change = tuple[dict[str, Any] | None, dict[str, Any] | None]  # (before, after); None: absent


@dataclass(slots=True)
class Facts:
    """The facts of a whole snapshot that many units read; compared before and after a batch."""

    namespaces: dict[str, dict[str, Any]]
    cluster: dict[str, Any]
    privileged: frozenset[str]
    workloads: dict[Key, tuple[str | None, dict[str, str], Subject]]  # key → namespace, pod labels, its SA
    reach: Reachability
    nodes_external: bool | None
    by_account: dict[Subject, list[Key]] = field(default_factory=dict)
    # objects per namespace (what makes a namespace referenced) and workload-kind objects per
    # namespace (the cluster's `appNamespaces`), counted so a batch updates them by its changes
    objects_in: Counter[str] = field(default_factory=Counter)
    workload_objects_in: Counter[str | None] = field(default_factory=Counter)
    _in_ns: dict[str | None, list[Key]] | None = field(default=None, compare=False, repr=False)

    def workloads_in(self, namespace: str | None) -> list[Key]:
        """The workloads of a namespace (indexed on first use: a batch's Services and
        NetworkPolicies each select among their namespace's workloads)."""
        if self._in_ns is None:
            self._in_ns = defaultdict(list)
            for key, (ns, _, _) in self.workloads.items():
                self._in_ns[ns].append(key)
        return self._in_ns.get(namespace, [])

    @classmethod
    def of(cls, snapshot: Snapshot, system_namespaces: tuple[str, ...], reach: Reachability | None = None) -> Facts:
        """The facts of `snapshot`; `reach`: taken as is, not computed (a watch updates it)."""
        workloads = {key: _entry(w) for key, w in snapshot.workloads_by_key().items()}
        counts = Counter(w.namespace for w in snapshot.workloads())
        namespaces = namespace_facts(snapshot, system_namespaces, workload_counts=counts)
        privileged = frozenset(privileged_namespaces(namespaces, system_namespaces))
        return cls(namespaces, cluster_facts(snapshot), privileged, workloads, reach or Reachability.of(snapshot),
                   nodes_have_external_addresses(snapshot), _by_account(workloads),
                   Counter(ns for _, ns, _ in snapshot.index if ns),
                   Counter(ns for kind, ns, _ in snapshot.index if kind in WORKLOAD_KINDS))

    def updated(self, snapshot: Snapshot, system_namespaces: tuple[str, ...],
                changes: Iterable[Change]) -> Facts:
        """These facts after `changes` (already applied to `snapshot`), equal to `Facts.of`:
        the namespace facts of the namespaces the changes touch (their objects', a Namespace's
        own, those whose top-level workloads came or went), the cluster facts whose inputs
        changed, the entries of changed workloads; the rest kept. `reach` is kept for the
        caller to update (`Reachability.updated`)."""
        objects_in, workload_objects_in = Counter(self.objects_in), Counter(self.workload_objects_in)
        touched: set[str] = set()
        keys: set[Key] = set()
        engines_changed = components_changed = False
        for old, new in changes:
            for obj, step in ((old, -1), (new, 1)):
                if obj is None:
                    continue
                key = key_of(obj)
                keys.add(key)
                kind, ns = key[0], key[1]
                if ns:
                    objects_in[ns] += step
                    touched.add(ns)
                if kind in WORKLOAD_KINDS:
                    workload_objects_in[ns] += step
                if kind == "Namespace":
                    touched.add(key[2])
                engines_changed = engines_changed or policy_engine(obj) is not None
                components_changed = (components_changed or kind == "Node"
                                      or (kind == "Pod" and ns == "kube-system"))
        objects_in, workload_objects_in = +objects_in, +workload_objects_in  # drop the namespaces emptied
        workloads: dict[Key, tuple[str | None, dict[str, str], Subject]] = {}
        for key, workload in snapshot.workloads_by_key().items():
            entry = self.workloads.get(key)
            workloads[key] = entry if entry is not None and key not in keys else _entry(workload)
        touched.update(key[1] for key in self.workloads.keys() ^ workloads.keys() if key[1])
        names = sorted({i.obj["metadata"]["name"] for i in snapshot.of_kind("Namespace")} | objects_in.keys())
        counts = Counter(ns for ns, _, _ in workloads.values())
        fresh = namespace_facts(snapshot, system_namespaces, touched & set(names), counts)
        namespaces = {name: fresh[name] if name in fresh else self.namespaces[name] for name in names}
        cluster = cluster_facts(snapshot, None if engines_changed else self.cluster["policyEngines"],
                                None if components_changed else self.cluster["components"],
                                workload_objects_in.keys(), len(names))
        return Facts(namespaces, cluster, frozenset(privileged_namespaces(namespaces, system_namespaces)),
                     workloads, self.reach, nodes_have_external_addresses(snapshot), _by_account(workloads),
                     objects_in, workload_objects_in)


def _entry(workload: Workload) -> tuple[str | None, dict[str, str], Subject]:
    """A workload's namespace, pod labels and ServiceAccount (what selectors and bindings reach)."""
    labels = (workload.template.get("metadata") or {}).get("labels") or {}
    account = service_account_name(workload.template["spec"])
    return (workload.namespace, labels, Subject("ServiceAccount", account, workload.namespace or "default"))


def _by_account(workloads: dict[Key, tuple[str | None, dict[str, str], Subject]]) -> dict[Subject, list[Key]]:
    out: dict[Subject, list[Key]] = defaultdict(list)
    for key, (_, _, account) in workloads.items():
        out[account].append(key)
    return dict(out)


def _changed_objects(changes: Iterable[Change]) -> Iterator[dict[str, Any]]:
    """Each change's object before and after (an absent side skipped)."""
    for old, new in changes:
        yield from (obj for obj in (old, new) if obj is not None)


def reach_reached(snapshot: Snapshot, facts: Facts, changes: Iterable[Change]) -> set[Key] | None:
    """The workloads whose reachability (routes, isolation, controller entry) `changes` can
    alter besides the changed workloads themselves, which are the caller's (None: every one).

    A Service, Ingress or HTTPRoute reaches the workloads it routes to, a NetworkPolicy those
    it selects (old and new, `facts` are after the changes); a Node's addresses decide every
    node port and a Namespace's labels the ingress controllers' identity.
    """
    out: set[Key] = set()
    for obj in _changed_objects(changes):
        kind = obj["kind"]
        if kind in ("Node", "Namespace"):
            return None
        if kind in ROUTE_KINDS:
            out |= _routed(snapshot, facts, obj)
        elif kind == "NetworkPolicy":
            out |= _selected(facts, obj)
    return out


def affected(snapshot: Snapshot, before: Facts, after: Facts, changes: Iterable[Change],
             namespace_wide: Callable[[set[str]], bool]) -> set[Key] | None:
    """The units `changes` (already applied to `snapshot`) can affect; None: everything.

    The changed objects' own keys and their owners' are the caller's (it resolves owners
    before and after applying); these are the units reached through graph facts.
    `namespace_wide(fields)`: whether a change of these namespace facts reaches more than the
    Namespace itself (a rule on its workloads or objects reads one of them).
    """
    if before.cluster != after.cluster or before.privileged != after.privileged:
        return None
    units: set[Key] = set()
    subjects: set[Subject] = set()
    roles: set[Key] = set()
    for obj in _changed_objects(changes):
        kind = obj["kind"]
        if kind in BINDING_KINDS:
            named = _named(obj)
            if named is None:
                return None  # an implicit group: every ServiceAccount and user
            subjects |= named
            roles |= _role_refs(obj)
        elif kind in ROLE_KINDS:
            roles.add(key_of(obj))
        elif kind == "ServiceAccount":
            account = Subject("ServiceAccount", obj["metadata"]["name"], namespace_of(obj))
            subjects.add(account)
            units.update(_bindings_naming(snapshot, account))
        elif kind == "Namespace":  # a namespace's `default` ServiceAccount exists with it
            default = Subject("ServiceAccount", "default", obj["metadata"]["name"])
            units.update(_bindings_naming(snapshot, default))
        elif kind in ROUTE_KINDS:
            units.update(_routed(snapshot, after, obj))
        elif kind == "NetworkPolicy":
            units |= _selected(after, obj)
    if roles:
        everyone = _through_roles(snapshot, roles, subjects, units)
        if everyone:
            return None
    for subject in subjects:
        units.add((subject.kind, subject.namespace, subject.name))
        units.update(after.by_account.get(subject, ()))
    units |= before.workloads.keys() ^ after.workloads.keys()
    # node addresses decide node ports and host ports of every workload
    if before.nodes_external != after.nodes_external:
        units |= after.workloads.keys()
    # the ingress controllers (and whether the internet reaches them) decide every route through
    # an Ingress or HTTPRoute, and nothing else (`exposure.reachable`)
    elif before.reach.controllers != after.reach.controllers:
        units.update((ref.kind, ref.namespace, ref.name) for reach in (before.reach, after.reach)
                     for ref, routes in reach.exposure.items() if any(r.entry == "proxy" for r in routes))
    for name in before.namespaces.keys() | after.namespaces.keys():
        old, new = before.namespaces.get(name), after.namespaces.get(name)
        if old == new:
            continue
        changed = {k for k in (old or {}).keys() | (new or {}).keys()
                   if old is None or new is None or old.get(k) != new.get(k)}
        units |= (in_namespace(snapshot, after, name) if namespace_wide(changed)
                  else {("Namespace", None, name)})
    return units


def in_namespace(snapshot: Snapshot, facts: Facts, name: str) -> set[Key]:
    """Every unit in a namespace: its objects, the Namespace, ServiceAccounts named by bindings."""
    units = {key for key in snapshot.index if key[1] == name}
    units.add(("Namespace", None, name))
    units.update(("ServiceAccount", name, account.name) for account in facts.by_account
                 if account.namespace == name)
    for kind in BINDING_KINDS:
        for item in snapshot.of_kind(kind):
            units.update((s.kind, s.namespace, s.name) for s in _subjects(item.obj)
                         if s.kind == "ServiceAccount" and s.namespace == name)
    return units


def _named(binding: dict[str, Any]) -> set[Subject] | None:
    """The subjects a binding grants to, as the units they are; None if it names an implicit group."""
    subjects = _subjects(binding)
    if any(s.kind == "Group" and (s.name in IMPLICIT_GROUPS or s.name.startswith("system:serviceaccounts:"))
           for s in subjects):
        return None
    return subjects


def _subjects(binding: dict[str, Any]) -> set[Subject]:
    """Every subject a binding names (a ServiceAccount named as a user also as the ServiceAccount)."""
    namespace = namespace_of(binding)
    out: set[Subject] = set()
    for raw in binding.get("subjects") or ():
        if not isinstance(raw, dict) or (subject := _subject(raw, namespace)) is None:
            continue
        out.add(subject)
        if subject.kind == "User" and subject.name.startswith(SA_PREFIX):  # a ServiceAccount by user name
            ns, _, name = subject.name[len(SA_PREFIX):].partition(":")
            out.add(Subject("ServiceAccount", name, ns))
    return out


def _role_refs(binding: dict[str, Any]) -> set[Key]:
    ref = binding.get("roleRef") or {}
    kind, name = ref.get("kind"), ref.get("name")
    if kind not in ROLE_KINDS or not name:
        return set()
    return {(kind, namespace_of(binding) if kind == "Role" else None, str(name))}


def _labels(obj: dict[str, Any]) -> dict[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}


def _through_roles(snapshot: Snapshot, roles: set[Key], subjects: set[Subject], units: set[Key]) -> bool:
    """Add the roles aggregated with `roles` (both ways), the bindings referencing any of them
    and their subjects; True when one of those names an implicit group (everyone)."""
    cluster_roles = {key_of(i.obj): i.obj for i in snapshot.of_kind("ClusterRole")}
    aggregators = {k: (o.get("aggregationRule") or {}).get("clusterRoleSelectors") or []
                   for k, o in cluster_roles.items() if o.get("aggregationRule")}
    todo = list(roles)
    while todo:  # up: aggregators pulling a role's rules; down: roles an aggregator pulls
        key = todo.pop()
        obj = cluster_roles.get(key)
        found = [k for k, selectors in aggregators.items()
                 if obj is not None and any(selector_matches(s, _labels(obj)) for s in selectors)]
        found += [k for k, o in cluster_roles.items()
                  if any(selector_matches(s, _labels(o)) for s in aggregators.get(key, ()))]
        for other in found:
            if other not in roles:
                roles.add(other)
                todo.append(other)
    units |= roles
    for kind in BINDING_KINDS:
        for item in snapshot.of_kind(kind):
            if _role_refs(item.obj) & roles:
                named = _named(item.obj)
                if named is None:
                    return True
                units.add(key_of(item.obj))
                subjects |= named
    return False


def _bindings_naming(snapshot: Snapshot, account: Subject) -> list[Key]:
    """Bindings naming a ServiceAccount directly (their `binding.missingServiceAccounts`), also
    those that name an implicit group besides."""
    return [key_of(item.obj) for kind in BINDING_KINDS for item in snapshot.of_kind(kind)
            if account in _subjects(item.obj)]


def _selected(facts: Facts, policy: dict[str, Any]) -> set[Key]:
    """Workloads a NetworkPolicy's pod selector picks."""
    selector = (policy.get("spec") or {}).get("podSelector") or {}
    return {k for k in facts.workloads_in(namespace_of(policy))
            if selector_matches(selector, facts.workloads[k][1])}


def _routed(snapshot: Snapshot, facts: Facts, obj: dict[str, Any]) -> set[Key]:
    """Workloads a Service (or the Services an Ingress/HTTPRoute sends to) selects."""
    namespace = namespace_of(obj)
    if obj["kind"] == "Service":
        services = [obj]
    else:
        targets = ([(namespace, name) for name, _ in _ingress_backends(obj)] if obj["kind"] == "Ingress"
                   else _route_backends(obj))
        services = [item.obj for ns, name in targets
                    if (item := snapshot.get("Service", ns, name)) is not None]
    out: set[Key] = set()
    for service in services:
        selector = (service.get("spec") or {}).get("selector") or {}
        out.update(k for k in facts.workloads_in(namespace_of(service))
                   if map_selector_matches(selector, facts.workloads[k][1]))
    return out
