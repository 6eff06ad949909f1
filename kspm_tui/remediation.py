"""Turns a rule's patch fragment into a patch against the owning object and a kubectl command.

Fragments are relative to the rule's scope root (a container, a pod template, an object).
Containers are addressed by name, so the strategic merge touches only that container.
What cannot be patched in place (bare Pods, ephemeral containers, control-plane flags)
gets honest guidance instead of a command that would be rejected.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson

from kspm_tui import commands
from kspm_tui.engine.typed import construct
from kspm_tui.kinds import TEMPLATE_PATH
from kspm_tui.model import FindingRemediation, Safety, Scope
from kspm_tui.snapshot import known

# kubectl resource names for kinds we patch (lower-case kind works for all built-ins).
_IMMUTABLE_POD = (
    "A bare Pod's spec cannot be changed in place: apply this patch to its manifest "
    "(e.g. `kubectl patch --local -f pod.yaml --type=strategic -p '...' -o yaml`) and recreate "
    "the Pod, or better, run it from a Deployment or Job."
)
_IMMUTABLE_JOB = (
    "A Job's pod template cannot be changed once the Job exists: apply this patch to its manifest "
    "(`kubectl patch --local -f job.yaml --type=strategic -p '...' -o yaml`) and re-create the Job; "
    "for Jobs created by a CronJob, fix the CronJob."
)
_IMMUTABLE_TEMPLATE = {"Pod": _IMMUTABLE_POD, "Job": _IMMUTABLE_JOB}
_EPHEMERAL = (
    "Ephemeral containers cannot be changed or removed; delete and recreate the Pod, and "
    "start debug containers with a compliant security context (`kubectl debug --profile=restricted`)."
)


# One "fields set" shared by every remediation built here (see `engine/typed.construct`): a
# pydantic-validated one carried its own set and a copy of its patch, ~0.5 kB per finding.
_REMEDIATION_FIELDS = set(FindingRemediation.model_fields)


def finding_remediation(patch: dict[str, Any] | None = None, kubectl: str | None = None, guidance: str = "",
                        safety: Safety | None = None, safety_reason: str = "", cost: str = "") -> FindingRemediation:
    """A FindingRemediation from parts already of their types, without validation's copies."""
    return construct(FindingRemediation, _REMEDIATION_FIELDS, {
        "patch": patch, "kubectl": kubectl, "guidance": guidance, "safety": safety,
        "safety_reason": safety_reason, "cost": cost})


# Patches by what they are made of: the same fix of the same container name in the same kind
# of workload recurs on thousands of findings, and each then holds the one patch (values:
# nobody changes a patch; combining makes new ones). Bounded: cleared when full.
_PATCHES: dict[tuple[Scope, str, str | None, str | None, bytes], dict[str, Any]] = {}
_PATCHES_MAX = 8192


def shared_patch(scope: Scope, kind: str, fragment: dict[str, Any], container_type: str | None = None,
                 container: str | None = None) -> dict[str, Any]:
    """`wrap_fragment`, returning the same dict for equal inputs (key order included)."""
    try:
        key = (scope, kind, container_type, container, orjson.dumps(fragment, option=orjson.OPT_NON_STR_KEYS))
    except TypeError:  # a value JSON cannot hold: not shared
        return wrap_fragment(scope, kind, fragment, container_type, container)
    patch = _PATCHES.get(key)
    if patch is None:
        if len(_PATCHES) >= _PATCHES_MAX:
            _PATCHES.clear()
        patch = _PATCHES[key] = wrap_fragment(scope, kind, fragment, container_type, container)
    return patch


def wrap_fragment(scope: Scope, kind: str, fragment: dict[str, Any], container_type: str | None = None,
                  container: str | None = None) -> dict[str, Any]:
    """Place a scope-relative fragment at its path inside an object of `kind`."""
    if scope is Scope.container:
        assert container_type and container
        fragment = {"spec": {container_type: [{"name": container, **fragment}]}}
    if scope in (Scope.container, Scope.pod):
        for key in reversed(TEMPLATE_PATH.get(kind, ())):
            fragment = {key: fragment}
    return fragment


def kubectl_patch(kind: str, name: str, namespace: str | None, patch: dict[str, Any],
                  context: str | None = None) -> str:
    """A `kubectl patch` command that survives a shell paste (see `commands`); raises
    `commands.UnsafeCommand` for a name no command should carry. An object whose namespace is
    unknown (a manifest without one) gets no `-n`: kubectl's own default then applies."""
    return commands.render(commands.patch(kind, name, known(namespace), patch, context))


def build(scope: Scope, kind: str, name: str, namespace: str | None, fragment: dict[str, Any] | None,
          guidance: str, *, container_type: str | None = None, container: str | None = None,
          context: str | None = None) -> FindingRemediation:
    """The remediation shown for one finding."""
    if fragment is None or scope is Scope.control_plane:
        return guidance_only(guidance)
    if container_type == "ephemeralContainers":
        return guidance_only(join_guidance(guidance, _EPHEMERAL))
    patch = shared_patch(scope, kind, fragment, container_type, container)
    if kind in _IMMUTABLE_TEMPLATE and scope in (Scope.container, Scope.pod):
        return finding_remediation(patch=patch, guidance=join_guidance(guidance, _IMMUTABLE_TEMPLATE[kind]))
    try:
        return finding_remediation(patch=patch, kubectl=kubectl_patch(kind, name, namespace, patch, context),
                                   guidance=guidance)
    except commands.UnsafeCommand as unsafe:
        return finding_remediation(patch=patch, guidance=join_guidance(guidance, str(unsafe)))


@lru_cache(maxsize=1024)
def guidance_only(guidance: str) -> FindingRemediation:
    """A remediation without a patch: one per text, shared by every finding showing it (a
    finding's remediation is replaced, never changed in place)."""
    return finding_remediation(guidance=guidance)


@lru_cache(maxsize=4096)
def join_guidance(*texts: str) -> str:
    """Texts joined by a space (empty ones left out). Remembered: the same rule text and note
    recur on thousands of findings, and each finding then holds the one string, not a copy."""
    return " ".join(t for t in texts if t)
