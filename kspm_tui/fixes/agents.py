"""Node agents: workloads that need host access by design, recognised by what they do.

CNI and CSI drivers, kube-proxy, log shippers and node exporters are DaemonSets that reach into
the node: host network, host paths such as /etc/cni or the kubelet's plugin sockets, network
capabilities. Taking that away breaks them, so their fixes are withheld (see safety.py).
"""

from __future__ import annotations

from typing import Any

from kspm_tui.kinds import TEMPLATE_PATH

# Host paths an agent mounts to do its job (prefix match).
AGENT_HOST_PATHS = (
    "/etc/cni", "/opt/cni", "/var/lib/cni", "/var/lib/kubelet", "/var/log", "/sys", "/proc",
    "/dev", "/lib/modules", "/run/xtables.lock", "/var/run/netns", "/run/netns",
    "/var/run/calico", "/var/lib/calico", "/run/containerd", "/var/run/containerd",
    "/var/lib/docker/containers", "/var/run/cilium", "/etc/kubernetes",
)
AGENT_CAPABILITIES = frozenset({"NET_ADMIN", "NET_RAW", "SYS_ADMIN", "SYS_MODULE", "BPF", "PERFMON", "SYS_RESOURCE"})


def agent_traits(obj: dict[str, Any]) -> list[str]:
    """Why `obj` is a node agent (what it does on the node), or [] when it is not one.

    A DaemonSet qualifies by mounting an agent host path, or by joining the host network
    together with network capabilities or privileged mode.
    """
    if obj.get("kind") != "DaemonSet":
        return []
    template: Any = obj
    for key in TEMPLATE_PATH["DaemonSet"]:
        template = template.get(key) if isinstance(template, dict) else None
    spec = (template or {}).get("spec") or {}
    paths = sorted({p for v in spec.get("volumes") or () if isinstance(v, dict)
                    for p in [((v.get("hostPath") or {}).get("path") or "")]
                    if any(p == a or p.startswith(a + "/") for a in AGENT_HOST_PATHS)})
    caps: set[str] = set()
    privileged = False
    for ctype in ("initContainers", "containers"):
        for container in spec.get(ctype) or ():
            sc = (container or {}).get("securityContext") or {}
            privileged |= sc.get("privileged") is True
            caps |= {str(c).removeprefix("CAP_") for c in (sc.get("capabilities") or {}).get("add") or ()}
    net = sorted(caps & AGENT_CAPABILITIES)
    host_network = spec.get("hostNetwork") is True
    if not paths and not (host_network and (net or privileged)):
        return []
    traits = ["DaemonSet"]
    if host_network:
        traits.append("host network")
    if spec.get("hostPID") is True:
        traits.append("host PID")
    if paths:
        traits.append("host paths " + ", ".join(paths[:4]) + (" …" if len(paths) > 4 else ""))
    if net:
        traits.append("capabilities " + ", ".join(net))
    if privileged:
        traits.append("privileged")
    return traits
