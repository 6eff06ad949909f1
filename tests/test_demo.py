"""The bundled demo cluster: big and varied enough, internally consistent, and in sync with
its generator; scanned through the real CLI it exercises every rule category."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from kspm_tui.engine.loader import load_rules
from kspm_tui.locations import builtin_dir
from kspm_tui.snapshot import DEFAULT_SYSTEM_NAMESPACES, Snapshot
from kspm_tui.sources.demo import demo_files, read_demo

ROOT = Path(__file__).resolve().parent.parent
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicaSet", "Pod"}


@pytest.fixture(scope="module")
def snapshot() -> Snapshot:
    return Snapshot(read_demo().objects)


def _scan(tmp: Path, *extra: str) -> dict[str, Any]:
    env = {**os.environ, "KSPM_TUI_CONFIG_DIR": str(tmp / "config"), "KSPM_TUI_DATA_DIR": str(tmp / "data")}
    proc = subprocess.run([sys.executable, "-m", "kspm_tui", "scan", "--demo", "-o", "json", *extra],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _scan(tmp_path_factory.mktemp("scan"))


@pytest.fixture(scope="module")
def report_with_system(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _scan(tmp_path_factory.mktemp("scan-system"), "--include-system")


def test_demo_reads_without_errors_and_names_its_files() -> None:
    collected = read_demo()
    assert collected.errors == []
    sources = {o.source.file for o in collected.objects}
    assert sources == {f"demo/{f.name}" for f in demo_files()}
    assert all(o.source.document and o.source.line for o in collected.objects)


def test_demo_is_a_cluster_of_realistic_size(snapshot: Snapshot) -> None:
    namespaces = {o.obj["metadata"]["name"] for o in snapshot.of_kind("Namespace")}
    assert len(namespaces) >= 6 and {"kube-system", "default"} <= namespaces
    assert snapshot.cluster_id == snapshot.get("Namespace", None, "kube-system").obj["metadata"]["uid"]
    workloads = list(snapshot.workloads())
    assert len(workloads) >= 40
    assert {w.kind for w in workloads} >= WORKLOAD_KINDS
    # workloads live in app namespaces too, not only in kube-system
    per_namespace = Counter(w.namespace for w in workloads)
    assert sum(n for ns, n in per_namespace.items() if ns not in DEFAULT_SYSTEM_NAMESPACES) >= 30
    assert len(snapshot.of_kind("Node")) == 3


def test_every_owner_reference_resolves_to_the_owner_it_names(snapshot: Snapshot) -> None:
    refs = 0
    for item in snapshot.items:
        meta = item.obj["metadata"]
        for ref in meta.get("ownerReferences") or ():
            owner = snapshot.by_uid.get(ref["uid"])
            assert owner is not None, f"{item.obj['kind']} {meta['name']}: owner {ref['kind']}/{ref['name']} missing"
            assert (owner.obj["kind"], owner.obj["metadata"]["name"]) == (ref["kind"], ref["name"])
            if owner.obj["kind"] != "Node":
                assert owner.obj["metadata"].get("namespace") == meta.get("namespace")
            refs += 1
    assert refs > 100


def test_owned_objects_fold_into_their_workload(snapshot: Snapshot) -> None:
    """Deployments own ReplicaSets (one scaled to 0 somewhere) and Pods; CronJobs own Jobs and Pods."""
    owned = Counter((item.obj["kind"], snapshot.top_owner(item).obj["kind"]) for item in snapshot.items
                    if item.obj["kind"] in WORKLOAD_KINDS and snapshot.top_owner(item) is not item)
    for pair in (("ReplicaSet", "Deployment"), ("Pod", "Deployment"), ("Job", "CronJob"), ("Pod", "CronJob"),
                 ("Pod", "StatefulSet"), ("Pod", "DaemonSet"), ("Pod", "Job"), ("Pod", "ReplicaSet")):
        assert owned[pair] >= 1, pair
    assert any(o.obj["spec"]["replicas"] == 0 for o in snapshot.of_kind("ReplicaSet"))
    static = [o for o in snapshot.of_kind("Pod") if (o.obj["metadata"].get("ownerReferences") or [{}])[0].get("kind") == "Node"]
    assert {o.obj["metadata"]["labels"]["component"] for o in static} == {
        "kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"}


def test_secrets_carry_no_values(snapshot: Snapshot) -> None:
    secrets = snapshot.of_kind("Secret")
    assert secrets and all("data" not in s.obj and "stringData" not in s.obj for s in secrets)


def test_scan_attaches_findings_to_top_level_workloads(report_with_system: dict[str, Any], snapshot: Snapshot) -> None:
    findings = report_with_system["findings"]
    assert findings
    for finding in findings:
        if finding["kind"] in ("ReplicaSet", "Pod", "Job"):
            item = snapshot.get(finding["kind"], finding["namespace"], finding["name"])
            assert item is not None
            owner = snapshot.owner(item.obj)
            assert owner is None or owner.obj["kind"] == "Node", f"finding on owned {finding['kind']} {finding['name']}"
        if finding["kind"] != "Cluster":  # cluster-scope findings describe no single object
            assert finding["source"]["file"].startswith("demo/")


def test_system_workloads_are_excluded_by_default_and_shown_on_request(
        report: dict[str, Any], report_with_system: dict[str, Any]) -> None:
    excluded = report["excluded"]
    assert set(excluded["namespaces"]) == set(DEFAULT_SYSTEM_NAMESPACES)
    assert excluded["workloads"] >= 8
    system = set(DEFAULT_SYSTEM_NAMESPACES)
    workload_kinds = WORKLOAD_KINDS
    hidden = [f for f in report["findings"] if f["namespace"] in system and f["kind"] in workload_kinds
              and not f["name"].startswith(("kube-apiserver-", "kube-controller-manager-", "kube-scheduler-", "etcd-"))]
    assert hidden == []
    shown = [f for f in report_with_system["findings"] if f["namespace"] == "kube-system"]
    assert shown, "kube-system findings (privileged CNI/kube-proxy) appear with --include-system"
    assert report_with_system["excluded"]["workloads"] == 0


def test_every_rule_category_fails_somewhere_on_the_demo(report: dict[str, Any]) -> None:
    """The demo keeps exercising the pack as rules are added: each category has a failing finding."""
    ruleset = load_rules([builtin_dir("rules")])
    categories = {r.rule.category.value for r in ruleset.rules}
    failing = Counter(f["category"] for f in report["findings"] if f["status"] == "fail")
    missing = sorted(c for c in categories if not failing[c])
    assert not missing, f"no failing finding on the demo for categories: {missing}"


def test_committed_demo_equals_a_fresh_generator_run() -> None:
    spec = importlib.util.spec_from_file_location("make_demo", ROOT / "tools" / "make_demo.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fresh = module.render()
    committed = {f.name: f.read_text(encoding="utf-8") for f in demo_files()}
    assert sorted(fresh) == sorted(committed)
    for name, text in fresh.items():
        assert committed[name] == text, f"kspm_tui/demo/{name} differs: run python tools/make_demo.py"


# -- the documented attack paths and decoys (kspm_tui/demo/README.md) stay as documented ----
def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """matchLabels / In-expression semantics, enough for the demo's selectors."""
    if not all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    return all(labels.get(e["key"]) in e["values"] for e in selector.get("matchExpressions") or ()
               if e["operator"] == "In")


