"""Attack paths: chains of edges, each with evidence, from the internet to what an attacker wants.

internet → Ingress/HTTPRoute → Service → workload → mounted ServiceAccount token → binding →
role (in its scope) → dangerous permission (cluster-admin or an escalation to it, read all
secrets); workload → cloud identity; privileged/hostPath/hostPID workload → its node.

Each workload's paths come from its own small graph (its routes, its token's grants, its
cloud identity, its node), whose edges carry the object they stand for, evidence text, and
the cut that removes them: a workload's paths depend on its own facts only, so a watch can
recompute them for the workloads a change touches (`workload_paths`). A path is the shortest
chain per (workload, target); paths from the internet start at `internet` (only when
NetworkPolicies admit outside traffic). The cheapest cut is the lowest-cost action that,
applied alone, disconnects the path's start from its target through this workload —
checked on the graph, not assumed (another workload reaching the same target is its own path
with its own cut).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from pydantic import BaseModel, Field

from kspm_tui import commands
from kspm_tui.graph.exposure import Controller, Route, exposures, ingress_controllers, reachable
from kspm_tui.graph.identity import cloud_identity, token_mount
from kspm_tui.graph.network import Isolation, isolation, namespace_labels
from kspm_tui.graph.rbac import RbacGraph, Ref, Subject
from kspm_tui.graph.risks import ESCALATION, Hit, RiskIndex
from kspm_tui.model import FindingRemediation, Safety, Scope
from kspm_tui.remediation import build as build_remediation
from kspm_tui.snapshot import Snapshot, Workload, key_of, known
from kspm_tui.yamlio import dump_yaml

INTERNET = "internet"
TARGETS = ("cluster-admin", "secrets", "cloud", "node")
TARGET_WEIGHT = {"cluster-admin": 100, "secrets": 80, "cloud": 70, "node": 60}
CUT_COST = {"automount": 1, "network-policy": 2, "drop-binding": 2, "harden-pod": 2,
            "remove-cloud-annotation": 3}
SENSITIVE_HOST_PATHS = ("/etc", "/root", "/proc", "/sys", "/var/lib/kubelet", "/var/lib/docker",
                        "/var/run", "/run", "/var/log", "/home", "/dev")


class ObjectRef(BaseModel):
    kind: str
    namespace: str | None = None
    name: str

    @classmethod
    def of(cls, ref: Ref) -> ObjectRef:
        return cls(kind=ref.kind, namespace=ref.namespace, name=ref.name)

    def __str__(self) -> str:
        return str(Ref(self.kind, self.namespace, self.name))


class PathEdge(BaseModel):
    """One step: from node → to node, the object it stands for, and why it holds."""

    source: str
    target: str
    relation: str
    object: ObjectRef | None = None
    evidence: str


class Cut(BaseModel):
    """The cheapest change that removes the path, and how to make it."""

    action: str
    object: ObjectRef
    description: str
    cost: int
    patch: dict[str, Any] | None = None
    kubectl: str | None = None
    guidance: str = ""
    keeps_workload: bool = False  # the workload keeps running (narrowed, not disabled)
    effect: str = ""  # what else the cut changes for the workload, in a sentence
    edge: int | None = None  # index in the path's `edges` of the step this cut removes (for diagrams)


class AttackPath(BaseModel):
    id: str
    source: ObjectRef
    target: str  # cluster-admin | secrets | cloud | node
    target_label: str
    exposed: bool
    ingress_isolated: bool
    egress_isolated: bool
    edges: list[PathEdge] = Field(default_factory=list)
    score: int = 0
    cut: Cut | None = None  # preferred: keeps the workload running where one such cut exists
    other_cuts: list[Cut] = Field(default_factory=list)  # the other single changes that also remove the path

    def summary(self) -> str:
        nodes = [self.edges[0].source] + [e.target for e in self.edges] if self.edges else []
        return " → ".join(nodes)

    def facts(self) -> dict[str, Any]:
        """The `path` variable of path-scope rules (documented in rules/README.md)."""
        cut = self.cut
        return {
            "id": self.id,
            "source": self.source.model_dump(),
            "target": self.target,
            "targetLabel": self.target_label,
            "exposed": self.exposed,
            "ingressIsolated": self.ingress_isolated,
            "egressIsolated": self.egress_isolated,
            "edges": [{**e.model_dump(exclude={"object"}), "kind": e.object.kind if e.object else "",
                       "namespace": (e.object.namespace or "") if e.object else "",
                       "name": e.object.name if e.object else ""} for e in self.edges],
            "length": len(self.edges),
            "score": self.score,
            "summary": self.summary(),
            "cut": {"action": cut.action, "description": cut.description, "object": str(cut.object)}
            if cut else {"action": "", "description": "", "object": ""},
        }


@dataclass(slots=True)
class PathGraph:
    """Every workload's paths, best (worst for the defender) first."""

    paths: list[AttackPath]


