"""The test API server speaks the protocol faithfully: the real kubectl can read from it."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from tests.kubectl import KUBECTL, requires_kubectl

pytestmark = requires_kubectl


def kubectl(config: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(KUBECTL), "--kubeconfig", str(config), "--cache-dir", str(tmp_path / "cache"), *args],
                          capture_output=True, text=True, timeout=60, check=False)


def test_kubectl_gets_pods_in_all_namespaces(serve, kubeconfig, tmp_path):
    server = serve()
    result = kubectl(kubeconfig(server), tmp_path, "get", "pods", "-A")
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    assert rows[0][:2] == ["NAMESPACE", "NAME"]
    assert ["shop", "web-5d4f-abcde"] in [r[:2] for r in rows[1:]]
    assert ["default", "debug"] in [r[:2] for r in rows[1:]]
    assert {e.path for e in server.log} >= {"/api", "/apis", "/api/v1", "/api/v1/pods"}


def test_kubectl_gets_clusterrolebindings(serve, kubeconfig, tmp_path):
    server = serve()
    result = kubectl(kubeconfig(server), tmp_path, "get", "clusterrolebindings", "-o", "name")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["clusterrolebinding.rbac.authorization.k8s.io/everyone-admin"]


def test_kubectl_watches_pods(serve, kubeconfig, tmp_path):
    server = serve()
    proc = subprocess.Popen(
        [str(KUBECTL), "--kubeconfig", str(kubeconfig(server)), "--cache-dir", str(tmp_path / "cache"),
         "get", "pods", "-n", "shop", "--watch", "--output-watch-events"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        header, first = proc.stdout.readline(), proc.stdout.readline()
        assert header.split()[:2] == ["EVENT", "NAME"]
        assert first.split()[:2] == ["ADDED", "web-5d4f-abcde"]
        while not any(e.query.get("watch") for e in server.log):
            time.sleep(0.05)
        server.store.put({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "new", "namespace": "shop"},
                          "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
        assert proc.stdout.readline().split()[:2] == ["ADDED", "new"]
        server.store.delete({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "new", "namespace": "shop"}})
        assert proc.stdout.readline().split()[:2] == ["DELETED", "new"]
    finally:
        proc.terminate()
        proc.wait(10)
    watches = [e for e in server.log if e.query.get("watch")]
    assert watches and watches[0].query["resourceVersion"] != ["0"]


def test_kubectl_sees_a_bad_token_as_unauthorized(serve, kubeconfig, tmp_path):
    server = serve()
    result = kubectl(kubeconfig(server, token="wrong"), tmp_path, "get", "pods")
    assert result.returncode != 0
    assert "You must be logged in to the server" in result.stderr
    assert {e.status for e in server.log} == {401}
