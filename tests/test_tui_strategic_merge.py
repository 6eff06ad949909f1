"""The local strategic merge behind the finding diff agrees with the real `kubectl patch --local`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from kspm_tui import strategic_merge
from kspm_tui.yamlio import dump_yaml, load_yaml
from tests.kubectl import KUBECTL, requires_kubectl

DEPLOYMENT = load_yaml("""
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      volumes: [{name: data, emptyDir: {}}, {name: tmp, emptyDir: {}}]
      containers:
        - name: nginx
          image: nginx:1.27
          env: [{name: A, value: "1"}, {name: B, value: "2"}]
          securityContext: {privileged: true, runAsUser: 0}
        - name: sidecar
          image: busybox:1.36
          args: [sleep, "3600"]
""")

PATCHES = [
    {"spec": {"template": {"spec": {"containers": [{"name": "nginx", "securityContext": {"privileged": False}}]}}}},
    {"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "args": ["sleep", "60"],
                                                     "securityContext": {"runAsNonRoot": True}}]}}}},
    {"spec": {"template": {"spec": {"containers": [{"name": "nginx", "securityContext": {"runAsUser": None},
                                                     "env": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}]}]}}}},
    {"spec": {"template": {"spec": {"automountServiceAccountToken": False,
                                     "volumes": [{"name": "tmp", "$patch": "delete"}]}}}},
    {"spec": {"template": {"spec": {"initContainers": [{"name": "init", "image": "busybox:1.36"}]}}}},
]


@requires_kubectl
@pytest.mark.parametrize("patch", PATCHES, ids=range(len(PATCHES)))
def test_matches_kubectl_patch_local(tmp_path: Path, patch: dict) -> None:
    manifest = tmp_path / "deploy.yaml"
    manifest.write_text(dump_yaml(DEPLOYMENT))
    proc = subprocess.run(
        [str(KUBECTL), "patch", "--local", "-f", str(manifest), "--type=strategic", "-p", json.dumps(patch),
         "-o", "json"], check=False, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    expected = json.loads(proc.stdout)
    assert strategic_merge.apply(DEPLOYMENT, patch) == expected


def test_original_is_not_modified() -> None:
    before = json.dumps(DEPLOYMENT, sort_keys=True)
    strategic_merge.apply(DEPLOYMENT, PATCHES[0])
    assert json.dumps(DEPLOYMENT, sort_keys=True) == before