class _Graph:
    """One workload's small directed graph: successors in the order edges were drawn."""

    def __init__(self) -> None:
        self.succ: dict[str, dict[str, dict[str, Any]]] = {INTERNET: {}}
        self.cuts: dict[tuple[str, Ref | None], list[tuple[str, str]]] = {}

    def edge(self, a: str, b: str, relation: str, ref: Ref | None, evidence: str,
             cut: str | None = None, cut_object: Ref | None = None, **extra: Any) -> None:
        out = self.succ.setdefault(a, {})
        self.succ.setdefault(b, {})
        if b in out:
            return
        out[b] = {"relation": relation, "ref": ref, "evidence": evidence, "cut": cut,
                  "cut_object": cut_object, **extra}
        if cut is not None:  # one action removes every edge it stands for (e.g. all routes into a pod)
            self.cuts.setdefault((cut, cut_object), []).append((a, b))

    def shortest(self, start: str) -> dict[str, list[str]]:
        """Breadth-first shortest paths from `start` to every node it reaches (ties: first drawn)."""
        paths = {start: [start]}
        level = [start]
        while level:
            below = []
            for node in level:
                for succ in self.succ[node]:
                    if succ not in paths:
                        paths[succ] = [*paths[node], succ]
                        below.append(succ)
            level = below
        return paths


def _node(ref: Ref) -> str:
    return str(ref)


def node_escape(workload: Workload) -> list[str]:
    """Why a workload's pods can take over their node (privileged, hostPID, hostPath, SYS_ADMIN)."""
    spec = workload.template["spec"]
    reasons = []
    if spec.get("hostPID"):
        reasons.append("hostPID: true")
    for ctype in ("initContainers", "containers"):
        for c in spec.get(ctype) or ():
            sc = (c or {}).get("securityContext") or {}
            if sc.get("privileged"):
                reasons.append(f"container {c.get('name')} privileged")
            if "SYS_ADMIN" in ((sc.get("capabilities") or {}).get("add") or ()):
                reasons.append(f"container {c.get('name')} adds SYS_ADMIN")
    for volume in spec.get("volumes") or ():
        path = ((volume or {}).get("hostPath") or {}).get("path")
        if path and (path.rstrip("/") == "" or any(path.startswith(p) for p in SENSITIVE_HOST_PATHS)):
            reasons.append(f"hostPath {path} (volume {volume.get('name')})")
    return reasons


@dataclass(slots=True)
class Reachability:
    """What the internet reaches: routes per workload, isolation per workload, ingress controllers."""

    exposure: dict[Ref, list[Route]]
    isolation: dict[Ref, Isolation]
    controllers: list[Controller]

    @classmethod
    def of(cls, snapshot: Snapshot) -> Reachability:
        routes = exposures(snapshot)
        return cls(routes, isolation(snapshot), ingress_controllers(snapshot, routes, namespace_labels(snapshot)))

    def updated(self, snapshot: Snapshot, only: Collection[Ref]) -> Reachability:
        """This reachability after changes that can reach only the workloads `only`
        (`graph/delta.py`'s `reach_reached`), equal to `Reachability.of`: every other workload
        keeps its routes, isolation and controller entry (the controllers stay in the order
        `of` finds them, re-read only when one of them is in `only`)."""
        workloads = [w for ref in only if (w := snapshot.workload(ref)) is not None]
        routes = exposures(snapshot, workloads)
        exposure = {ref: r for ref, r in self.exposure.items() if ref not in only}
        exposure.update(routes)
        iso = {ref: i for ref, i in self.isolation.items() if ref not in only}
        iso.update(isolation(snapshot, workloads))
        fresh = ingress_controllers(snapshot, routes, namespace_labels(snapshot), workloads)
        if not fresh and not any(c.ref in only for c in self.controllers):
            return Reachability(exposure, iso, self.controllers)
        found = {c.ref: c for c in self.controllers if c.ref not in only}
        found.update((c.ref, c) for c in fresh)
        return Reachability(exposure, iso, [found[key] for w in snapshot.workloads()
                                            if (key := key_of(w.obj)) in found])


