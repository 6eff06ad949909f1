"""The rule library beyond Pod Security: every rule proves itself with its own manifests,
maps to the frameworks it claims, and raises nothing on a hardened reference set."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from kspm_tui.engine.testing import run_rule_tests
from kspm_tui.frameworks import load_frameworks
from kspm_tui.yamlio import load_yaml_all
from tests.rulelib_support import RULELIB_DIRS, rulelib_rules

RULESET = rulelib_rules()
FRAMEWORKS = load_frameworks()
HARDENED = Path(__file__).parent / "fixtures" / "hardened"


def test_rule_files_load_without_errors() -> None:
    assert RULESET.errors == []
    assert len(RULESET.rules) >= 80


def test_rule_ids_are_unique_across_files() -> None:
    ids = Counter(doc["id"] for d in RULELIB_DIRS for p in sorted(d.glob("*.yaml"))
                  for doc in load_yaml_all(p.read_text()) if doc)
    assert [i for i, n in ids.items() if n > 1] == []


@pytest.mark.parametrize("compiled", RULESET.rules, ids=lambda r: r.id)
def test_rule_passes_its_own_manifests(compiled) -> None:
    failures = [f"{c.expect}[{c.index}]: {c.detail}" for c in run_rule_tests(compiled) if not c.ok]
    assert failures == []


@pytest.mark.parametrize("compiled", RULESET.rules, ids=lambda r: r.id)
def test_rule_maps_to_catalogued_controls(compiled) -> None:
    rule = compiled.rule
    refs = [ref.partition(":") for ref in rule.frameworks]
    assert any(fw in ("nsa-cisa", "mitre") for fw, _, _ in refs), "map to NSA/CISA or MITRE ATT&CK"
    for fw, _, control in refs:
        catalog = {c.id: c for c in FRAMEWORKS[fw].controls}
        assert control in catalog, f"{fw}:{control} is not in frameworks/{fw}.yaml"
    cis = [{c.id: c for c in FRAMEWORKS["cis"].controls}[c] for fw, _, c in refs if fw == "cis"]
    if cis:
        assert rule.manual == any(not c.automated for c in cis), "manual must follow the CIS catalog"
    assert len(rule.why.split()) >= 20, "say why in a few sentences"
    assert rule.remediation.patch or rule.remediation.patch_expression or rule.remediation.guidance


def test_hardened_reference_set_has_no_failing_findings(run_cli) -> None:
    """Every rule of the pack is evaluated on the hardened set and none fails (no noise)."""
    result = run_cli("scan", str(HARDENED), "-o", "json")
    assert result.code == 0, result.stderr
    doc = json.loads(result.stdout)
    failing = [(f["rule"], f["kind"], f["name"], f["message"]) for f in doc["findings"] if f["status"] == "fail"]
    assert failing == []
    assert doc["errors"] == [] and doc["rule_errors"] == []
    stats = {s["rule"]: s for s in doc["rule_stats"]}
    ours = {r.id for r in RULESET.rules}
    assert [r for r in ours if stats[r]["not_assessable"]] == []
    assert [r for r in ours if stats[r]["evaluated"] == 0] == [], "the hardened set must exercise every rule"


def test_secret_values_never_reach_output(run_cli, tmp_path: Path) -> None:
    secret, url_password = "Sup3r-S3cret-Passw0rd", "hunter2hunter2"
    manifest = tmp_path / "app.yaml"
    manifest.write_text(f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: api, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: api}}}}
  template:
    metadata: {{labels: {{app: api}}}}
    spec:
      containers:
        - name: api
          image: shop/api:2.1.0
          env:
            - {{name: DB_PASSWORD, value: "{secret}"}}
            - {{name: DATABASE_URL, value: "postgres://shop:{url_password}@db:5432/shop"}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: settings, namespace: shop}}
data: {{api_token: "{secret}"}}
""")
    for fmt in ("table", "json"):
        result = run_cli("scan", str(manifest), "-o", fmt)
        assert result.code == 0, result.stderr
        assert secret not in result.stdout and url_password not in result.stdout
    doc = json.loads(run_cli("scan", str(manifest), "-o", "json").stdout)
    messages = {f["rule"]: f["message"] for f in doc["findings"]}
    assert "DB_PASSWORD" in messages["K8S-SECRET-IN-ENV-LITERAL"]
    assert "DATABASE_URL" in messages["K8S-SECRET-IN-ENV-LITERAL"]
    assert "api_token" in messages["K8S-SECRET-IN-CONFIGMAP"]
    evidence = [e for f in doc["findings"] if f["rule"] == "K8S-SECRET-IN-ENV-LITERAL" for e in f["evidence"]]
    assert any(str(e["value"]).startswith("<redacted") for e in evidence)


