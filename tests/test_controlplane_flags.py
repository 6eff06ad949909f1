"""Control-plane flags as CIS states them, read the way each distribution gives them.

kubeadm: static Pod command lines. RKE2: static Pods whose etcd reads `--config-file` (its
flags are not visible: not assessable, never a guessed fail). k3s: no Pods at all; k3s's own
defaults overridden by `--kube-apiserver-arg` options, recorded on the Node as `k3s.io/node-args`.
"""

from __future__ import annotations

import json

import pytest

from kspm_tui.graph.controlplane import k3s_component_args

K3S = """\
apiVersion: v1
kind: Namespace
metadata: {name: kube-system}
---
apiVersion: v1
kind: Node
metadata:
  name: k3s-server-1
  labels: {node-role.kubernetes.io/control-plane: "true"}
  annotations:
    k3s.io/node-args: '["server","--cluster-init","--kube-apiserver-arg","audit-log-path=/var/log/k3s-audit.log","--kube-apiserver-arg=audit-log-maxage=7","--kube-apiserver-arg","audit-policy-file=/etc/k3s/audit.yaml","--kube-apiserver-arg","profiling=true","--token","********"]'
---
apiVersion: v1
kind: Node
metadata:
  name: k3s-agent-1
  annotations:
    k3s.io/node-args: '["agent","--server","https://10.0.0.1:6443"]'
"""

RKE2 = """\
apiVersion: v1
kind: Namespace
metadata: {name: kube-system}
---
apiVersion: v1
kind: Pod
metadata: {name: etcd-rke2-server-1, namespace: kube-system, labels: {component: etcd, tier: control-plane}}
spec:
  containers:
    - name: etcd
      image: index.docker.io/rancher/hardened-etcd:v3.5.13-k3s1-build20240531
      command: [etcd]
      args: ["--config-file=/var/lib/rancher/rke2/server/db/etcd/config"]
---
apiVersion: v1
kind: Pod
metadata: {name: kube-apiserver-rke2-server-1, namespace: kube-system, labels: {component: kube-apiserver, tier: control-plane}}
spec:
  containers:
    - name: kube-apiserver
      image: index.docker.io/rancher/hardened-kubernetes:v1.30.2-rke2r1-build20240614
      command: [kube-apiserver]
      args: ["--anonymous-auth=false", "--profiling=false", "--request-timeout=2h",
             "--tls-cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"]
"""


def _scan(run_cli, text: str) -> dict:
    res = run_cli("scan", "-", "-o", "json", "--fail-on", "none", stdin=text)
    assert res.code == 0, res.stderr
    return json.loads(res.stdout)


def _by_rule(result: dict) -> dict[str, dict]:
    return {f["rule"]: f for f in result["findings"]}


@pytest.mark.parametrize(("args", "expected"), [
    (["server", "--kube-apiserver-arg", "a=1", "--kube-apiserver-arg=b=2"], {"kube-apiserver": {"a": "1", "b": "2"}}),
    (["server", "--kube-controller-manager-arg", "--terminated-pod-gc-threshold=100"],
     {"kube-controller-manager": {"terminated-pod-gc-threshold": "100"}}),
    (["server", "--kube-apiserver-arg", "a=1", "--kube-apiserver-arg", "a=2", "--etcd-arg", "x"],
     {"kube-apiserver": {"a": "2"}, "etcd": {"x": "true"}}),
])
def test_k3s_argument_forms(args: list[str], expected: dict) -> None:
    assert k3s_component_args(args) == expected


def test_k3s_flags_are_its_defaults_and_the_servers_args(run_cli) -> None:
    found = _by_rule(_scan(run_cli, K3S))
    # k3s sets these itself: not findings.
    for rule in ("K8S-APISERVER-ANONYMOUS-AUTH", "K8S-APISERVER-AUTHZ-RBAC", "K8S-APISERVER-NODE-RESTRICTION",
                 "K8S-APISERVER-TLS", "K8S-APISERVER-AUDIT-LOG", "K8S-SCHEDULER-PROFILING"):
        assert rule not in found or found[rule]["status"] != "fail", found.get(rule)
    profiling = found["K8S-APISERVER-PROFILING"]
    assert profiling["status"] == "fail" and (profiling["kind"], profiling["name"]) == ("Node", "k3s-server-1")
    assert "kube-apiserver-arg" in profiling["remediation"]["guidance"]
    assert "/etc/rancher/k3s/config.yaml" in profiling["remediation"]["guidance"]
    assert profiling["remediation"]["kubectl"] is None
    retention = found["K8S-APISERVER-AUDIT-RETENTION"]
    assert retention["status"] == "fail"
    assert "--audit-log-maxage=7 (at least 30)" in retention["message"]
    assert "--audit-log-maxbackup unset (at least 10)" in retention["message"]
    # k3s's embedded etcd is not visible through the API: not assessable, not pass.
    assert found["K8S-ETCD-TLS"]["status"] == "not-assessable"


def test_rke2_config_file_flags_are_not_assessable_and_pod_args_are_read(run_cli) -> None:
    result = _scan(run_cli, RKE2)
    found = _by_rule(result)
    etcd = found["K8S-ETCD-TLS"]
    assert etcd["status"] == "not-assessable"
    assert "/var/lib/rancher/rke2/server/db/etcd/config" in etcd["message"]
    assert found["K8S-APISERVER-REQUEST-TIMEOUT"]["status"] == "fail"
    assert found["K8S-APISERVER-REQUEST-TIMEOUT"]["message"] == "--request-timeout=2h (longer than 5m)"
    assert "K8S-APISERVER-TLS-CIPHERS" not in found
    assert "K8S-APISERVER-ANONYMOUS-AUTH" not in found
