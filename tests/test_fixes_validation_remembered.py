"""Fix verdicts validate each patched object against containers remembered from the original
(only what a patch changed is checked again): the problems found are exactly those a full
validation finds, whether the patch changes a container, the pod's securityContext (which every
container's non-root check reads), the volumes (which every mount is checked against), or moves
containers to other positions."""

from __future__ import annotations

import pytest

from kspm_tui import strategic_merge
from kspm_tui.fixes.validation import Remembered, validate_object
from kspm_tui.yamlio import load_yaml

DEPLOYMENT = load_yaml("""
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  template:
    spec:
      hostNetwork: true
      securityContext: {runAsUser: 0}
      volumes: [{name: data, emptyDir: {}}]
      initContainers:
        - name: init
          image: busybox:1.36
          volumeMounts: [{name: cache, mountPath: /cache}]
      containers:
        - name: api
          image: ghcr.io/shop/api:1.4
          ports: [{containerPort: 8080, hostPort: 9090}]
          securityContext: {privileged: true, allowPrivilegeEscalation: false}
          volumeMounts: [{name: data, mountPath: /data}]
        - name: proxy
          image: envoyproxy/envoy:v1.30
          securityContext: {runAsNonRoot: true}
""")

PATCHES = {
    "one container": {"spec": {"template": {"spec": {"containers": [
        {"name": "api", "securityContext": {"privileged": False}}]}}}},
    "pod securityContext": {"spec": {"template": {"spec": {"securityContext": {"runAsNonRoot": True}}}}},
    "volumes": {"spec": {"template": {"spec": {"volumes": [{"name": "cache", "emptyDir": {}}]}}}},
    "volume removed": {"spec": {"template": {"spec": {"volumes": [{"name": "data", "$patch": "delete"}]}}}},
    "container removed": {"spec": {"template": {"spec": {"containers": [{"name": "api", "$patch": "delete"}]}}}},
    "resources only": {"spec": {"template": {"spec": {"containers": [
        {"name": "api", "resources": {"limits": {"memory": "256Mi"}}}]}}}},
    "mounts of an unchanged securityContext": {"spec": {"template": {"spec": {"initContainers": [
        {"name": "init", "volumeMounts": [{"name": "data", "mountPath": "/cache"}]}]}}}},
    "ports": {"spec": {"template": {"spec": {"containers": [
        {"name": "api", "ports": [{"containerPort": 8080, "$patch": "delete"}]}]}}}},
    "host PID and a shared process namespace": {"spec": {"template": {"spec": {
        "hostPID": True, "shareProcessNamespace": True}}}},
    "host network off": {"spec": {"template": {"spec": {"hostNetwork": False}}}},
    "user namespaces": {"spec": {"template": {"spec": {"hostUsers": False, "hostNetwork": None, "containers": [
        {"name": "proxy", "securityContext": {"procMount": "Unmasked"}}]}}}},
}


@pytest.mark.parametrize("name", PATCHES)
def test_remembered_containers_give_the_full_validations_problems(name: str) -> None:
    remembered = Remembered()
    assert validate_object(DEPLOYMENT, remembered, learn=True) == validate_object(DEPLOYMENT)
    patched = strategic_merge.apply(DEPLOYMENT, PATCHES[name])
    assert validate_object(patched, remembered) == validate_object(patched)


def test_the_original_has_the_problems_the_patches_play_with() -> None:
    found = {str(p) for p in validate_object(DEPLOYMENT)}
    assert any("initContainers[0].volumeMounts[0].name: Not found: 'cache'" in p for p in found)
    assert any("containers[0].ports[0].containerPort" in p for p in found)
    assert any("`privileged` to true" in p for p in found)


def test_patched_copies_are_not_remembered() -> None:
    remembered = Remembered()
    validate_object(DEPLOYMENT, remembered, learn=True)
    learned = len(remembered._known)
    for patch in PATCHES.values():
        validate_object(strategic_merge.apply(DEPLOYMENT, patch), remembered)
    assert len(remembered._known) == learned == 3
    assert len(remembered._pods) == 1


def test_a_container_with_the_same_parts_elsewhere_is_checked_where_it_is() -> None:
    """A new position names its problems by the new path, so it is not a remembered one."""
    remembered = Remembered()
    validate_object(DEPLOYMENT, remembered, learn=True)
    swapped = {**DEPLOYMENT, "spec": {"template": {"spec": {
        **DEPLOYMENT["spec"]["template"]["spec"],
        "containers": list(reversed(DEPLOYMENT["spec"]["template"]["spec"]["containers"]))}}}}
    assert validate_object(swapped, remembered) == validate_object(swapped)
    assert any(".containers[1].ports[0]" in str(p) for p in validate_object(swapped, remembered))
