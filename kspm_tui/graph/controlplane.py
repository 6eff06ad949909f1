"""Where control-plane flags come from, per distribution: the `flags` of control-plane rules.

kubeadm and RKE2 run the components as static Pods in kube-system: their flags are the
container's command and args (`--name=value`, `--name value`). k3s runs them inside its own
process: what it passes is its built-in defaults (k3s `pkg/daemons/control/server.go`) overridden
by the server's `--kube-apiserver-arg=name=value` style options (from its command line or
/etc/rancher/k3s/config.yaml), which k3s records on the Node as the `k3s.io/node-args`
annotation. A component that reads its settings from a config file (RKE2's etcd:
`--config-file`) has flags the API cannot show: rules about them are not assessable there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from kspm_tui.snapshot import Snapshot, namespace_of
from kspm_tui.sources import SourcedObject

COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd")
CONFIG_FILE_FLAGS = ("config-file", "config")
NODE_ARGS = "k3s.io/node-args"
K3S_ARG_OPTIONS = {  # k3s server option → component it passes flags to
    "kube-apiserver-arg": "kube-apiserver", "kube-controller-manager-arg": "kube-controller-manager",
    "kube-scheduler-arg": "kube-scheduler", "etcd-arg": "etcd",
}
_SET = "(set by k3s)"
# What k3s passes whatever the user configures (values that are file paths shown as set).
K3S_DEFAULTS: dict[str, dict[str, str]] = {
    "kube-apiserver": {
        "anonymous-auth": "false", "authorization-mode": "Node,RBAC", "enable-admission-plugins": "NodeRestriction",
        "profiling": "false", "allow-privileged": "true", "bind-address": "127.0.0.1",
        "tls-cert-file": _SET, "tls-private-key-file": _SET, "client-ca-file": _SET,
        "service-account-key-file": _SET, "service-account-signing-key-file": _SET,
        "kubelet-certificate-authority": _SET, "kubelet-client-certificate": _SET, "kubelet-client-key": _SET,
        "requestheader-client-ca-file": _SET, "storage-backend": "etcd3",
    },
    "kube-controller-manager": {
        "profiling": "false", "bind-address": "127.0.0.1", "use-service-account-credentials": "true",
        "service-account-private-key-file": _SET, "root-ca-file": _SET,
    },
    "kube-scheduler": {"profiling": "false", "bind-address": "127.0.0.1"},
}


@dataclass(slots=True)
class Component:
    """One control-plane component as seen through the API: where its flags were read."""

    name: str
    item: SourcedObject  # the static Pod, or the Node whose annotation holds k3s's arguments
    flags: dict[str, str]
    container: dict[str, Any] = field(default_factory=dict)
    spec: dict[str, Any] = field(default_factory=dict)
    distribution: str = "kubeadm"  # kubeadm (and RKE2: static Pods) | k3s
    evidence_prefix: str = "spec.containers[0].command: --"
    config_file: str | None = None  # settings read from a file the API does not show


def parse_flags(args: list[Any]) -> dict[str, str]:
    """`--name=value` / `--name value` / `--flag` command-line arguments → {name: value}."""
    flags: dict[str, str] = {}
    items = [str(a) for a in args]
    i = 0
    while i < len(items):
        arg = items[i]
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            if not eq and i + 1 < len(items) and not items[i + 1].startswith("-"):
                value = items[i + 1]
                i += 1
            elif not eq:
                value = "true"
            flags[name] = value
        i += 1
    return flags


def k3s_component_args(node_args: list[str]) -> dict[str, dict[str, str]]:
    """`["server", "--kube-apiserver-arg", "audit-log-path=/x", "--kube-apiserver-arg=profiling=true"]`
    → {"kube-apiserver": {"audit-log-path": "/x", "profiling": "true"}}; later options win."""
    out: dict[str, dict[str, str]] = {}
    i = 0
    while i < len(node_args):
        option, eq, value = node_args[i].lstrip("-").partition("=")
        component = K3S_ARG_OPTIONS.get(option) if node_args[i].startswith("--") else None
        if component and not eq and i + 1 < len(node_args):
            value = node_args[i + 1]
            i += 1
        if component:
            name, eq, flag_value = value.lstrip("-").partition("=")
            out.setdefault(component, {})[name] = flag_value if eq else "true"
        i += 1
    return out


def control_plane(snapshot: Snapshot) -> dict[str, Component]:
    """Visible control-plane components by name: static Pods first, else a k3s server's arguments."""
    found: dict[str, Component] = {}
    for item in snapshot.of_kind("Pod"):
        obj = item.obj
        if namespace_of(obj) != "kube-system":
            continue
        labels = obj["metadata"].get("labels") or {}
        name = obj["metadata"]["name"]
        for component in COMPONENTS:
            if component not in found and (labels.get("component") == component or name.startswith(component + "-")):
                spec = obj.get("spec") or {}
                container = next(iter(spec.get("containers") or ()), {})
                flags = parse_flags(list(container.get("command") or ()) + list(container.get("args") or ()))
                config = next((flags[f] for f in CONFIG_FILE_FLAGS if f in flags), None)
                found[component] = Component(component, item, flags, container, spec, config_file=config)
    for item in snapshot.of_kind("Node"):
        annotations = item.obj["metadata"].get("annotations") or {}
        try:
            node_args = json.loads(annotations.get(NODE_ARGS, "null"))
        except ValueError:
            continue
        if not isinstance(node_args, list) or not node_args or node_args[0] != "server":
            continue
        given = k3s_component_args([str(a) for a in node_args])
        for component, defaults in K3S_DEFAULTS.items():
            if component not in found:
                found[component] = Component(component, item, {**defaults, **given.get(component, {})},
                                             distribution="k3s",
                                             evidence_prefix=f"metadata.annotations[{NODE_ARGS}]: --{component}-arg=")
    return found
