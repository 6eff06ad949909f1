"""NetworkPolicy coverage per workload: is its pod isolated for ingress, for egress?

A pod is isolated for a direction only if some NetworkPolicy in its namespace selects it
(`podSelector`) and lists that direction in `policyTypes` (default: Ingress, plus Egress when
the policy has egress rules). An isolated pod can still be open: a policy that selects it may
admit any source (an ingress rule without `from`, or an `ipBlock` of 0.0.0.0/0 or ::/0), and
then traffic from the internet still reaches it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from kspm_tui.graph.rbac import Ref
from kspm_tui.graph.selectors import selector_matches
from kspm_tui.snapshot import Snapshot, namespace_of

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


@dataclass(slots=True)
class Isolation:
    """The NetworkPolicies that select one workload's pods, by direction."""

    ingress: list[Ref] = field(default_factory=list)
    egress: list[Ref] = field(default_factory=list)
    open_ingress: list[Ref] = field(default_factory=list)  # selecting policies that admit anyone

    @property
    def ingress_isolated(self) -> bool:
        return bool(self.ingress)

    @property
    def egress_isolated(self) -> bool:
        return bool(self.egress)

    @property
    def reachable_from_outside(self) -> bool:
        """Traffic from outside the cluster is admitted (not isolated, or isolated but open)."""
        return not self.ingress or bool(self.open_ingress)

    def facts(self) -> dict[str, Any]:
        return {"ingressIsolated": self.ingress_isolated, "egressIsolated": self.egress_isolated,
                "ingressPolicies": [str(r) for r in self.ingress],
                "egressPolicies": [str(r) for r in self.egress],
                "openIngressPolicies": [str(r) for r in self.open_ingress]}


def isolation(snapshot: Snapshot) -> dict[Ref, Isolation]:
    """Isolation of every top-level workload's pods, keyed by the workload."""
    policies: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in snapshot.of_kind("NetworkPolicy"):
        policies[namespace_of(item.obj) or ""].append(item.obj)
    out: dict[Ref, Isolation] = {}
    for workload in snapshot.workloads():
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
                if admits_anyone(policy):
                    iso.open_ingress.append(ref)
            if "Egress" in types:
                iso.egress.append(ref)
        out[Ref(workload.kind, workload.namespace, workload.name)] = iso
    return out