class _Builder:
    """Draws one workload's graph."""

    def __init__(self, snapshot: Snapshot, risks: RiskIndex, reach: Reachability) -> None:
        self.snapshot = snapshot
        self.risks = risks
        self.g = _Graph()
        self.exposure = reach.exposure
        self.isolation = reach.isolation
        self.controllers = reach.controllers
        self.targets: dict[str, tuple[str, str]] = {}  # node → (target class, label)

    def _target(self, node: str, target: str, label: str) -> str:
        self.targets[node] = (target, label)
        return node

    def workload(self, workload: Workload) -> str:
        """Draw the workload's edges; its node."""
        ref = Ref(workload.kind, workload.namespace, workload.name)
        wid = _node(ref)
        self.g.succ.setdefault(wid, {})
        iso = self.isolation.get(ref) or Isolation()
        for route in self.exposure.get(ref, []):
            admitted, note = reachable(route, iso, self.controllers)
            if admitted:
                self._route(route, ref, wid, note)
        mount = token_mount(self.snapshot, workload)
        if mount.mounted:
            self._token(workload, ref, wid, mount.service_account.ref, mount.evidence, mount.by_automount)
        identity = cloud_identity(self.snapshot, workload)
        if identity is not None:
            node = self._target(f"cloud:{identity.provider}:{identity.identity}", "cloud",
                                f"{identity.provider} identity {identity.identity}")
            sa_ref = identity.service_account.ref
            self.g.edge(wid, node, "assumes", sa_ref,
                  f"runs as {sa_ref}, annotated {identity.annotation}={identity.identity}",
                  "remove-cloud-annotation", sa_ref, annotation=identity.annotation)
        reasons = node_escape(workload)
        if reasons:
            node = self._target(f"node:{wid}", "node", "the node it runs on (every pod and token there)")
            self.g.edge(wid, node, "escapes to", ref, "; ".join(reasons), "harden-pod", ref)
        return wid

    def _route(self, route: Route, ref: Ref, wid: str, note: str) -> None:
        prev = INTERNET
        for hop in route.hops:
            node = _node(hop.ref)
            self.g.edge(prev, node, "routes to", hop.ref, hop.evidence)
            prev = node
        # Isolating the pod cuts direct routes; through an Ingress/HTTPRoute the controller is
        # the intended way in (and hostNetwork ignores policies), so no NetworkPolicy cut there.
        cut = "network-policy" if route.entry in ("service", "host-port") else None
        self.g.edge(prev, wid, "reaches", ref, f"{route.last}; {note}", cut, ref)

    def _token(self, workload: Workload, ref: Ref, wid: str, sa: Ref, evidence: str, by_automount: bool) -> None:
        subject_node = _node(sa)
        self.g.edge(wid, subject_node, "mounts token of", sa, evidence,
                    "automount" if by_automount else None, ref)
        risk = self.risks.risk(Subject("ServiceAccount", sa.name, sa.namespace))
        admin = self._target("cluster-admin", "cluster-admin", "cluster-admin")
        for hit in risk.cluster_admin:
            self._grant(subject_node, hit, admin, "holds cluster-admin-equivalent rights: " + hit.rule.text())
        labels = {t.id: t.label for t in ESCALATION}
        for technique, hits in risk.escalation.items():
            for hit in hits:
                self._grant(subject_node, hit, admin, f"can escalate: {labels[technique]} ({hit.rule.text()})")
        if risk.read_secrets:
            secrets = self._target("secrets", "secrets", "every Secret in the cluster")
            for hit in risk.read_secrets:
                self._grant(subject_node, hit, secrets, f"can read all secrets: {hit.rule.text()}")

    def _grant(self, subject_node: str, hit: Hit, target: str, evidence: str) -> None:
        binding = _node(hit.binding)
        scope = "cluster-wide" if hit.scope is None else f"in {hit.scope}"
        role = f"{hit.role} ({scope})"
        via = f" through group {hit.subject.name}" if hit.subject.kind == "Group" else ""
        self.g.edge(subject_node, binding, "bound by", hit.binding,
                    f"{hit.binding} names {hit.subject}{via}", "drop-binding", hit.binding)
        self.g.edge(binding, role, "grants", hit.role, f"roleRef {hit.role} {scope}")
        self.g.edge(role, target, "allows", hit.role, evidence)


