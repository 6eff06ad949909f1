"""Live scans against the test API server: same findings as offline, faults survived, gaps shown."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from kspm_tui.model import Status, fingerprint
from kspm_tui.scan import ScanSettings, load_ruleset, scan
from kspm_tui.sources.files import read_paths
from kspm_tui.sources.kubeconfig import connect
from kspm_tui.sources.live import WANTED, Collector, Progress
from tests.apiserver.fixtures import CLUSTER, TEST_RULES, manifests


def comparable(result, cluster: str = "X") -> set[tuple]:
    """Findings with the cluster id factored out of the fingerprint (it differs by design)."""
    return {(fingerprint(f.rule, cluster, f.kind, f.namespace, f.name, f.container), f.rule, f.status.value,
             f.kind, f.namespace, f.name, f.container, f.message) for f in result.findings}


def live_collect(server, config: Path, **kwargs):
    connection = connect(None, str(config))
    try:
        return Collector(connection, **kwargs).run()
    finally:
        connection.close()


def test_live_scan_equals_offline_scan_of_the_same_objects(serve, kubeconfig):
    server = serve()
    settings = ScanSettings(rules_dirs=[TEST_RULES], context="test", cluster_name="test")
    ruleset = load_ruleset(settings)
    live = scan(live_collect(server, kubeconfig(server)).collected, settings, ruleset)
    offline = scan(read_paths([str(CLUSTER)]), settings, ruleset)
    assert live.findings, "the fixture cluster has failing findings"
    assert comparable(live) == comparable(offline)
    # The cluster ids agree too: both are the kube-system Namespace's UID.
    assert live.cluster.id == offline.cluster.id == "7d1c2f3e-0000-4000-8000-000000000001"
    assert {f.context for f in live.findings} == {"test"}
    assert [s.model_dump() for s in live.rule_stats] == [s.model_dump() for s in offline.rule_stats]


def test_secrets_are_listed_as_metadata_only(serve, kubeconfig):
    server = serve()
    collected = live_collect(server, kubeconfig(server)).collected
    secrets = [i.obj for i in collected.objects if i.obj["kind"] == "Secret"]
    assert [s["metadata"]["name"] for s in secrets] == ["db-password"]
    assert set(secrets[0]) == {"apiVersion", "kind", "metadata"}
    assert "kubectl.kubernetes.io/last-applied-configuration" not in secrets[0]["metadata"].get("annotations", {})
    assert "aHVudGVyMg" not in json.dumps([i.obj for i in collected.objects])


def test_pagination_progress_and_cluster_id(serve, kubeconfig):
    pods = [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i:03}", "namespace": "default"},
             "spec": {"containers": [{"name": "c", "image": "nginx"}]}} for i in range(230)]
    server = serve(manifests() + pods)
    seen: list[Progress] = []
    live = live_collect(server, kubeconfig(server), page_size=50, progress=seen.append)
    names = {i.obj["metadata"]["name"] for i in live.collected.objects if i.obj["kind"] == "Pod"}
    assert len(names) == 232
    pod_pages = [e for e in server.log if e.path == "/api/v1/pods"]
    assert len(pod_pages) == 5 and all(e.query["limit"] == ["50"] for e in pod_pages)
    assert sum(1 for e in pod_pages if "continue" in e.query) == 4
    assert seen[-1].kinds_done == seen[-1].kinds_total == len(live.resources)
    assert seen[-1].objects == len(live.collected.objects)
    assert live.collected.cluster_id == "7d1c2f3e-0000-4000-8000-000000000001"
    assert live.versions["Pod"]


def test_cluster_id_falls_back_to_the_server_url(serve, kubeconfig):
    server = serve([o for o in manifests() if o["kind"] != "Namespace" or o["metadata"]["name"] != "kube-system"])
    live = live_collect(server, kubeconfig(server))
    assert live.collected.cluster_id == server.url


def test_dropped_connection_and_server_errors_are_retried(serve, kubeconfig):
    server = serve()
    server.faults.drop["pods"] = 1
    server.faults.errors["deployments"] = [500, 503]
    live = live_collect(server, kubeconfig(server))
    kinds = {i.obj["kind"] for i in live.collected.objects}
    assert {"Pod", "Deployment"} <= kinds
    assert not live.collected.coverage and not live.collected.partial
    assert [e.status for e in server.log if e.path == "/api/v1/pods"] == [-1, 200]
    assert [e.status for e in server.log if e.path.endswith("/deployments")] == [500, 503, 200]


def test_expired_continue_token_relists(serve, kubeconfig):
    pods = [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i:03}", "namespace": "default"},
             "spec": {"containers": [{"name": "c", "image": "nginx"}]}} for i in range(120)]
    server = serve(manifests() + pods)
    server.faults.expire_continue["pods"] = 1
    live = live_collect(server, kubeconfig(server), page_size=50)
    assert sum(1 for i in live.collected.objects if i.obj["kind"] == "Pod") == 122
    statuses = [(e.status, "continue" in e.query) for e in server.log if e.path == "/api/v1/pods"]
    assert statuses[:3] == [(200, False), (410, True), (200, False)]


def test_forbidden_kind_becomes_coverage_and_not_assessable(serve, kubeconfig, run_cli):
    server = serve()
    server.forbidden.add("clusterrolebindings")
    result = run_cli("scan", "--context", "test", "--kubeconfig", str(kubeconfig(server)),
                     "--rules", str(TEST_RULES), "-o", "json")
    assert result.code == 4, result.stderr  # a partial scan (see test_hostile_input.py for --allow-partial)
    doc = json.loads(result.stdout)
    assert doc["coverage"] == [{"kind": "ClusterRoleBinding", "rules": [], "reason":
                                "cannot list clusterrolebindings (403 Forbidden) — RBAC rules not assessable"}]
    stats = {s["rule"]: s for s in doc["rule_stats"]}
    assert stats["K8S-LIVETEST-AUTHENTICATED-BINDING"]["not_assessable"] is True
    assert stats["K8S-PRIVILEGED"]["failed"] > 0  # everything readable was still scanned
    assert any(f["status"] == Status.not_assessable.value and f["rule"] == "K8S-LIVETEST-AUTHENTICATED-BINDING"
               for f in doc["findings"])
    table = run_cli("scan", "--context", "test", "--kubeconfig", str(kubeconfig(server)))
    assert "coverage: cannot list clusterrolebindings (403 Forbidden) — RBAC rules not assessable" in table.stdout


def test_missing_api_becomes_coverage(serve, kubeconfig, monkeypatch):
    from tests.apiserver import server as server_module

    served = tuple(r for r in server_module.RESOURCES if r.kind != "Ingress")
    monkeypatch.setattr(server_module, "RESOURCES", served)
    server = serve([o for o in manifests() if o["kind"] != "Ingress"])
    live = live_collect(server, kubeconfig(server))
    assert [(g.kind, g.reason) for g in live.collected.coverage] == [
        ("Ingress", "the cluster serves no Ingress API (networking.k8s.io/*) — exposure rules not assessable")]


def test_server_dying_mid_scan_gives_a_partial_result(serve, kubeconfig, run_cli):
    server = serve()
    server.faults.die_after_lists = 6
    result = run_cli("scan", "--context", "test", "--kubeconfig", str(kubeconfig(server)), "-o", "json")
    assert result.code == 4, result.stderr  # partial
    doc = json.loads(result.stdout)
    assert doc["cluster"]["partial"] is True
    lost = [g for g in doc["coverage"] if g["reason"].startswith("connection lost while listing")]
    assert lost and all(g["reason"].endswith("scan is partial") for g in lost)
    assert doc["summary"]["objects"] > 0  # what was read before it died is kept
    server.dead = False
    server.faults.die_after_lists = 5
    server._lists = 0
    table = run_cli("scan", "--context", "test", "--kubeconfig", str(kubeconfig(server)))
    assert "PARTIAL RESULT" in table.stdout


def test_contexts_merge_kubeconfig_files_like_kubectl(serve, kubeconfig, run_cli, tmp_path):
    one, two = serve(), serve()
    first = kubeconfig(one, name="a.yaml", context="alpha")
    second = kubeconfig(two, name="b.yaml", context="beta")
    env = {"KUBECONFIG": f"{first}:{second}"}
    result = run_cli("contexts", "-o", "json", env=env)
    assert result.code == 0, result.stderr
    contexts = json.loads(result.stdout)
    # kubectl: the first file that sets current-context wins (the kubernetes package keeps the last)
    assert [(c["name"], c["server"], c["current"], c["namespace"]) for c in contexts] == [
        ("alpha", one.url, True, "default"), ("beta", two.url, False, "default")]
    swapped = json.loads(run_cli("contexts", "-o", "json", env={"KUBECONFIG": f"{second}:{first}"}).stdout)
    assert [c["name"] for c in swapped if c["current"]] == ["beta"]
    table = run_cli("contexts", env=env)
    assert "alpha" in table.stdout and two.url in table.stdout
    both = run_cli("scan", "--all-contexts", "-o", "json", env=env)
    assert both.code == 0, both.stderr
    docs = json.loads(both.stdout)
    assert [d["cluster"]["context"] for d in docs] == ["alpha", "beta"]
    assert {d["cluster"]["server"] for d in docs} == {one.url, two.url}


def test_doctor_reports_permissions_and_prints_a_cluster_role(serve, kubeconfig, run_cli):
    server = serve()
    server.allow_reviews = True
    server.forbidden.add("clusterrolebindings")
    result = run_cli("doctor", "--context", "test", "--kubeconfig", str(kubeconfig(server)), "-o", "json")
    assert result.code == 1, result.stderr
    doc = json.loads(result.stdout)
    denied = {(p["resource"], p["verb"]) for p in doc["permissions"] if not p["allowed"]}
    assert denied == {("clusterrolebindings", "list"), ("clusterrolebindings", "watch")}
    role = yaml.safe_load(doc["clusterRole"])
    assert role["kind"] == "ClusterRole"
    granted = {(g, r) for rule in role["rules"] for g in rule["apiGroups"] for r in rule["resources"]}
    assert ("rbac.authorization.k8s.io", "clusterrolebindings") in granted and ("", "pods") in granted
    assert ("", "secrets") not in granted  # offered only as an opt-in comment
    assert all(set(rule["verbs"]) == {"get", "list", "watch"} for rule in role["rules"])
    table = run_cli("doctor", "--context", "test", "--kubeconfig", str(kubeconfig(server)))
    assert "2 of" in table.stdout and "kind: ClusterRole" in table.stdout


def test_live_scan_of_the_demo_cluster_equals_scan_demo(serve, kubeconfig, run_cli):
    """The acceptance check: the demo's objects served live give the demo's findings."""
    from kspm_tui.sources.demo import read_demo

    server = serve([item.obj for item in read_demo().objects])
    live = run_cli("scan", "--context", "demo", "--kubeconfig", str(kubeconfig(server, context="demo")),
                   "-o", "json")
    offline = run_cli("scan", "--demo", "-o", "json")
    assert live.code == offline.code == 0, live.stderr + offline.stderr
    live_doc, offline_doc = json.loads(live.stdout), json.loads(offline.stdout)

    def findings(doc: dict) -> set[tuple]:
        return {(fingerprint(f["rule"], "X", f["kind"], f["namespace"], f["name"], f["container"]), f["status"],
                 f["message"]) for f in doc["findings"]}

    assert len(live_doc["findings"]) > 50
    assert findings(live_doc) == findings(offline_doc)
    # Same counts and score; the live scan reads fewer objects only because it does not list kinds
    # no rule reads (Leases, ControllerRevisions, HorizontalPodAutoscalers, ...).
    without_objects = [{k: v for k, v in d["summary"].items() if k != "objects"} for d in (live_doc, offline_doc)]
    assert without_objects[0] == without_objects[1]
    listed = {w.kind for w in WANTED}
    skipped = sum(1 for item in read_demo().objects if item.obj["kind"] not in listed)
    assert live_doc["summary"]["objects"] == offline_doc["summary"]["objects"] - skipped
    assert {f["context"] for f in live_doc["findings"]} == {"demo"}
    assert live_doc["cluster"]["partial"] is False and live_doc["coverage"] == []


def test_progress_bar_on_a_terminal(serve, kubeconfig, tmp_path):
    """On a TTY stderr the CLI draws the collection progress (kinds, objects); never on a pipe."""
    import os
    import pty
    import subprocess
    import sys
    import threading

    from tests.conftest import ROOT

    server = serve()
    main, secondary = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "kspm_tui", "scan", "--context", "test", "--kubeconfig",
                             str(kubeconfig(server)), "-o", "json"], stdout=subprocess.PIPE, stderr=secondary,
                            cwd=ROOT, env={**os.environ, "COLUMNS": "120", "TERM": "xterm"})
    os.close(secondary)
    drawn = bytearray()

    def drain() -> None:  # keep the terminal's buffer empty so the scan never blocks on stderr
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:
                return
            if not chunk:
                return
            drawn.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    out, _ = proc.communicate(timeout=120)
    reader.join(10)
    os.close(main)
    assert proc.returncode == 0
    assert b"reading test" in drawn and b"kinds" in drawn and b"objects" in drawn
    assert json.loads(out)["cluster"]["context"] == "test"


def test_rbac_reads_a_live_context(serve, kubeconfig, run_cli):
    """Subcommands built on the shared source arguments get live contexts for free."""
    server = serve()
    result = run_cli("rbac", "who-can", "get", "secrets", "-n", "shop", "--context", "test",
                     "--kubeconfig", str(kubeconfig(server)), "-o", "json")
    assert result.code == 0, result.stderr
    assert "system:authenticated" in result.stdout  # bound to cluster-admin in the fixture cluster
    assert any(e.path.endswith("/clusterrolebindings") for e in server.log)
