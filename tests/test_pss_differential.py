"""The PSS rules against an independent oracle, on generated pods (hypothesis).

The oracle below transcribes the upstream checks (`k8s.io/pod-security-admission/policy/
check_*.go`, latest versions) directly in Python, field by field; the rules are written in
CEL. Agreement on thousands of generated pods, with the fields each check reads set, unset,
empty or conflicting between pod and containers, catches slips the fixtures do not reach.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings

from kspm_tui.engine.loader import load_rules
from kspm_tui.engine.testing import failing_rules
from kspm_tui.locations import builtin_dir
from tests.pss_strategies import APPARMOR_PREFIX, pods

PACK = load_rules([builtin_dir("rules") / "pod-security"])
RULE_FOR = {f.split(":", 1)[1]: r.id for r in PACK.rules for f in r.rule.frameworks if f.startswith("pss-")}

Spec = dict[str, Any]
BASELINE_CAPS = {
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
}
SELINUX_TYPES = {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
    "net.ipv4.tcp_slow_start_after_idle",
    "net.ipv4.tcp_notsent_lowat",
}
RESTRICTED_VOLUMES_OK = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
}


def containers(spec: Spec) -> list[Spec]:
    return [c for k in ("initContainers", "containers", "ephemeralContainers") for c in spec.get(k, [])]


def sc(obj: Spec) -> Spec:
    return obj.get("securityContext") or {}


def userns(spec: Spec) -> bool:
    return spec.get("hostUsers") is False


def windows(spec: Spec) -> bool:
    return spec.get("os", {}).get("name") == "windows"


def setters(spec: Spec, field: str) -> list[Spec]:
    """The pod's and every container's securityContext.<field>, where set."""
    return [s[field] for s in [sc(spec)] + [sc(c) for c in containers(spec)] if field in s]


def selinux_ok(o: Spec) -> bool:
    return o.get("type", "") in SELINUX_TYPES and not o.get("user") and not o.get("role")


def probes_ok(c: Spec) -> bool:
    handlers = [c.get(p) for p in ("livenessProbe", "readinessProbe", "startupProbe")]
    handlers += [c.get("lifecycle", {}).get(p) for p in ("postStart", "preStop")]
    return all(not (h or {}).get(k, {}).get("host") for h in handlers for k in ("httpGet", "tcpSocket"))


def run_as_non_root_ok(spec: Spec) -> bool:
    pod = sc(spec).get("runAsNonRoot")
    return userns(spec) or (
        pod is not False and all(sc(c).get("runAsNonRoot", pod is True) for c in containers(spec))
    )


def seccomp_restricted_ok(spec: Spec) -> bool:
    pod = sc(spec).get("seccompProfile")
    if windows(spec):
        return True
    if pod is not None and pod.get("type") not in ("RuntimeDefault", "Localhost"):
        return False
    return all(
        sc(c)["seccompProfile"].get("type") in ("RuntimeDefault", "Localhost")
        if "seccompProfile" in sc(c)
        else pod is not None
        for c in containers(spec)
    )


def caps_restricted_ok(spec: Spec) -> bool:
    return windows(spec) or all(
        "capabilities" in sc(c)
        and "ALL" in sc(c)["capabilities"].get("drop", [])
        and all(a == "NET_BIND_SERVICE" for a in sc(c)["capabilities"].get("add", []))
        for c in containers(spec)
    )


ORACLE: dict[str, Callable[[Spec, Spec], bool]] = {
    "privileged": lambda m, s: not any(sc(c).get("privileged") is True for c in containers(s)),
    "hostnamespaces": lambda m, s: not any(s.get(k) is True for k in ("hostNetwork", "hostPID", "hostIPC")),
    "hostports": lambda m, s: all(
        p.get("hostPort", 0) == 0 for c in containers(s) for p in c.get("ports", [])
    ),
    "hostpathvolumes": lambda m, s: all("hostPath" not in v for v in s.get("volumes", [])),
    "capabilities_baseline": lambda m, s: all(
        a in BASELINE_CAPS for c in containers(s) for a in sc(c).get("capabilities", {}).get("add", [])
    ),
    "selinuxoptions": lambda m, s: all(selinux_ok(o) for o in setters(s, "seLinuxOptions")),
    "procmount": lambda m, s: (
        userns(s) or all(sc(c).get("procMount", "Default") == "Default" for c in containers(s))
    ),
    "seccompprofile_baseline": lambda m, s: all(
        p.get("type") in ("RuntimeDefault", "Localhost") for p in setters(s, "seccompProfile")
    ),
    "sysctls": lambda m, s: all(x["name"] in SAFE_SYSCTLS for x in sc(s).get("sysctls", [])),
    "apparmorprofile": lambda m, s: (
        all(
            v in ("", "runtime/default") or v.startswith("localhost/")
            for k, v in m.get("annotations", {}).items()
            if k.startswith(APPARMOR_PREFIX)
        )
        and all(p.get("type") in ("RuntimeDefault", "Localhost") for p in setters(s, "appArmorProfile"))
    ),
    "windowshostprocess": lambda m, s: (
        not any(w.get("hostProcess") is True for w in setters(s, "windowsOptions"))
    ),
    "hostprobesandhostlifecycle": lambda m, s: all(probes_ok(c) for c in containers(s)),
    "allowprivilegeescalation": lambda m, s: (
        windows(s) or all(sc(c).get("allowPrivilegeEscalation") is False for c in containers(s))
    ),
    "restrictedvolumes": lambda m, s: all(
        set(v) & RESTRICTED_VOLUMES_OK or set(v) == {"name"} for v in s.get("volumes", [])
    ),
    "runasnonroot": lambda m, s: run_as_non_root_ok(s),
    "runasuser": lambda m, s: userns(s) or all(u != 0 for u in setters(s, "runAsUser")),
    "capabilities_restricted": lambda m, s: caps_restricted_ok(s),
    "seccompprofile_restricted": lambda m, s: seccomp_restricted_ok(s),
    "procmount_restricted": lambda m, s: all(
        sc(c).get("procMount", "Default") == "Default" for c in containers(s)
    ),
}


def test_every_upstream_check_has_a_rule() -> None:
    assert set(ORACLE) == set(RULE_FOR)


@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(pods())
def test_rules_agree_with_upstream_semantics(pod: Spec) -> None:
    failing = failing_rules([pod], PACK.rules)
    assert "!error" not in failing, failing["!error"]
    for check, allowed in ORACLE.items():
        upstream_allows = allowed(pod["metadata"], pod["spec"])
        fired = RULE_FOR[check] in failing
        assert fired is not upstream_allows, (
            f"{check} ({RULE_FOR[check]}): upstream {'allows' if upstream_allows else 'forbids'} this pod, "
            f"the rule {'fired' if fired else 'did not fire'}"
        )