def _exposed_pods(snapshot: Snapshot, namespace: str, ingress: str) -> list[dict[str, Any]]:
    """Pods behind an Ingress: rule backends → Services → selector → running Pods."""
    spec = snapshot.get("Ingress", namespace, ingress).obj["spec"]
    pods = []
    for path in spec["rules"][0]["http"]["paths"]:
        service = snapshot.get("Service", namespace, path["backend"]["service"]["name"]).obj
        pods += [p.obj for p in snapshot.of_kind("Pod") if p.obj["metadata"]["namespace"] == namespace
                 and _selects({"matchLabels": service["spec"]["selector"]}, p.obj["metadata"]["labels"])]
    assert pods, f"Ingress {namespace}/{ingress} reaches no pod"
    return pods


def _token_mounted(pod: dict[str, Any]) -> bool:
    return any(v["name"].startswith("kube-api-access-") for v in pod["spec"].get("volumes") or ())


def _ingress_allowed_from_controller(snapshot: Snapshot, pod: dict[str, Any]) -> bool:
    """Not isolated for ingress, or some policy selecting it admits the ingress-nginx namespace."""
    namespace = pod["metadata"]["namespace"]
    policies = [p.obj for p in snapshot.of_kind("NetworkPolicy") if p.obj["metadata"]["namespace"] == namespace
                and _selects(p.obj["spec"]["podSelector"], pod["metadata"]["labels"])]
    if not policies:
        return True
    controller_ns = snapshot.get("Namespace", None, "ingress-nginx").obj["metadata"]["labels"]
    return any(_selects(peer.get("namespaceSelector", {"matchLabels": {"-": "-"}}), controller_ns)
               for p in policies for rule in p["spec"].get("ingress") or () for peer in rule.get("from") or ())


