"""What the API server (and the kubelet) refuse in a pod spec's security settings.

Written from Kubernetes' `pkg/apis/core/validation` (ValidateSecurityContext,
ValidatePodSecurityContext, validateHostNetwork, volume and mount checks) and the kubelet's
non-root verification. A patch whose result fails here is never offered: the API server would
refuse it, or the kubelet would refuse to start the container.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kspm_tui.kinds import TEMPLATE_PATH

CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
_MAX_ID = 2147483647
_PROFILE_TYPES = ("RuntimeDefault", "Unconfined", "Localhost")


@dataclass(frozen=True, slots=True)
class Problem:
    """One refusal: the field path (as the API server names it), the reason, who refuses."""

    path: str
    message: str
    by: str = "API server"

    def __str__(self) -> str:
        return f"{self.path}: {self.message} ({self.by})"


_NO_PROBLEMS: list[Problem] = []  # most containers have none: remembered as this one list (never changed)


class Remembered:
    """Problems remembered by identity, for validating many patched copies of one object:
    strategic merge is copy-on-write, so a fix's patched object shares every part it does not
    change with the original, and only what the patch changed is checked again. A container's
    problems come from its `securityContext`, `ports` and `volumeMounts` and the pod's context,
    so they are remembered by those parts' identities (a patch setting a container's resources
    or probes makes a new container dict with the same parts); the pod's own problems by its
    `securityContext`'s and `volumes`' identities and its flags. Only the originals' parts are
    remembered (`validate_object(obj, remembered, learn=True)`); they live as long as the
    snapshot (each entry holds them), so an identity seen again is the same object."""

    __slots__ = ("_known", "_pods", "_learn")

    def __init__(self) -> None:
        self._known: dict[tuple[Any, ...], tuple[tuple[Any, ...], list[Problem]]] = {}
        self._pods: dict[tuple[Any, ...], tuple[tuple[Any, ...], list[Problem]]] = {}
        self._learn = False

    def pod(self, spec: dict[str, Any], psc: dict[str, Any], at: str) -> list[Problem]:
        """The pod spec's problems outside its containers (`_pod_problems`)."""
        sc, volumes = spec.get("securityContext"), spec.get("volumes")
        # ... and the flags as _pod_problems reads them
        key = (id(sc), id(volumes), bool(spec.get("shareProcessNamespace")), bool(spec.get("hostPID")),
               spec.get("hostUsers") is False, bool(spec.get("hostNetwork")), bool(spec.get("hostIPC")), at)
        known = self._pods.get(key)
        if known is not None and known[0][0] is sc and known[0][1] is volumes:
            return known[1]
        problems = _pod_problems(spec, psc, at)
        if self._learn:
            self._pods[key] = ((sc, volumes), problems or _NO_PROBLEMS)
        return problems

    def problems(self, container: dict[str, Any], spec: dict[str, Any], psc: dict[str, Any], volumes: set[Any],
                 at: str, ctype: str, pod: tuple[Any, ...]) -> list[Problem]:
        """`_container`'s problems; `pod` is `pod_context(spec)`, what it reads of the pod."""
        sc, ports = container.get("securityContext"), container.get("ports")
        mounts = container.get("volumeMounts")
        key = (id(sc), id(ports), id(mounts), pod, at, ctype)
        known = self._known.get(key)
        if known is not None:
            held = known[0]
            if held[0] is sc and held[1] is ports and held[2] is mounts:
                return known[1]
        problems = _container(container, spec, psc, volumes, at, ctype)
        if self._learn:
            self._known[key] = ((sc, ports, mounts), problems or _NO_PROBLEMS)
        return problems


def pod_context(spec: dict[str, Any]) -> tuple[Any, ...]:
    """What a container's problems read of its pod: securityContext and volumes (identities), two flags."""
    return (id(spec.get("securityContext")), id(spec.get("volumes")), spec.get("hostUsers") is False,
            bool(spec.get("hostNetwork")))


def validate_object(obj: dict[str, Any], remembered: Remembered | None = None, learn: bool = False) -> list[Problem]:
    """Problems in the pod template of a workload object (or a bare Pod); [] for other kinds.
    With `remembered`, containers seen before in the same pod context are not checked again,
    and with `learn` this object's containers are remembered."""
    path = TEMPLATE_PATH.get(obj.get("kind", ""))
    if path is None:
        return []
    template: Any = obj
    for key in path:
        template = template.get(key) if isinstance(template, dict) else None
    spec = template.get("spec") if isinstance(template, dict) else None
    if not isinstance(spec, dict):
        return []
    if remembered is None:
        return validate_pod_spec(spec, ".".join((*path, "spec")))
    remembered._learn = learn
    try:
        return validate_pod_spec(spec, ".".join((*path, "spec")), remembered)
    finally:
        remembered._learn = False


def validate_pod_spec(spec: dict[str, Any], at: str = "spec", remembered: Remembered | None = None) -> list[Problem]:
    """Problems in one pod spec; `at` is its path inside the object."""
    psc = _dict(spec.get("securityContext"))
    out = remembered.pod(spec, psc, at) if remembered is not None else _pod_problems(spec, psc, at)
    out = list(out)  # remembered lists are shared: never extended
    volumes = {v.get("name") for v in spec.get("volumes") or () if isinstance(v, dict)}
    pod = pod_context(spec) if remembered is not None else ()
    for ctype in CONTAINER_LISTS:
        for i, container in enumerate(spec.get(ctype) or ()):
            if isinstance(container, dict):
                where = f"{at}.{ctype}[{i}]"
                if remembered is not None:
                    out += remembered.problems(container, spec, psc, volumes, where, ctype, pod)
                else:
                    out += _container(container, spec, psc, volumes, where, ctype)
    return out