def _connected_without(g: _Graph, start: str, end: str, removed: set[tuple[str, str]]) -> bool:
    """Depth-first search from `start` that may not use the `removed` edges."""
    seen, stack = {start}, [start]
    while stack:
        node = stack.pop()
        for succ in g.succ[node]:
            if succ in seen or (node, succ) in removed:
                continue
            if succ == end:
                return True
            seen.add(succ)
            stack.append(succ)
    return False


def _cuts(g: _Graph, nodes: list[str]) -> list[tuple[int, dict[str, Any]]]:
    """The cheapest action on this path that, alone, disconnects its start from its target.

    Cuts that keep the workload running (a ClusterRoleBinding narrowed to the workload's own
    namespace) come before those that stop part of it (no token for a workload whose service
    account's grants it uses, a deleted binding); ties: the one nearest the start. Returns the
    position and data of every edge whose cut alone removes the path, best first."""
    candidates: list[tuple[int, int, int, dict[str, Any]]] = []
    for i, (a, b) in enumerate(pairwise(nodes)):
        data = g.succ[a][b]
        if data.get("cut"):
            candidates.append((0 if _keeps_workload(data) else 1, CUT_COST[data["cut"]], i, data))
    out = []
    for *_, i, data in sorted(candidates, key=lambda c: c[:3]):
        removed = set(g.cuts[(data["cut"], data["cut_object"])])
        if not _connected_without(g, nodes[0], nodes[-1], removed):
            out.append((i, data))
    return out


def _keeps_workload(data: dict[str, Any]) -> bool:
    """A ClusterRoleBinding moved to a RoleBinding keeps the workload's access in its namespace."""
    return bool(data["cut"] == "drop-binding" and data["cut_object"].kind == "ClusterRoleBinding")


def _command(build: Callable[[], list[str]], stdin: str | None = None) -> tuple[str | None, str]:
    """(rendered command, "") or (None, why no command is offered, as a sentence to lead guidance)."""
    try:
        return commands.render(build(), stdin), ""
    except commands.UnsafeCommand as unsafe:
        return None, str(unsafe)


