"""The API-validation checker refuses what the API server (or the kubelet) is known to refuse.

Cases from Kubernetes' pkg/apis/core/validation (ValidateSecurityContext,
ValidatePodSecurityContext, validateHostNetwork, volume mounts) and the kubelet's non-root check.
"""

from __future__ import annotations

from typing import Any

import pytest

from kspm_tui.fixes.validation import validate_object


def deployment(container_sc: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "app", "image": "nginx:1.27"}
    if container_sc is not None:
        container["securityContext"] = container_sc
    container.update(spec.pop("container", {}))
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [container], **spec}}}}


REJECTED = [
    ("privileged with allowPrivilegeEscalation false", deployment({"privileged": True, "allowPrivilegeEscalation": False}),
     "spec.template.spec.containers[0].securityContext", "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"),
    ("CAP_SYS_ADMIN with allowPrivilegeEscalation false",
     deployment({"allowPrivilegeEscalation": False, "capabilities": {"add": ["CAP_SYS_ADMIN"]}}),
     "spec.template.spec.containers[0].securityContext", "`capabilities.Add` CAP_SYS_ADMIN"),
    ("negative runAsUser", deployment({"runAsUser": -1}),
     "spec.template.spec.containers[0].securityContext.runAsUser", "must be between 0 and 2147483647"),
    ("runAsGroup out of range", deployment(securityContext={"runAsGroup": 2147483648}),
     "spec.template.spec.securityContext.runAsGroup", "must be between 0 and 2147483647"),
    ("runAsNonRoot with runAsUser 0", deployment({"runAsNonRoot": True, "runAsUser": 0}),
     "spec.template.spec.containers[0].securityContext", "breaks non-root policy"),
    ("pod runAsNonRoot, container runAsUser 0", deployment({"runAsUser": 0}, securityContext={"runAsNonRoot": True}),
     "spec.template.spec.containers[0].securityContext", "breaks non-root policy"),
    ("hostNetwork with a different hostPort", deployment(hostNetwork=True,
                                                         container={"ports": [{"containerPort": 80, "hostPort": 8080}]}),
     "spec.template.spec.containers[0].ports[0].containerPort", "must match `hostPort`"),
    ("Localhost seccomp without a profile", deployment({"seccompProfile": {"type": "Localhost"}}),
     "spec.template.spec.containers[0].securityContext.seccompProfile.localhostProfile", "must be set"),
    ("localhostProfile with RuntimeDefault", deployment(securityContext={"seccompProfile": {
        "type": "RuntimeDefault", "localhostProfile": "x.json"}}),
     "spec.template.spec.securityContext.seccompProfile.localhostProfile", "can only be set"),
    ("Unmasked procMount without user namespaces", deployment({"procMount": "Unmasked"}),
     "spec.template.spec.containers[0].securityContext.procMount", "`hostUsers` must be false"),
    ("a mount of a missing volume", deployment(container={"volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}]}),
     "spec.template.spec.containers[0].volumeMounts[0].name", "Not found"),
    ("two mounts on one path", deployment(volumes=[{"name": "a", "emptyDir": {}}, {"name": "b", "emptyDir": {}}],
                                         container={"volumeMounts": [{"name": "a", "mountPath": "/tmp"},
                                                                     {"name": "b", "mountPath": "/tmp"}]}),
     "spec.template.spec.containers[0].volumeMounts[1].mountPath", "must be unique"),
    ("shareProcessNamespace with hostPID", deployment(hostPID=True, shareProcessNamespace=True),
     "spec.template.spec.shareProcessNamespace", "cannot both be enabled"),
    ("hostUsers false with hostNetwork", deployment(hostUsers=False, hostNetwork=True),
     "spec.template.spec.hostNetwork", "`hostUsers` is false"),
]


@pytest.mark.parametrize(("label", "obj", "path", "message"), REJECTED, ids=[r[0] for r in REJECTED])
def test_what_the_api_server_rejects_is_refused(label: str, obj: dict[str, Any], path: str, message: str) -> None:
    problems = validate_object(obj)
    assert any(p.path == path and message in p.message for p in problems), (label, [str(p) for p in problems])


ACCEPTED = [
    ("restricted container", deployment({"allowPrivilegeEscalation": False, "runAsNonRoot": True, "runAsUser": 101,
                                         "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}})),
    ("privileged alone", deployment({"privileged": True})),
    # The API server compares the literal CAP_SYS_ADMIN only; SYS_ADMIN passes validation.
    ("SYS_ADMIN spelled without CAP_", deployment({"allowPrivilegeEscalation": False, "capabilities": {"add": ["SYS_ADMIN"]}})),
    ("hostNetwork with matching hostPort", deployment(hostNetwork=True,
                                                      container={"ports": [{"containerPort": 80, "hostPort": 80}]})),
    ("hostNetwork, hostPort defaulted", deployment(hostNetwork=True, container={"ports": [{"containerPort": 80}]})),
    ("Unmasked procMount in a user namespace", deployment({"procMount": "Unmasked"}, hostUsers=False)),
    ("emptyDir mounted", deployment(volumes=[{"name": "tmp", "emptyDir": {}}],
                                    container={"volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}]})),
    ("runAsNonRoot with a non-root UID", deployment({"runAsNonRoot": True}, securityContext={"runAsUser": 1000})),
]


@pytest.mark.parametrize(("label", "obj"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_what_the_api_server_accepts_passes(label: str, obj: dict[str, Any]) -> None:
    assert validate_object(obj) == [], label


def test_objects_without_a_pod_template_have_nothing_to_check() -> None:
    assert validate_object({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}) == []
