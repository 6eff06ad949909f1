"""Which workloads are reachable from outside the cluster, and by which route.

Routes: a Service of type LoadBalancer or NodePort (or with externalIPs) → its selector →
pods; an Ingress or a Gateway API HTTPRoute → Service → pods; a pod on the node's network
(`hostNetwork`) or with a `hostPort`. Each route keeps the objects it passes through, so an
attack path can show them as hops with evidence.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from kspm_tui.graph.rbac import Ref
from kspm_tui.graph.selectors import map_selector_matches
from kspm_tui.snapshot import Snapshot, Workload, namespace_of

EXTERNAL_TYPES = ("LoadBalancer", "NodePort")


@dataclass(frozen=True, slots=True)
class Hop:
    ref: Ref
    evidence: str


@dataclass(frozen=True, slots=True)
class Route:
    """internet → hops... → the workload; `last` says how the last hop reaches its pods."""

    hops: tuple[Hop, ...]
    last: str

    def text(self) -> str:
        return " → ".join([*(h.evidence for h in self.hops), self.last])


def _labels(selector: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))


def _service_hop(svc: dict[str, Any]) -> tuple[Hop, bool]:
    """The Service as a hop, and whether it is reachable from outside by itself."""
    spec = svc.get("spec") or {}
    ref = Ref("Service", namespace_of(svc), svc["metadata"]["name"])
    kind = spec.get("type") or "ClusterIP"
    external_ips = spec.get("externalIPs") or []
    if kind in EXTERNAL_TYPES:
        ports = [str(p.get("nodePort") or p.get("port")) for p in spec.get("ports") or () if isinstance(p, dict)]
        return Hop(ref, f"{ref} type {kind} (ports {','.join(ports) or '-'})"), True
    if external_ips:
        return Hop(ref, f"{ref} externalIPs {','.join(map(str, external_ips))}"), True
    return Hop(ref, f"{ref} ({kind})"), False


def _ingress_backends(ingress: dict[str, Any]) -> list[tuple[str, str]]:
    """(service name, host) pairs an Ingress routes to (networking.k8s.io/v1 and v1beta1)."""
    spec = ingress.get("spec") or {}
    out: list[tuple[str, str]] = []

    def backend_service(backend: dict[str, Any] | None) -> str | None:
        backend = backend or {}
        return (backend.get("service") or {}).get("name") or backend.get("serviceName")

    default = backend_service(spec.get("defaultBackend") or spec.get("backend"))
    if default:
        out.append((default, "*"))
    for rule in spec.get("rules") or ():
        host = (rule or {}).get("host") or "*"
        for path in ((rule or {}).get("http") or {}).get("paths") or ():
            name = backend_service((path or {}).get("backend"))
            if name:
                out.append((name, host))
    return out


def _route_backends(route: dict[str, Any]) -> list[tuple[str, str]]:
    """(namespace, service name) pairs an HTTPRoute sends traffic to."""
    namespace = namespace_of(route) or "default"
    out = []
    for rule in (route.get("spec") or {}).get("rules") or ():
        for ref in (rule or {}).get("backendRefs") or ():
            if (ref.get("kind") or "Service") == "Service" and not ref.get("group") and ref.get("name"):
                out.append((ref.get("namespace") or namespace, ref["name"]))
    return out


def _host_route(workload: Workload) -> Route | None:
    spec = workload.template["spec"]
    if spec.get("hostNetwork"):
        return Route((), f"{Ref(workload.kind, workload.namespace, workload.name)} uses hostNetwork "
                         "(listens on the node's own interfaces)")
    for ctype in ("containers", "initContainers"):
        for container in spec.get(ctype) or ():
            for port in (container or {}).get("ports") or ():
                if isinstance(port, dict) and port.get("hostPort"):
                    return Route((), f"container {container.get('name')} hostPort {port['hostPort']} "
                                     "(reachable on the node's address)")
    return None


def exposures(snapshot: Snapshot) -> dict[Ref, list[Route]]:
    """Every workload reachable from outside, with all the routes that reach it."""
    by_ns: dict[str, list[Workload]] = defaultdict(list)
    out: dict[Ref, list[Route]] = defaultdict(list)
    for workload in snapshot.workloads():
        by_ns[workload.namespace or ""].append(workload)
        if (host := _host_route(workload)) is not None:
            out[Ref(workload.kind, workload.namespace, workload.name)].append(host)
    services = {(namespace_of(i.obj), i.obj["metadata"]["name"]): i.obj for i in snapshot.of_kind("Service")}
    fronts: dict[tuple[str | None, str], list[Hop]] = defaultdict(list)  # service → outer hops
    for item in snapshot.of_kind("Ingress"):
        ns, name = namespace_of(item.obj), item.obj["metadata"]["name"]
        for svc, host in _ingress_backends(item.obj):
            fronts[(ns, svc)].append(Hop(Ref("Ingress", ns, name), f"Ingress {ns}/{name} (host {host})"))
    for item in snapshot.of_kind("HTTPRoute"):
        ns, name = namespace_of(item.obj), item.obj["metadata"]["name"]
        hosts = ",".join((item.obj.get("spec") or {}).get("hostnames") or ["*"])
        for svc_ns, svc in _route_backends(item.obj):
            fronts[(svc_ns, svc)].append(Hop(Ref("HTTPRoute", ns, name), f"HTTPRoute {ns}/{name} (hosts {hosts})"))
    for key, svc in services.items():
        hop, external = _service_hop(svc)
        chains = ([(hop,)] if external else []) + [(front, hop) for front in fronts.get(key, ())]
        selector = (svc.get("spec") or {}).get("selector") or {}
        if not chains or not selector:
            continue
        last = f"selector {_labels(selector)}"
        for workload in by_ns.get(key[0] or "", ()):
            labels = (workload.template.get("metadata") or {}).get("labels") or {}
            if map_selector_matches(selector, labels):
                ref = Ref(workload.kind, workload.namespace, workload.name)
                out[ref].extend(Route(chain, f"{last} → {ref}") for chain in chains)
    return dict(out)
