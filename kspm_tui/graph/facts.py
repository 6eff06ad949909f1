"""Namespace and cluster facts exposed to rules as the `namespace` and `cluster` variables.

Documented for rule authors in `rules/README.md`; add a key here (and there) when a rule
needs something one object cannot tell.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from kspm_tui.graph.controlplane import control_plane
from kspm_tui.graph.network import policy_types
from kspm_tui.kinds import WORKLOAD_KINDS, group_of
from kspm_tui.snapshot import DEFAULT_SYSTEM_NAMESPACES, UNKNOWN_NAMESPACE, Snapshot, namespace_of

PSA_PREFIX = "pod-security.kubernetes.io/"
_POLICY_ENGINE_GROUPS = {
    "kyverno.io": "Kyverno",
    "templates.gatekeeper.sh": "Gatekeeper",
    "constraints.gatekeeper.sh": "Gatekeeper",
}


def _is_default_deny(policy: dict[str, Any], direction: str) -> bool:
    """Selects every pod, isolates `direction`, and allows nothing in that direction."""
    spec = policy.get("spec") or {}
    selector = spec.get("podSelector") or {}
    if selector.get("matchLabels") or selector.get("matchExpressions"):
        return False
    return direction in policy_types(policy) and not spec.get(direction.lower())


def _limit_range_defaults(limit_range: dict[str, Any]) -> dict[str, set[str]]:
    """Resources a LimitRange fills in for containers that do not set them.

    A default limit also becomes the default request, as the LimitRanger admission plugin does.
    """
    out: dict[str, set[str]] = {"requests": set(), "limits": set()}
    for limit in (limit_range.get("spec") or {}).get("limits") or ():
        if limit.get("type", "Container") != "Container":
            continue
        out["limits"].update(limit.get("default") or {})
        out["requests"].update(limit.get("defaultRequest") or {})
        out["requests"].update(limit.get("default") or {})
    return out


def _service_account_automount(snapshot: Snapshot) -> dict[str, dict[str, bool]]:
    """namespace → service account → automountServiceAccountToken, where the SA sets it."""
    out: dict[str, dict[str, bool]] = defaultdict(dict)
    for item in snapshot.of_kind("ServiceAccount"):
        value = item.obj.get("automountServiceAccountToken")
        if isinstance(value, bool):
            out[namespace_of(item.obj) or ""][item.obj["metadata"]["name"]] = value
    return out


def namespace_facts(snapshot: Snapshot, system_namespaces: tuple[str, ...] = DEFAULT_SYSTEM_NAMESPACES,
                    names: Iterable[str] | None = None,
                    workload_counts: Counter[str | None] | None = None) -> dict[str, dict[str, Any]]:
    """Per-namespace facts, for every namespace that exists or is referenced (`names`: for these
    only, as a watch updates them; `workload_counts`: top-level workloads per namespace, if known)."""
    wanted = None if names is None else set(names)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    deny: dict[str, set[str]] = defaultdict(set)
    defaults: dict[str, dict[str, set[str]]] = defaultdict(lambda: {"requests": set(), "limits": set()})
    for kind in ("NetworkPolicy", "ResourceQuota", "LimitRange"):
        for item in snapshot.of_kind(kind):
            ns = namespace_of(item.obj) or ""
            if wanted is not None and ns not in wanted:
                continue
            counts[ns][kind] += 1
            if kind == "NetworkPolicy":
                deny[ns].update(d for d in ("Ingress", "Egress") if _is_default_deny(item.obj, d))
            elif kind == "LimitRange":
                for key, limits in _limit_range_defaults(item.obj).items():
                    defaults[ns][key] |= limits
    automount = _service_account_automount(snapshot)
    if workload_counts is None:
        workload_counts = Counter(w.namespace for w in snapshot.workloads())
    facts: dict[str, dict[str, Any]] = {}
    for name in snapshot.namespaces() if wanted is None else sorted(wanted):
        item = snapshot.get("Namespace", None, name)
        meta = item.obj["metadata"] if item else {}
        labels = meta.get("labels") or {}
        facts[name] = {
            "name": name,
            "exists": item is not None,
            "labels": labels,
            "annotations": meta.get("annotations") or {},
            "system": name in system_namespaces,
            "psa": {
                mode: labels.get(PSA_PREFIX + mode, "") for mode in ("enforce", "audit", "warn")
            },
            "networkPolicies": counts[name]["NetworkPolicy"],
            "defaultDenyIngress": "Ingress" in deny[name],
            "defaultDenyEgress": "Egress" in deny[name],
            "resourceQuotas": counts[name]["ResourceQuota"],
            "limitRanges": counts[name]["LimitRange"],
            "limitRangeDefaults": {k: sorted(v) for k, v in defaults[name].items()}
            if name in defaults else {"requests": [], "limits": []},
            "serviceAccountAutomount": automount.get(name, {}),
            "workloads": workload_counts.get(name, 0),
        }
    return facts


def is_cluster_snapshot(snapshot: Snapshot) -> bool:
    """A dump of a whole cluster (it has kube-system), not a folder of app manifests."""
    return snapshot.get("Namespace", None, "kube-system") is not None


def policy_engine(obj: dict[str, Any]) -> str | None:
    """The policy engine an object belongs to (its API group, or an admission object's name)."""
    group = group_of(obj.get("apiVersion", ""))
    if group in _POLICY_ENGINE_GROUPS:
        return _POLICY_ENGINE_GROUPS[group]
    if obj["kind"] == "ValidatingAdmissionPolicyBinding":
        return "ValidatingAdmissionPolicy"
    if obj["kind"] == "ValidatingWebhookConfiguration":
        name = obj["metadata"]["name"]
        if "kyverno" in name:
            return "Kyverno"
        if "gatekeeper" in name:
            return "Gatekeeper"
    return None


def cluster_facts(snapshot: Snapshot, engines: Iterable[str] | None = None,
                  components: Iterable[str] | None = None,
                  workload_namespaces: Iterable[str | None] | None = None,
                  namespaces: int | None = None) -> dict[str, Any]:
    """The cluster facts; a watch passes the parts its batch cannot have changed (None: computed)."""
    if engines is None:
        engines = {engine for item in snapshot.items if (engine := policy_engine(item.obj))}
    if components is None:
        components = control_plane(snapshot)
    if workload_namespaces is None:
        workload_namespaces = {namespace_of(i.obj) for kind in WORKLOAD_KINDS for i in snapshot.of_kind(kind)}
    app_namespaces = sorted(set(workload_namespaces) - set(DEFAULT_SYSTEM_NAMESPACES)
                            - {"default", UNKNOWN_NAMESPACE, None})
    psa_enforced = sorted(
        item.obj["metadata"]["name"] for item in snapshot.of_kind("Namespace")
        if ((item.obj["metadata"].get("labels") or {}).get(PSA_PREFIX + "enforce") in ("baseline", "restricted"))
    )
    return {
        "id": snapshot.cluster_id,
        "isCluster": is_cluster_snapshot(snapshot),
        "components": sorted(components),
        "controlPlaneVisible": "kube-apiserver" in components,
        "policyEngines": sorted(engines),
        "psaEnforcedNamespaces": psa_enforced,
        "appNamespaces": app_namespaces,
        "kinds": sorted(k for k, v in snapshot.by_kind.items() if v),
        "namespaces": len(snapshot.namespaces()) if namespaces is None else namespaces,
    }
