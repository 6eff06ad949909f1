"""Which workloads are reachable from outside the cluster, and by which route.

Routes: a Service of type LoadBalancer or NodePort (or with externalIPs) → its selector →
pods; an Ingress or a Gateway API HTTPRoute → Service → pods (through the ingress controller);
a pod on the node's network (`hostNetwork`) or with a `hostPort`. Each route keeps the objects
it passes through, so an attack path can show them as hops with evidence.

What counts as outside: an internal load balancer (cloud annotations) or one restricted to
private `loadBalancerSourceRanges` is not; NodePorts and host ports are reachable from the
internet only when nodes have external addresses (unknown when no Node objects were read:
NodePorts then count, host ports do not). `reachable` then asks the pod's NetworkPolicies.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kspm_tui.graph.network import Isolation, PodIdentity, admits_other_namespaces
from kspm_tui.graph.rbac import Ref
from kspm_tui.graph.selectors import map_selector_matches
from kspm_tui.snapshot import Snapshot, Workload, namespace_of

INTERNAL_LB_ANNOTATIONS = {
    "service.beta.kubernetes.io/aws-load-balancer-internal": ("true", "0.0.0.0/0"),
    "service.beta.kubernetes.io/aws-load-balancer-scheme": ("internal",),
    "networking.gke.io/load-balancer-type": ("Internal",),
    "cloud.google.com/load-balancer-type": ("Internal",),
    "service.beta.kubernetes.io/azure-load-balancer-internal": ("true",),
}
# names that mark an ingress/gateway controller's workload
CONTROLLER_MARKERS = ("ingress", "gateway", "traefik", "contour", "envoy", "haproxy", "kong", "istio")


@dataclass(frozen=True, slots=True)
class Hop:
    ref: Ref
    evidence: str


@dataclass(frozen=True, slots=True)
class Route:
    """internet → hops... → the workload; `last` says how the last hop reaches its pods.

    `entry`: `service` (load balancer, node port, external IP), `proxy` (through an Ingress or
    HTTPRoute, so traffic arrives from the ingress controller's pods), `host-network`, `host-port`.
    """

    hops: tuple[Hop, ...]
    last: str
    entry: str

    def text(self) -> str:
        return " → ".join([*(h.evidence for h in self.hops), self.last])


def _labels(selector: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))


def _private(cidr: str) -> bool:
    try:
        return ipaddress.ip_network(cidr, strict=False).is_private
    except ValueError:
        return False


def _service_hop(svc: dict[str, Any], nodes_external: bool | None) -> tuple[Hop, bool]:
    """The Service as a hop, and whether it is reachable from the internet by itself."""
    spec = svc.get("spec") or {}
    ref = Ref("Service", namespace_of(svc), svc["metadata"]["name"])
    kind = spec.get("type") or "ClusterIP"
    ports = [str(p.get("nodePort") or p.get("port")) for p in spec.get("ports") or () if isinstance(p, dict)]
    annotations = svc["metadata"].get("annotations") or {}
    if kind == "LoadBalancer":
        internal = [k for k, values in INTERNAL_LB_ANNOTATIONS.items() if str(annotations.get(k)) in values]
        ranges = spec.get("loadBalancerSourceRanges") or []
        if internal:
            return Hop(ref, f"{ref} internal LoadBalancer ({internal[0]})"), False
        if ranges and all(_private(str(r)) for r in ranges):
            return Hop(ref, f"{ref} LoadBalancer limited to private ranges {','.join(ranges)}"), False
        limit = f", source ranges {','.join(ranges)}" if ranges else ", no loadBalancerSourceRanges"
        return Hop(ref, f"{ref} type LoadBalancer (ports {','.join(ports) or '-'}{limit})"), True
    if kind == "NodePort":
        if nodes_external is False:
            return Hop(ref, f"{ref} NodePort on nodes without external addresses"), False
        return Hop(ref, f"{ref} type NodePort (ports {','.join(ports) or '-'})"), True
    external_ips = spec.get("externalIPs") or []
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
                         "on nodes with external addresses", "host-network")
    for ctype in ("containers", "initContainers"):
        for container in spec.get(ctype) or ():
            for port in (container or {}).get("ports") or ():
                if isinstance(port, dict) and port.get("hostPort"):
                    return Route((), f"container {container.get('name')} hostPort {port['hostPort']} "
                                     "on nodes with external addresses", "host-port")
    return None


def nodes_have_external_addresses(snapshot: Snapshot) -> bool | None:
    """True/False from the Node objects' addresses; None when no Node was read."""
    nodes = snapshot.of_kind("Node")
    if not nodes:
        return None
    return any(a.get("type") == "ExternalIP" for n in nodes
               for a in ((n.obj.get("status") or {}).get("addresses") or ()) if isinstance(a, dict))


def exposures(snapshot: Snapshot, only: Iterable[Workload] | None = None) -> dict[Ref, list[Route]]:
    """Every workload reachable from outside, with all the routes that reach it (`only`: of
    these workloads; a watch batch recomputes those it can reach, `Reachability.updated`)."""
    by_ns: dict[str, list[Workload]] = defaultdict(list)
    out: dict[Ref, list[Route]] = defaultdict(list)
    nodes_external = nodes_have_external_addresses(snapshot)
    for workload in snapshot.workloads() if only is None else only:
        by_ns[workload.namespace or ""].append(workload)
        if nodes_external and (host := _host_route(workload)) is not None:
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
        if key[0] not in by_ns:
            continue
        hop, external = _service_hop(svc, nodes_external)
        chains = ([(hop,)] if external else []) + [(front, hop) for front in fronts.get(key, ())]
        selector = (svc.get("spec") or {}).get("selector") or {}
        if not chains or not selector:
            continue
        last = f"selector {_labels(selector)}"
        for workload in by_ns.get(key[0] or "", ()):
            labels = (workload.template.get("metadata") or {}).get("labels") or {}
            if map_selector_matches(selector, labels):
                ref = Ref(workload.kind, workload.namespace, workload.name)
                out[ref].extend(Route(chain, f"{last} → {ref}", "service" if len(chain) == 1 else "proxy")
                                for chain in chains)
    return dict(out)


@dataclass(frozen=True, slots=True)
class Controller:
    """A workload that looks like an ingress/gateway controller, and whether the internet reaches it."""

    ref: Ref
    identity: PodIdentity
    exposed: bool


def ingress_controllers(snapshot: Snapshot, routes: dict[Ref, list[Route]],
                        ns_labels: dict[str, dict[str, str]],
                        only: Iterable[Workload] | None = None) -> list[Controller]:
    """Workloads named (workload, namespace or labels) like an ingress or gateway controller
    (`only`: among these)."""
    found = []
    for workload in snapshot.workloads() if only is None else only:
        labels = (workload.template.get("metadata") or {}).get("labels") or {}
        text = " ".join([workload.name, workload.namespace or "", *map(str, labels.values())]).lower()
        if not any(marker in text for marker in CONTROLLER_MARKERS):
            continue
        ref = Ref(workload.kind, workload.namespace, workload.name)
        ns = workload.namespace or "default"
        identity = PodIdentity(ns, ns_labels.get(ns, {"kubernetes.io/metadata.name": ns}), labels)
        found.append(Controller(ref, identity, any(r.entry != "proxy" for r in routes.get(ref, ()))))
    return found


def reachable(route: Route, iso: Isolation, controllers: list[Controller]) -> tuple[bool, str]:
    """Whether traffic from the internet on `route` gets to the pods, and why.

    Through an Ingress/HTTPRoute traffic comes from the controller: if controllers were read
    and none is reachable from outside, neither is the route; if none was read (a folder of
    app manifests), an external controller is assumed.
    """
    exposed = [c for c in controllers if c.exposed]
    if route.entry == "proxy" and controllers and not exposed:
        return False, ("the ingress controller (" + ", ".join(str(c.ref) for c in controllers)
                       + ") is not reachable from outside")
    if not iso.ingress_isolated:
        return True, "no NetworkPolicy isolates its ingress"
    if route.entry == "host-network":
        return True, "hostNetwork pods are not subject to NetworkPolicy"
    if iso.open_ingress:
        return True, "NetworkPolicy admits any source: " + ", ".join(map(str, iso.open_ingress))
    if route.entry == "proxy":
        for controller in exposed:
            admitting = iso.admitting(controller.identity)
            if admitting:
                return True, f"{', '.join(map(str, admitting))} admits the ingress controller {controller.ref}"
        if not controllers:
            cross = [str(r) for r, p in zip(iso.ingress, iso.policies) if admits_other_namespaces(p)]
            if cross:
                return True, (f"{', '.join(cross)} admits other namespaces (no ingress controller was "
                              "read, so it may be one of them)")
    return False, "isolated by " + ", ".join(map(str, iso.ingress))
