"""NetworkPolicy coverage per workload: is its pod isolated for ingress, for egress?

A pod is isolated for a direction only if some NetworkPolicy in its namespace selects it
(`podSelector`) and lists that direction in `policyTypes` (default: Ingress, plus Egress when
the policy has egress rules). An isolated pod can still be open: a policy that selects it may
admit any source (an ingress rule without `from`, or an `ipBlock` of 0.0.0.0/0 or ::/0), and
then traffic from the internet still reaches it; or it may admit the ingress controller's
pods, and then traffic through an Ingress still does. Ports are not considered: a policy
that admits a peer on some port counts as admitting it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kspm_tui.graph.rbac import Ref
from kspm_tui.graph.selectors import selector_matches
from kspm_tui.snapshot import Snapshot, Workload, namespace_of

ANYWHERE = ("0.0.0.0/0", "::/0")


def policy_types(policy: dict[str, Any]) -> list[str]:
    """`spec.policyTypes`, or the API server's default when it is unset."""
    spec = policy.get("spec") or {}
    types = spec.get("policyTypes")
    if types:
        return list(types)
    return ["Ingress", "Egress"] if "egress" in spec else ["Ingress"]


def admits_anyone(policy: dict[str, Any]) -> bool:
    """An ingress rule with no `from`, or one whose peer is an ipBlock covering the internet."""
    for rule in (policy.get("spec") or {}).get("ingress") or ():
        peers = (rule or {}).get("from") or []
        if not peers:
            return True
        if any((p.get("ipBlock") or {}).get("cidr") in ANYWHERE for p in peers if isinstance(p, dict)):
            return True
    return False


@dataclass(frozen=True, slots=True)
class PodIdentity:
    """What a NetworkPolicy peer can select a source pod by."""

    namespace: str
    namespace_labels: dict[str, str]
    labels: dict[str, str]


def admits_pod(policy: dict[str, Any], source: PodIdentity) -> bool:
    """Some ingress rule of `policy` admits traffic from `source` (ports not considered)."""
    policy_ns = namespace_of(policy)
    for rule in (policy.get("spec") or {}).get("ingress") or ():
        peers = (rule or {}).get("from") or []
        if not peers:
            return True
        for peer in peers:
            if not isinstance(peer, dict):
                continue
            if (peer.get("ipBlock") or {}).get("cidr") in ANYWHERE:
                return True
            if "ipBlock" in peer:
                continue
            ns_selector, pod_selector = peer.get("namespaceSelector"), peer.get("podSelector")
            in_namespace = (selector_matches(ns_selector, source.namespace_labels) if ns_selector is not None
                            else source.namespace == policy_ns)
            if in_namespace and (pod_selector is None or selector_matches(pod_selector, source.labels)):
                return True
    return False


def admits_other_namespaces(policy: dict[str, Any]) -> bool:
    """Some ingress rule admits pods of other namespaces (used when no controller is known)."""
    for rule in (policy.get("spec") or {}).get("ingress") or ():
        if any(isinstance(p, dict) and p.get("namespaceSelector") is not None for p in (rule or {}).get("from") or ()):
            return True
    return False


@dataclass(slots=True)
class Isolation:
    """The NetworkPolicies that select one workload's pods, by direction."""

    ingress: list[Ref] = field(default_factory=list)
    egress: list[Ref] = field(default_factory=list)
    open_ingress: list[Ref] = field(default_factory=list)  # selecting policies that admit anyone
    policies: list[dict[str, Any]] = field(default_factory=list)  # the selecting ingress policies

    @property
    def ingress_isolated(self) -> bool:
        return bool(self.ingress)

    @property
    def egress_isolated(self) -> bool:
        return bool(self.egress)

    def admitting(self, source: PodIdentity) -> list[Ref]:
        """The selecting policies that admit `source` (empty and isolated: it is cut off)."""
        return [ref for ref, policy in zip(self.ingress, self.policies) if admits_pod(policy, source)]

    def facts(self) -> dict[str, Any]:
        return {"ingressIsolated": self.ingress_isolated, "egressIsolated": self.egress_isolated,
                "ingressPolicies": [str(r) for r in self.ingress],
                "egressPolicies": [str(r) for r in self.egress],
                "openIngressPolicies": [str(r) for r in self.open_ingress]}


def namespace_labels(snapshot: Snapshot) -> dict[str, dict[str, str]]:
    """Labels of every namespace, with the `kubernetes.io/metadata.name` label the API server sets."""
    out = {name: {"kubernetes.io/metadata.name": name} for name in snapshot.namespaces()}
    for item in snapshot.of_kind("Namespace"):
        name = item.obj["metadata"]["name"]
        out[name] = {**(item.obj["metadata"].get("labels") or {}), "kubernetes.io/metadata.name": name}
    return out


def isolation(snapshot: Snapshot, only: Iterable[Workload] | None = None) -> dict[Ref, Isolation]:
    """Isolation of every top-level workload's pods, keyed by the workload (`only`: of these)."""
    policies: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in snapshot.of_kind("NetworkPolicy"):
        policies[namespace_of(item.obj) or ""].append(item.obj)
    out: dict[Ref, Isolation] = {}
    for workload in snapshot.workloads() if only is None else only:
        namespace = workload.namespace or ""
        labels = (workload.template.get("metadata") or {}).get("labels") or {}
        iso = Isolation()
        for policy in policies.get(namespace, ()):
            if not selector_matches((policy.get("spec") or {}).get("podSelector") or {}, labels):
                continue
            ref = Ref("NetworkPolicy", namespace, policy["metadata"]["name"])
            types = policy_types(policy)
            if "Ingress" in types:
                iso.ingress.append(ref)
                iso.policies.append(policy)
                if admits_anyone(policy):
                    iso.open_ingress.append(ref)
            if "Egress" in types:
                iso.egress.append(ref)
        out[Ref(workload.kind, workload.namespace, workload.name)] = iso
    return out