def _pod_problems(spec: dict[str, Any], psc: dict[str, Any], at: str) -> list[Problem]:
    """The pod spec's own problems: its securityContext, host namespaces, volume names."""
    out: list[Problem] = []
    out += _ids(psc, f"{at}.securityContext", ("runAsUser", "runAsGroup", "fsGroup"))
    for i, gid in enumerate(psc.get("supplementalGroups") or ()):
        if not _valid_id(gid):
            out.append(Problem(f"{at}.securityContext.supplementalGroups[{i}]", _ID_MESSAGE))
    out += _profiles(psc, f"{at}.securityContext")
    if psc.get("shareProcessNamespace") and spec.get("hostPID"):
        out.append(Problem(f"{at}.securityContext.shareProcessNamespace",
                           "ShareProcessNamespace and HostPID cannot both be enabled"))
    if spec.get("shareProcessNamespace") and spec.get("hostPID"):
        out.append(Problem(f"{at}.shareProcessNamespace", "ShareProcessNamespace and HostPID cannot both be enabled"))
    if spec.get("hostUsers") is False:
        for field in ("hostNetwork", "hostPID", "hostIPC"):
            if spec.get(field):
                out.append(Problem(f"{at}.{field}", "must be false when `hostUsers` is false"))
    volumes = [v.get("name") for v in spec.get("volumes") or () if isinstance(v, dict)]
    for name in {n for n in volumes if volumes.count(n) > 1}:
        out.append(Problem(f"{at}.volumes", f"duplicate volume name {name!r}"))
    return out


def _container(container: dict[str, Any], spec: dict[str, Any], psc: dict[str, Any], volumes: set[Any],
               at: str, ctype: str) -> list[Problem]:
    out: list[Problem] = []
    sc = _dict(container.get("securityContext"))
    scp = f"{at}.securityContext"
    out += _ids(sc, scp, ("runAsUser", "runAsGroup"))
    out += _profiles(sc, scp)
    if sc.get("allowPrivilegeEscalation") is False:
        if sc.get("privileged") is True:
            out.append(Problem(scp, "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
        added = _dict(sc.get("capabilities")).get("add") or ()
        if "CAP_SYS_ADMIN" in added:
            out.append(Problem(scp, "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"))
    proc = sc.get("procMount")
    if proc is not None and proc not in ("Default", "Unmasked"):
        out.append(Problem(f"{scp}.procMount", f"Unsupported value: {proc!r}"))
    if proc == "Unmasked" and spec.get("hostUsers") is not False:
        out.append(Problem(f"{scp}.procMount", "`hostUsers` must be false to use `Unmasked`"))
    if spec.get("hostNetwork") and ctype == "containers":
        for j, port in enumerate(container.get("ports") or ()):
            host = _dict(port).get("hostPort")
            if host is not None and host != _dict(port).get("containerPort"):
                out.append(Problem(f"{at}.ports[{j}].containerPort", "must match `hostPort` when `hostNetwork` is true"))
    paths: set[Any] = set()
    for j, mount in enumerate(container.get("volumeMounts") or ()):
        mount = _dict(mount)
        if mount.get("name") not in volumes:
            out.append(Problem(f"{at}.volumeMounts[{j}].name", f"Not found: {mount.get('name')!r}"))
        if mount.get("mountPath") in paths:
            out.append(Problem(f"{at}.volumeMounts[{j}].mountPath", "must be unique"))
        paths.add(mount.get("mountPath"))
    non_root = sc.get("runAsNonRoot", psc.get("runAsNonRoot"))
    user = sc.get("runAsUser", psc.get("runAsUser"))
    if non_root is True and user == 0:
        out.append(Problem(scp, "container's runAsUser breaks non-root policy", "kubelet"))
    return out


_ID_MESSAGE = f"must be between 0 and {_MAX_ID}, inclusive"


def _valid_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_ID


def _ids(sc: dict[str, Any], at: str, fields: tuple[str, ...]) -> list[Problem]:
    return [Problem(f"{at}.{f}", _ID_MESSAGE) for f in fields if f in sc and not _valid_id(sc[f])]


def _profiles(sc: dict[str, Any], at: str) -> list[Problem]:
    """seccompProfile / appArmorProfile: a known type, localhostProfile exactly when Localhost."""
    out = []
    for field in ("seccompProfile", "appArmorProfile"):
        if field not in sc:
            continue
        profile = _dict(sc[field])
        kind = profile.get("type")
        if kind not in _PROFILE_TYPES:
            out.append(Problem(f"{at}.{field}.type", f"Unsupported value: {kind!r}"))
        elif kind == "Localhost" and not profile.get("localhostProfile"):
            out.append(Problem(f"{at}.{field}.localhostProfile", "must be set when the type is Localhost"))
        elif kind != "Localhost" and profile.get("localhostProfile"):
            out.append(Problem(f"{at}.{field}.localhostProfile", "can only be set when the type is Localhost"))
    return out


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
