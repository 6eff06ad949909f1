"""Hypothesis strategies for pods that exercise every Pod Security Standards check.

Each field a PSS check reads is set, unset, empty or in conflict between the pod and its
containers; shared by the differential test and the kubectl remediation test.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

APPARMOR_PREFIX = "container.apparmor.security.beta.kubernetes.io/"
Spec = dict[str, Any]


def opt(**fields: st.SearchStrategy) -> st.SearchStrategy:
    return st.fixed_dictionaries({}, optional=fields)


def some(*values: Any) -> st.SearchStrategy:
    return st.sampled_from(values)


profile = opt(type=some("RuntimeDefault", "Localhost", "Unconfined", ""), localhostProfile=st.just("p.json"))
common_sc = {
    "runAsNonRoot": st.booleans(),
    "runAsUser": some(0, 1000),
    "seccompProfile": profile,
    "appArmorProfile": profile,
    "seLinuxOptions": opt(
        type=some("", "container_t", "container_engine_t", "spc_t"),
        user=some("", "system_u"),
        role=some("", "object_r"),
        level=st.just("s0:c1,c2"),
    ),
    "windowsOptions": opt(hostProcess=st.booleans()),
}
container_sc = opt(
    privileged=st.booleans(),
    allowPrivilegeEscalation=st.booleans(),
    procMount=some("Default", "Unmasked"),
    capabilities=opt(
        add=st.lists(some("NET_BIND_SERVICE", "CHOWN", "NET_RAW", "SYS_ADMIN", "chown"), max_size=2),
        drop=st.lists(some("ALL", "NET_RAW", "all"), max_size=2),
    ),
    **common_sc,
)
handler = st.one_of(
    st.fixed_dictionaries({"httpGet": opt(host=some("", "10.0.0.1")).map(lambda d: {"port": 80, **d})}),
    st.fixed_dictionaries({"tcpSocket": opt(host=some("", "::1")).map(lambda d: {"port": 80, **d})}),
)
container = opt(
    securityContext=container_sc,
    ports=st.lists(
        opt(hostPort=some(0, 8080), hostIP=st.just("10.0.0.1"), protocol=some("TCP", "UDP")).map(
            lambda d: {"containerPort": 53, **d}
        ),
        max_size=2,
    ),
    livenessProbe=handler,
    startupProbe=handler,
    lifecycle=opt(postStart=handler, preStop=handler),
)
volume = some(
    {"emptyDir": {}},
    {"hostPath": {"path": "/var/log"}},
    {"nfs": {"server": "n", "path": "/"}},
    {"persistentVolumeClaim": {"claimName": "c"}},
    {},
)
pod_spec = opt(
    hostNetwork=st.booleans(),
    hostPID=st.booleans(),
    hostIPC=st.booleans(),
    hostUsers=st.booleans(),
    os=st.fixed_dictionaries({"name": some("linux", "windows")}),
    securityContext=opt(
        sysctls=st.lists(
            some("net.ipv4.tcp_syncookies", "kernel.msgmax").map(lambda n: {"name": n, "value": "1"}),
            max_size=2,
        ),
        **common_sc,
    ),
    volumes=st.lists(volume, max_size=2),
)
annotations = st.dictionaries(
    some(APPARMOR_PREFIX + "c0", APPARMOR_PREFIX + "other", "team"),
    some("unconfined", "runtime/default", "localhost/p", ""),
    max_size=2,
)


@st.composite
def pods(draw: st.DrawFn) -> Spec:
    spec = draw(pod_spec)
    for key, low, high in (("initContainers", 0, 1), ("containers", 1, 2), ("ephemeralContainers", 0, 1)):
        items = draw(st.lists(container, min_size=low, max_size=high))
        if items:
            spec[key] = [{"name": f"{key[0]}{i}", "image": "nginx:1.27", **c} for i, c in enumerate(items)]
    spec["volumes"] = [{"name": f"v{i}", **v} for i, v in enumerate(spec.get("volumes", []))]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "annotations": draw(annotations)},
        "spec": spec,
    }