def test_registry_allow_list_is_set_in_config(run_cli, user_dirs: Path, tmp_path: Path) -> None:
    manifest = tmp_path / "pod.yaml"
    manifest.write_text("""
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: shop}
spec: {containers: [{name: a, image: "registry.example.com/shop/api:1.0"}, {name: b, image: "evil.example.net/miner:1.0"}]}
""")
    rule = "K8S-IMAGE-REGISTRY-NOT-ALLOWED"
    before = json.loads(run_cli("scan", str(manifest), "-o", "json").stdout)
    assert not [f for f in before["findings"] if f["rule"] == rule], "inactive until configured"
    config = user_dirs / "config" / "config.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f"params:\n  {rule}:\n    allowedRegistries: [registry.example.com]\n")
    after = json.loads(run_cli("scan", str(manifest), "-o", "json").stdout)
    hits = [f for f in after["findings"] if f["rule"] == rule]
    assert [(f["container"], f["status"]) for f in hits] == [("b", "fail")]
    assert "evil.example.net" in hits[0]["message"]


def test_evidence_paths_point_into_the_owning_object(run_cli, tmp_path: Path) -> None:
    """Pod-scope evidence is relative to the pod template, container-scope to the container."""
    manifest = tmp_path / "deploy.yaml"
    manifest.write_text("""
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      shareProcessNamespace: true
      containers: [{name: api, image: "shop/api:2.1.0"}]
""")
    doc = json.loads(run_cli("scan", str(manifest), "-o", "json").stdout)
    paths = {f["rule"]: [e["path"] for e in f["evidence"]] for f in doc["findings"]}
    assert paths["K8S-SHARE-PROCESS-NAMESPACE"] == ["spec.template.spec.shareProcessNamespace"]
    assert paths["K8S-READONLY-ROOT-FILESYSTEM"] == [
        "spec.template.spec.containers[api].securityContext.readOnlyRootFilesystem"]


def test_namespace_facts_follow_each_workload(run_cli, tmp_path: Path) -> None:
    """Workloads of different namespaces, interleaved, each see their own namespace's facts."""
    def deployment(name: str, namespace: str) -> str:
        return f"""---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec: {{containers: [{{name: c, image: "nginx:1.27"}}]}}
"""
    manifest = tmp_path / "mixed.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: LimitRange\nmetadata: {name: defaults, namespace: b}\n"
        "spec: {limits: [{type: Container, defaultRequest: {cpu: 100m, memory: 64Mi}}]}\n"
        + deployment("a1", "a") + deployment("b1", "b") + deployment("a2", "a") + deployment("b2", "b"))
    doc = json.loads(run_cli("scan", str(manifest), "-o", "json").stdout)
    flagged = sorted(f["name"] for f in doc["findings"] if f["rule"] == "K8S-RESOURCES-REQUESTS")
    assert flagged == ["a1", "a2"]


SPARSE = """
apiVersion: v1
kind: Service
metadata: {name: bare, namespace: shop}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: bare, namespace: shop}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: no-path, namespace: shop}
spec:
  rules: [{host: grafana.example.com, http: {paths: [{pathType: ImplementationSpecific, backend: {service: {name: grafana, port: {number: 80}}}}]}}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: aggregated, labels: {}}
aggregationRule: {clusterRoleSelectors: [{matchLabels: {x: "true"}}]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: odd, namespace: shop}
rules: [{nonResourceURLs: ["/healthz"], verbs: [get]}, {apiGroups: [""], resources: [pods]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: nobody, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: odd}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: empty, namespace: shop}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: default, namespace: shop}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Pod
metadata: {name: sparse, namespace: shop}
spec:
  hostAliases: [{hostnames: [a.example]}]
  containers: [{name: c, ports: [{containerPort: 80}], env: [{name: TOKEN}], resources: {}}]
"""


def test_sparse_objects_raise_no_rule_errors(run_cli, tmp_path: Path) -> None:
    """Fields left out (as hand-written manifests do) are findings or passes, never rule errors."""
    manifest = tmp_path / "sparse.yaml"
    manifest.write_text(SPARSE)
    result = run_cli("scan", str(manifest), "-o", "json")
    doc = json.loads(result.stdout)
    assert doc["rule_errors"] == [] and result.code == 0, doc["rule_errors"]