def _cut_model(data: dict[str, Any], workload: Workload, wref: Ref, rbac: RbacGraph,
               context: str | None) -> Cut:
    action, obj = data["cut"], data["cut_object"]
    ns = known(obj.namespace)
    if action == "automount":
        patch = {"spec": {"automountServiceAccountToken": False}}
        rem = build_remediation(Scope.pod, wref.kind, wref.name, wref.namespace, patch, "", context=context)
        return Cut(action=action, object=ObjectRef.of(wref), cost=CUT_COST[action], patch=rem.patch,
                   kubectl=rem.kubectl, guidance=rem.guidance,
                   description=f"stop mounting the service account token in {wref} "
                               "(set automountServiceAccountToken to false)",
                   effect="stops the workload from calling the Kubernetes API with the grants its "
                          "service account holds: only for workloads that never use them")
    if action == "drop-binding" and obj.kind == "ClusterRoleBinding" and wref.namespace:
        return _narrow_cut(obj, wref, rbac, context)
    if action == "drop-binding":
        binding = rbac.bindings.get(obj)
        others = len(binding.subjects) - 1 if binding else 0
        if others:
            edit, unsafe = _command(lambda: commands.edit(obj.kind, obj.name, ns, context))
            guidance = (f"{obj} also names {others} other subject(s): remove only this subject with "
                        + (f"`{edit}`." if edit else f"kubectl edit. {unsafe}"))
            return Cut(action=action, object=ObjectRef.of(obj), cost=CUT_COST[action], guidance=guidance,
                       description=f"remove the subject from {obj}",
                       effect="the workload loses every grant of the binding")
        kubectl, unsafe = _command(lambda: commands.delete(obj.kind, obj.name, ns, context))
        return Cut(action=action, object=ObjectRef.of(obj), cost=CUT_COST[action], kubectl=kubectl,
                   guidance=unsafe, description=f"drop {obj}",
                   effect="the workload loses every grant of the binding")
    if action == "network-policy":
        labels = (workload.template.get("metadata") or {}).get("labels") or {}
        policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                  "metadata": {"name": f"{wref.name}-restrict-ingress",
                               **({"namespace": known(wref.namespace)} if known(wref.namespace) else {})},
                  "spec": {"podSelector": {"matchLabels": labels}, "policyTypes": ["Ingress"],
                           "ingress": [{"from": [{"namespaceSelector": {}}]}]}}
        kubectl, unsafe = _command(lambda: commands.apply_stdin(context), stdin=dump_yaml(policy))
        return Cut(action=action, object=ObjectRef.of(wref), cost=CUT_COST[action], kubectl=kubectl,
                   guidance=" ".join(filter(None, [
                       unsafe, "The policy admits traffic from pods in the cluster only, so load balancer and "
                               "node-port traffic from outside no longer reaches the pods; narrow the "
                               "namespaceSelector to the clients that need it."])),
                   description=f"isolate {wref} with a NetworkPolicy that admits only in-cluster clients",
                   effect="clients outside the cluster no longer reach the pods")
    if action == "remove-cloud-annotation":
        kubectl, unsafe = _command(lambda: commands.annotate(
            "ServiceAccount", obj.name, ns, {data["annotation"]: None}, context))
        return Cut(action=action, object=ObjectRef.of(obj), cost=CUT_COST[action], kubectl=kubectl,
                   guidance=" ".join(filter(None, [
                       unsafe, "If the application needs the cloud role, keep the annotation and scope the "
                               "role's cloud permissions to what this workload uses."])),
                   description=f"remove the cloud identity annotation from {obj} (or run {wref} under "
                               "a ServiceAccount without it)",
                   effect="the workload loses its cloud role")
    # harden-pod
    spec = workload.template["spec"]
    fragment: dict[str, Any] = {"spec": {}}
    if spec.get("hostPID"):
        fragment["spec"]["hostPID"] = False
    for ctype in ("initContainers", "containers"):
        fixed = [{"name": c.get("name"), "securityContext": {"privileged": False}}
                 for c in spec.get(ctype) or () if ((c or {}).get("securityContext") or {}).get("privileged")]
        if fixed:
            fragment["spec"][ctype] = fixed
    guidance = "Remove sensitive hostPath volumes and SYS_ADMIN; run node agents only in system namespaces."
    rem = build_remediation(Scope.pod, wref.kind, wref.name, wref.namespace,
                            fragment if fragment["spec"] else None, guidance, context=context)
    return Cut(action=action, object=ObjectRef.of(wref), cost=CUT_COST[action], patch=rem.patch,
               kubectl=rem.kubectl, guidance=rem.guidance,
               effect="the workload loses host access; node agents need it by design",
               description=f"stop {wref} from reaching its node (privileged, hostPID, hostPath)")


def _narrow_cut(obj: Ref, wref: Ref, rbac: RbacGraph, context: str | None) -> Cut:
    """Move a ClusterRoleBinding's grant to a RoleBinding in the workload's namespace."""
    binding = rbac.bindings.get(obj)
    role = binding.role_ref.name if binding else "ROLE"
    accounts = [s.name for s in binding.subjects if s.kind == "ServiceAccount"
                and s.namespace == wref.namespace] if binding else []
    sa = accounts[0] if accounts else "SERVICE-ACCOUNT"
    others = len(binding.subjects) - 1 if binding else 0
    create, unsafe = _command(lambda: commands.create_rolebinding(
        obj.name, str(wref.namespace), role, f"{wref.namespace}:{sa}", context))
    drop, unsafe_drop = _command(lambda: commands.delete("ClusterRoleBinding", obj.name, None, context))
    kubectl = None if create is None or (drop is None and not others) else (
        create if others else f"{create} && {drop}")
    guidance = ("Then narrow the role itself: only the resources and verbs the workload uses, with "
                "resourceNames where it acts on named objects.")
    if others:
        edit, _ = _command(lambda: commands.edit("ClusterRoleBinding", obj.name, None, context))
        guidance = (f"{obj} also names {others} other subject(s): remove only this subject from it"
                    + (f" with `{edit}`. " if edit else " by hand. ") + guidance)
    guidance = " ".join(filter(None, [(unsafe or unsafe_drop) if kubectl is None else "", guidance]))
    return Cut(action="narrow-binding", object=ObjectRef.of(obj), cost=CUT_COST["drop-binding"],
               kubectl=kubectl, guidance=guidance, keeps_workload=True,
               description=f"move the grant of {obj} to a RoleBinding in namespace {wref.namespace}",
               effect=f"keeps the workload running: it keeps the access of {role} inside "
                      f"{wref.namespace} and loses it everywhere else")


