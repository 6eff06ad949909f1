"""Rules as the benchmarks and an operator read them: literal credentials redacted, moving tags
one finding, CIS 5.7.4 beyond Services, limits and sysctls as Kubernetes defines them."""

from __future__ import annotations

import json

MANIFEST = """\
apiVersion: v1
kind: Namespace
metadata: {name: default}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      securityContext:
        sysctls:
          - {name: net.ipv4.ip_unprivileged_port_start, value: "0"}
          - {name: net.ipv4.tcp_keepalive_time, value: "600"}
      containers:
        - name: api
          image: ghcr.io/example/api:main
          resources: {requests: {cpu: 100m, memory: 128Mi}}
          env:
            - {name: AWS_ACCESS_KEY_ID, value: AKIAIOSFODNN7EXAMPLE}
            - {name: DB_PASSWORD, value: "s3cr3t-Pa55w0rd"}
            - {name: LOG_LEVEL, value: debug}
        - name: worker
          image: ghcr.io/example/worker:1.8.2
          resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {cpu: "1", memory: 256Mi}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: default}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: v1
kind: Endpoints
metadata: {name: kubernetes, namespace: default}
subsets: [{addresses: [{ip: 172.18.0.2}], ports: [{name: https, port: 6443}]}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: default}
spec: {minAvailable: 1, selector: {matchLabels: {app: web}}}
"""


def _scan(run_cli) -> tuple[str, list[dict]]:
    res = run_cli("scan", "-", "-o", "json", "--fail-on", "none", stdin=MANIFEST)
    assert res.code == 0, res.stderr
    return res.stdout, [f for f in json.loads(res.stdout)["findings"] if f["status"] == "fail"]


def test_literal_credentials_are_flagged_and_never_shown(run_cli) -> None:
    raw, findings = _scan(run_cli)
    literal = [f for f in findings if f["rule"] == "K8S-SECRET-IN-ENV-LITERAL"]
    assert len(literal) == 1
    assert literal[0]["message"] == "literal secret in env AWS_ACCESS_KEY_ID, DB_PASSWORD (value redacted)"
    values = {e["path"].rsplit("[", 1)[-1]: e["value"] for e in literal[0]["evidence"]}
    assert values["AWS_ACCESS_KEY_ID].value"] == "<redacted: 20 chars>"
    assert values["DB_PASSWORD].value"].startswith("<redacted")
    assert "AKIAIOSFODNN7EXAMPLE" not in raw and "s3cr3t-Pa55w0rd" not in raw


def test_a_moving_tag_is_one_class(run_cli) -> None:
    _, findings = _scan(run_cli)
    api = {f["rule"]: f for f in findings if f["container"] == "api" and f["category"] == "Image hygiene"}
    # The tag (pin a version: clears the digest note too) and, with its own patch, the pull policy.
    assert set(api) == {"K8S-IMAGE-MUTABLE-TAG", "K8S-IMAGE-PULL-POLICY"}
    assert api["K8S-IMAGE-MUTABLE-TAG"]["message"] == "image ghcr.io/example/api:main uses the moving tag :main"
    assert api["K8S-IMAGE-MUTABLE-TAG"]["covers"] == ["K8S-IMAGE-NO-DIGEST"]
    worker = {f["rule"] for f in findings if f["container"] == "worker" and f["category"] == "Image hygiene"}
    assert worker == {"K8S-IMAGE-NO-DIGEST"}  # a version tag: only the informational digest note


def test_cis_5_7_4_reports_what_an_application_adds_to_default(run_cli) -> None:
    _, findings = _scan(run_cli)
    in_default = {(f["kind"], f["name"]) for f in findings if f["rule"] == "K8S-DEFAULT-NAMESPACE-OBJECTS"}
    assert in_default == {("PersistentVolumeClaim", "data"), ("PodDisruptionBudget", "web")}


def test_requests_without_limits_fail_and_safe_sysctls_pass(run_cli) -> None:
    _, findings = _scan(run_cli)
    limits = {(f["rule"], f["container"]) for f in findings if f["rule"].endswith("-LIMIT")}
    assert limits == {("K8S-RESOURCES-CPU-LIMIT", "api"), ("K8S-RESOURCES-MEMORY-LIMIT", "api")}
    assert not [f for f in findings if f["rule"] == "K8S-UNSAFE-SYSCTLS"]