def _cluster_role_subjects(snapshot: Snapshot, role: str) -> set[tuple[str, str | None, str]]:
    return {(s["kind"], s.get("namespace"), s["name"]) for b in snapshot.of_kind("ClusterRoleBinding")
            if b.obj["roleRef"]["name"] == role for s in b.obj["subjects"]}


def test_path_internet_to_jenkins_to_cluster_admin(snapshot: Snapshot) -> None:
    lb = snapshot.get("Service", "ingress-nginx", "ingress-nginx-controller").obj["spec"]
    assert lb["type"] == "LoadBalancer" and "loadBalancerSourceRanges" not in lb
    pods = _exposed_pods(snapshot, "ci", "jenkins")
    assert all(_token_mounted(p) and p["spec"]["serviceAccountName"] == "jenkins" for p in pods)
    assert all(_ingress_allowed_from_controller(snapshot, p) for p in pods)
    assert ("ServiceAccount", "ci", "jenkins") in _cluster_role_subjects(snapshot, "cluster-admin")


def test_path_internet_to_payments_api_to_cloud_identity(snapshot: Snapshot) -> None:
    pods = _exposed_pods(snapshot, "payments", "payments-api")
    assert all(_token_mounted(p) and _ingress_allowed_from_controller(snapshot, p) for p in pods)
    account = snapshot.get("ServiceAccount", "payments", pods[0]["spec"]["serviceAccountName"]).obj
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::")


def test_decoys_look_similar_but_are_cut(snapshot: Snapshot) -> None:
    storefront = _exposed_pods(snapshot, "shop", "storefront")
    assert all(_ingress_allowed_from_controller(snapshot, p) for p in storefront)
    assert not any(_token_mounted(p) for p in storefront)  # its SA can read secrets, but no token
    reader = snapshot.get("RoleBinding", "shop", "storefront-config-reader").obj
    assert reader["subjects"][0]["name"] == storefront[0]["spec"]["serviceAccountName"]

    pgadmin = _exposed_pods(snapshot, "data", "pgadmin")
    assert all(_token_mounted(p) for p in pgadmin)  # admin in data, token mounted ...
    assert not any(_ingress_allowed_from_controller(snapshot, p) for p in pgadmin)  # ... but unreachable


def test_timestamps_are_consistent(snapshot: Snapshot) -> None:
    """Nothing predates its namespace, owner or node, nothing postdates the snapshot."""
    def created(obj: dict[str, Any]) -> str:
        return obj["metadata"]["creationTimestamp"]

    taken = "2025-11-18T09:30:00Z"  # when the snapshot was taken (kspm_tui/demo/README.md)
    born = created(snapshot.get("Namespace", None, "kube-system").obj)
    for item in snapshot.items:
        obj = item.obj
        assert born <= created(obj) <= taken
        namespace = obj["metadata"].get("namespace")
        if namespace:
            assert created(snapshot.get("Namespace", None, namespace).obj) <= created(obj), obj["metadata"]["name"]
        owner = snapshot.owner(obj)
        if owner is not None:
            assert created(owner.obj) <= created(obj), obj["metadata"]["name"]
        if obj["kind"] == "Pod":
            node = snapshot.get("Node", None, obj["spec"]["nodeName"])
            assert node is not None and created(node.obj) <= created(obj), obj["metadata"]["name"]


def test_kubectl_style_yaml_round_trips_every_demo_object() -> None:
    """Quoting only where needed must never change a value's type (`"true"`, `"3"`, `'*'`)."""
    from kspm_tui.yamlio import dump_kubectl_yaml, load_yaml

    objects = [o.obj for o in read_demo().objects]
    for obj in objects:
        assert load_yaml(dump_kubectl_yaml(obj)) == obj
    text = dump_kubectl_yaml({"a": ["true", "3", "", "*", "--all", "x\ny\n"]})
    assert text == 'a:\n- "true"\n- "3"\n- ""\n- \'*\'\n- --all\n- |\n  x\n  y\n'


def test_hardened_reference_workload_has_no_findings(report: dict[str, Any]) -> None:
    """`shop/storefront` is built to pass every workload rule (restricted, pinned, probes,
    limits, no token, secrets as files); a finding on it is a false positive or a demo bug."""
    on_storefront = [(f["rule"], f["container"]) for f in report["findings"]
                     if f["namespace"] == "shop" and f["name"] == "storefront" and f["status"] == "fail"]
    assert on_storefront == []