def attack_paths(snapshot: Snapshot, rbac: RbacGraph, risks: RiskIndex, *, internal: bool = False,
                 context: str | None = None, reach: Reachability | None = None) -> PathGraph:
    """Every deduplicated attack path, best (worst for the defender) first.

    `internal`: also paths that start at a workload not reachable from outside (a compromised
    pod); those paths have `exposed: false`. `reach`: precomputed exposure and isolation.
    """
    reach = reach or Reachability.of(snapshot)
    out = [path for workload in snapshot.workloads()
           for path in workload_paths(workload, snapshot, rbac, risks, reach, internal=internal,
                                      context=context)]
    out.sort(key=lambda p: (-p.score, p.id))
    return PathGraph(out)


def workload_paths(workload: Workload, snapshot: Snapshot, rbac: RbacGraph, risks: RiskIndex,
                   reach: Reachability, *, internal: bool = False,
                   context: str | None = None) -> list[AttackPath]:
    """One workload's paths (from the internet; with `internal`, also from the workload itself),
    best first: a function of the workload's own routes, isolation, token and identity."""
    builder = _Builder(snapshot, risks, reach)
    wid = builder.workload(workload)
    g = builder.g
    from_internet = g.shortest(INTERNET)
    exposed = wid in from_internet
    if not exposed and not internal:
        return []
    chains = g.shortest(wid)
    prefix = from_internet[wid] if exposed else [wid]
    wref = Ref(workload.kind, workload.namespace, workload.name)
    iso = builder.isolation.get(wref) or Isolation()
    reached = {builder.targets[n][0] for n in chains if n in builder.targets}
    out: list[AttackPath] = []
    for node, chain in chains.items():
        if node not in builder.targets:
            continue
        if builder.targets[node][0] == "secrets" and "cluster-admin" in reached:
            continue  # cluster-admin reads every secret: the longer path adds nothing
        target, label = builder.targets[node]
        nodes = prefix[:-1] + chain
        out.append(_path(g, nodes, wref, workload, target, label, exposed, iso, rbac, context))
    out.sort(key=lambda p: (-p.score, p.id))
    return out


def _path(g: _Graph, nodes: list[str], wref: Ref, workload: Workload, target: str, label: str,
          exposed: bool, iso: Isolation, rbac: RbacGraph, context: str | None) -> AttackPath:
    edges = []
    for a, b in pairwise(nodes):
        d = g.succ[a][b]
        ref = d.get("ref")
        edges.append(PathEdge(source=a, target=b, relation=d["relation"],
                              object=ObjectRef.of(ref) if ref else None, evidence=d["evidence"]))
    score = TARGET_WEIGHT[target] + (50 if exposed else 0) + (10 if exposed and not iso.ingress_isolated else 0) \
        + (5 if not iso.egress_isolated else 0) - len(edges)
    found = [_cut_model(data, workload, wref, rbac, context).model_copy(update={"edge": i})
             for i, data in _cuts(g, nodes)]
    cut, others = (found[0], found[1:]) if found else (None, [])
    path_id = f"{target}:{wref}"
    return AttackPath(id=path_id, source=ObjectRef.of(wref), target=target, target_label=label,
                      exposed=exposed, ingress_isolated=iso.ingress_isolated,
                      egress_isolated=iso.egress_isolated, edges=edges, score=score, cut=cut,
                      other_cuts=others)


def remediation_of(path: AttackPath, guidance: str) -> FindingRemediation:
    """The finding's remediation: the cheapest cut, with the rule's own guidance after it."""
    if path.cut is None:
        return FindingRemediation(guidance=guidance)
    cut = path.cut
    which = "Cut that keeps the workload running" if cut.keeps_workload else "Cheapest cut"
    text = " ".join(t for t in (f"{which}: {cut.description} ({cut.effect}).", cut.guidance, guidance) if t)
    offered = bool(cut.kubectl or cut.patch)
    return FindingRemediation(patch=cut.patch, kubectl=cut.kubectl, guidance=text,
                              safety=Safety.review if offered else None, safety_reason=cut.effect if offered else "",
                              cost=("rolling restart" if cut.patch else "none") if offered else "")
