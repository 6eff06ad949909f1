"""The in-cluster reporter against the HTTPS test API server: PolicyReports written by server-side
apply match an offline scan, follow the cluster as it changes, survive faults and restarts
without rewriting what did not change; /metrics, /healthz and /readyz answer."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from kspm_tui.kinds import WORKLOAD_KINDS
from kspm_tui.model import SourceRef, Status
from kspm_tui.reporter.metrics import Endpoints, Metrics
from kspm_tui.reporter.reports import (
    CLUSTER_LABEL,
    CONTENT_HASH,
    MANAGED_BY,
    MAX_BYTES,
    SCANNED_AT,
    ReportIndex,
    content_hash,
    desired_reports,
    report_name,
)
from kspm_tui.reporter.service import Reporter, WriteOptions
from kspm_tui.scan import ScanSettings, load_ruleset, scan
from kspm_tui.snapshot import Snapshot
from kspm_tui.sources import Collected, SourcedObject
from kspm_tui.sources.files import read_paths
from kspm_tui.target import Target
from kspm_tui.watch_publish import Delta
from tests.apiserver.fixtures import CLUSTER
from tests.apiserver.server import ApiServer
from tests.conftest import ROOT
from tests.test_reports_formats import CRD_NAMES, _crd_schema, _strict

CLUSTER_ID = "7d1c2f3e-0000-4000-8000-000000000001"  # the fixture's kube-system UID
FAST = WriteOptions(backoff=(0.01, 0.05), retry_seconds=0.2, qps=1000, burst=1000)


def reports(server: ApiServer) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Every (Cluster)PolicyReport the server holds, by (kind, namespace, name)."""
    return {(o["kind"], ns, name): o for resource, objects in server.store.objects.items()
            if resource.group == "wgpolicyk8s.io" for (ns, name), o in objects.items()}


def writes(server: ApiServer, since: int = 0) -> list[tuple[str, str]]:
    """(method, path) of every write request after the first `since` log entries."""
    return [(e.method, e.path) for e in server.log[since:] if e.method != "GET"]


def wait_for(check: Callable[[], Any], timeout: float = 30, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return value


class Running:
    """A reporter following the test API server on a thread."""

    def __init__(self, server: ApiServer, config: Path, settings: ScanSettings | None = None) -> None:
        self.server = server
        self.settings = settings or ScanSettings(user_exceptions=False)
        self.metrics = Metrics()
        self.logs: list[str] = []
        self.reporter = Reporter(Target("context", kubeconfig=str(config)), self.settings,
                                 load_ruleset(self.settings), self.metrics, writes=FAST, log=self.logs.append)
        self.code: int | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.code = self.reporter.run()

    def synced(self, count: int) -> None:
        """Wait until the reporter has finished `count` syncs."""
        wait_for(lambda: self.reporter.sync_count >= count, what=f"sync {count} ({self.logs})")

    def stop(self) -> None:
        self.reporter.stop()
        self.thread.join(30)
        assert self.code == 0


@pytest.fixture
def reporting(serve, kubeconfig) -> Iterator[Callable[..., Running]]:
    started: list[Running] = []

    def start(server: ApiServer | None = None, **kwargs: Any) -> Running:
        if server is None:
            server = serve()
            server.allow_report_writes = True
        running = Running(server, kubeconfig(server), **kwargs)
        started.append(running)
        running.reporter.ready.wait(60)
        assert running.reporter.ready.is_set(), running.logs
        return running

    yield start
    for running in started:
        running.stop()
    for running in started:
        assert not [e for e in running.server.log if e.status == 405], "a write the server refuses was tried"


def expected_reports(result) -> dict[tuple[str, str, str], set[tuple]]:
    """The shared contract, restated: per-workload reports, `kspm-namespace`, `kspm-cluster`."""
    out: dict[tuple[str, str, str], set[tuple]] = {("ClusterPolicyReport", "", "kspm-cluster"): set()}
    for f in result.findings:
        if f.status is Status.passed:
            continue
        if not f.namespace:
            key = ("ClusterPolicyReport", "", "kspm-cluster")
        elif f.kind in WORKLOAD_KINDS:
            key = ("PolicyReport", f.namespace, f"kspm-{f.kind.lower()}-{f.name}")
        else:
            key = ("PolicyReport", f.namespace, "kspm-namespace")
        out.setdefault(key, set()).add((f.rule, f.fingerprint, f.kind, f.name, f.message))
    return out


def held(server: ApiServer) -> dict[tuple[str, str, str], set[tuple]]:
    return {key: {(r["policy"], r["properties"]["fingerprint"], (r["resources"] or [{"kind": "Cluster"}])[0]["kind"],
                   (r["resources"] or [{}])[0].get("name", r["properties"].get("name")), r["message"])
                  for r in report["results"]} for key, report in reports(server).items()}


# -- what is written ---------------------------------------------------------------------------
def test_initial_reports_match_an_offline_scan_of_the_same_objects(reporting) -> None:
    running = reporting()
    server = running.server
    settings = ScanSettings(user_exceptions=False, context="test", cluster_name="test")  # as the live scan names it
    offline = scan(read_paths([str(CLUSTER)]), settings, is_cluster=True)  # a live snapshot is a whole cluster
    expected = expected_reports(offline)
    got = held(server)
    # Cluster-level results have no resource: compare them by fingerprint and rule only.
    cluster = ("ClusterPolicyReport", "", "kspm-cluster")
    assert {(r, fp) for r, fp, *_ in got.pop(cluster)} == {(r, fp) for r, fp, *_ in expected.pop(cluster)}
    assert got == expected
    assert ("PolicyReport", "shop", "kspm-deployment-web") in got and ("PolicyReport", "default", "kspm-pod-debug") in got

    schemas = dict(zip(("PolicyReport", "ClusterPolicyReport"), (_crd_schema(n) for n in CRD_NAMES), strict=True))
    web_uid = server.store.objects[next(r for r in server.store.objects if r.kind == "Deployment")][("shop", "web")][
        "metadata"]["uid"]
    for (kind, namespace, name), report in reports(server).items():
        sent = {k: v for k, v in report.items() if k != "metadata"}
        jsonschema.Draft7Validator(_strict(schemas[kind])).validate(sent)
        meta = report["metadata"]
        assert meta["labels"] == {MANAGED_BY: "kspm-tui", CLUSTER_LABEL: CLUSTER_ID}
        assert meta["annotations"][SCANNED_AT].endswith("Z")
        assert meta["annotations"][CONTENT_HASH] == content_hash(report)
        assert all(r["source"] == "kspm-tui" and r["result"] in ("fail", "skip", "error") for r in report["results"])
        assert report["summary"]["fail"] == sum(r["result"] == "fail" for r in report["results"])
    web = reports(server)[("PolicyReport", "shop", "kspm-deployment-web")]
    owner = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": web_uid}
    assert web["metadata"]["ownerReferences"] == [owner]
    assert web["scope"] == {**owner, "namespace": "shop"}
    privileged = next(r for r in web["results"] if r["policy"] == "K8S-PRIVILEGED")
    assert privileged["severity"] == "critical" and privileged["category"] == "Pod Security"
    assert privileged["properties"]["container"] == "nginx"
    assert privileged["properties"]["kubectl"].startswith("kubectl patch")
    assert privileged["properties"]["safety"] in ("safe", "review")
    assert "scope" not in reports(server)[("PolicyReport", "shop", "kspm-namespace")]
    # Only server-side apply with our field manager, of reports, was written.
    patches = [e for e in server.log if e.method == "PATCH"]
    assert len(patches) == len(got) + 1
    assert all(e.query == {"fieldManager": ["kspm-tui"], "force": ["true"]} for e in patches)
    assert {e.method for e in server.log} == {"GET", "PATCH"}


def test_a_changed_workload_rewrites_only_its_report(reporting) -> None:
    running = reporting()
    server = running.server
    before = reports(server)
    mark = len(server.log)
    deployments = server.store.objects[next(r for r in server.store.objects if r.kind == "Deployment")]
    web = json.loads(json.dumps(deployments[("shop", "web")]))
    web["spec"]["template"]["spec"]["containers"][1]["image"] = "busybox:latest"
    server.store.put(web)
    running.synced(2)
    assert writes(server, mark) == [("PATCH", "/apis/wgpolicyk8s.io/v1alpha2/namespaces/shop/policyreports/"
                                     "kspm-deployment-web")]
    after = reports(server)
    key = ("PolicyReport", "shop", "kspm-deployment-web")
    assert after[key]["metadata"]["annotations"][CONTENT_HASH] != before[key]["metadata"]["annotations"][CONTENT_HASH]
    assert {r["policy"] for r in after[key]["results"]} - {r["policy"] for r in before[key]["results"]}
    assert all(after[k]["metadata"]["resourceVersion"] == before[k]["metadata"]["resourceVersion"]
               for k in before if k != key)


def test_a_deleted_workload_loses_its_report(reporting) -> None:
    running = reporting()
    server = running.server
    mark = len(server.log)
    server.store.delete({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": "shop"}})
    running.synced(2)
    assert ("DELETE", "/apis/wgpolicyk8s.io/v1alpha2/namespaces/shop/policyreports/kspm-statefulset-db") in writes(
        server, mark)
    assert writes(server, mark) == [
        ("DELETE", "/apis/wgpolicyk8s.io/v1alpha2/namespaces/shop/policyreports/kspm-statefulset-db")]
    assert ("PolicyReport", "shop", "kspm-statefulset-db") not in reports(server)


def test_conflicts_throttling_and_server_errors_are_retried(reporting) -> None:
    running = reporting()
    server = running.server
    mark = len(server.log)
    server.faults.errors["policyreports"] = [409, 429, 500]
    pods = server.store.objects[next(r for r in server.store.objects if r.kind == "Pod")]
    debug = json.loads(json.dumps(pods[("default", "debug")]))
    debug["spec"]["containers"][0]["image"] = "busybox:latest"
    server.store.put(debug)
    wait_for(lambda: any(e.method == "PATCH" and e.status == 200 for e in server.log[mark:]), what="the write")
    statuses = [e.status for e in server.log[mark:] if e.method == "PATCH"]
    assert statuses == [409, 429, 500, 200]
    errors = {(s.labels["operation"], s.labels["code"]): s.value
              for family in text_string_to_metric_families(running.metrics.exposition().decode())
              if family.name == "kspm_api_errors" for s in family.samples if s.name == "kspm_api_errors_total"}
    assert errors == {("apply", "409"): 1, ("apply", "429"): 1, ("apply", "500"): 1}
    report = reports(server)[("PolicyReport", "default", "kspm-pod-debug")]
    assert any(r["policy"] == "K8S-IMAGE-LATEST-TAG" or "latest" in r["message"] for r in report["results"])


def test_a_restart_rewrites_nothing_that_did_not_change(reporting, serve) -> None:
    server = serve()
    server.allow_report_writes = True
    reporting(server).stop()
    written = writes(server)
    assert len(written) == 6 and all(method == "PATCH" for method, _ in written)
    mark = len(server.log)
    second = reporting(server)
    assert second.reporter.last_sync is not None and second.reporter.last_sync.unchanged == 6
    second.stop()
    assert writes(server, mark) == []
    # A workload deleted while no reporter ran: the next one removes its report, and writes nothing else.
    server.store.delete({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": "shop"}})
    mark = len(server.log)
    reporting(server)
    assert writes(server, mark) == [("DELETE", "/apis/wgpolicyk8s.io/v1alpha2/namespaces/shop/policyreports/"
                                      "kspm-statefulset-db")]


def test_accepted_risks_are_skip_results_with_the_reason(reporting, serve, tmp_path) -> None:
    exceptions = tmp_path / "exceptions.yaml"
    exceptions.write_text("exceptions:\n  - rule: K8S-PRIVILEGED\n    namespace: default\n    name: debug\n"
                          "    reason: debugging the node, ticket OPS-42\n    owner: team-node\n"
                          "    expires: 2099-01-01\n")
    server = serve()
    server.allow_report_writes = True
    running = reporting(server, settings=ScanSettings(user_exceptions=False, exception_files=[exceptions]))
    report = reports(running.server)[("PolicyReport", "default", "kspm-pod-debug")]
    skipped = [r for r in report["results"] if r["result"] == "skip"]
    assert [(r["policy"], r["properties"]["acceptedReason"], r["properties"]["acceptedBy"]) for r in skipped] == [
        ("K8S-PRIVILEGED", "debugging the node, ticket OPS-42", "team-node")]
    assert report["summary"]["skip"] == 1


def test_large_reports_are_split_under_the_size_limit() -> None:
    """A Pod with 250 privileged containers: its findings outgrow one report."""

    containers = [{"name": f"c{i:03}-" + "x" * 40, "image": f"registry.example.com/team/app-{i}:latest",
                   "securityContext": {"privileged": True}} for i in range(250)]
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "many", "namespace": "big", "uid": "u-1"},
           "spec": {"containers": containers}}
    collected = Collected(objects=[SourcedObject(pod, SourceRef(file="many.yaml"))])
    result = scan(collected, ScanSettings(user_exceptions=False))
    desired = desired_reports(result, Snapshot(collected.objects), datetime.now(UTC))
    parts = sorted(k for k in desired if k[2].startswith("kspm-pod-many"))
    assert parts[:3] == [("PolicyReport", "big", "kspm-pod-many"), ("PolicyReport", "big", "kspm-pod-many-2"),
                         ("PolicyReport", "big", "kspm-pod-many-3")]
    for key in parts:
        body = desired[key].body
        assert len(orjson.dumps(body)) <= MAX_BYTES  # as the writer sends it
        assert body["scope"]["name"] == "many" and body["metadata"]["ownerReferences"][0]["uid"] == "u-1"
    total = sum(len(desired[k].body["results"]) for k in parts)
    assert total == sum(1 for f in result.findings if f.kind == "Pod")
    long = report_name("kspm-deployment-" + "a" * 300)
    assert len(long) == 253 and long.startswith("kspm-deployment-aaa")
    assert report_name("kspm-pod-Bad_Name") != "kspm-pod-Bad_Name" and len(report_name("kspm-pod-Bad_Name")) < 253


# -- endpoints ---------------------------------------------------------------------------------
def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_metrics_healthz_and_readyz(serve, kubeconfig) -> None:
    server = serve()
    server.allow_report_writes = True
    server.faults.delay["clusterpolicyreports"] = 1.5  # the reporter waits on its first list
    running = Running(server, kubeconfig(server))
    endpoints = Endpoints(running.metrics, "127.0.0.1:0", healthy=lambda: running.reporter.alive,
                          ready=running.reporter.ready.is_set)
    base = f"http://127.0.0.1:{endpoints.port}"
    try:
        assert get(f"{base}/healthz") == (200, "ok\n")
        assert get(f"{base}/readyz")[0] == 503
        running.reporter.ready.wait(60)
        assert get(f"{base}/readyz") == (200, "ok\n")
        code, text = get(f"{base}/metrics")
        assert code == 200
        families = {f.name: f for f in text_string_to_metric_families(text)}
        findings = families["kspm_findings"].samples
        privileged = [s for s in findings if s.labels["rule"] == "K8S-PRIVILEGED"]
        assert {(s.labels["namespace"], s.labels["severity"]) for s in privileged} >= {("shop", "critical"),
                                                                                        ("default", "critical")}
        # the same names and labels as `-o prometheus` (report/prometheus.py), so dashboards work on either
        assert len({s.labels["cluster"] for s in findings}) == 1
        assert 0 <= families["kspm_score"].samples[0].value <= 100
        assert families["kspm_scan_duration_seconds"].samples[0].value > 0
        assert families["kspm_last_successful_scan_timestamp_seconds"].samples[0].value > time.time() - 300
        assert families["kspm_reports"].samples[0].value == len(reports(server))
        applies = [s for s in families["kspm_report_writes"].samples if s.name == "kspm_report_writes_total"]
        assert {s.labels["operation"]: s.value for s in applies} == {"apply": len(reports(server))}
        assert get(f"{base}/nope")[0] == 404
    finally:
        endpoints.close()
        running.stop()


# -- the command -------------------------------------------------------------------------------
def test_cli_once_in_cluster_with_the_pods_service_account(serve, tmp_path, run_cli) -> None:
    server = serve()
    server.allow_report_writes = True
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text(server.token)
    (account / "ca.crt").write_bytes(server.ca_pem)
    env = {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(server.port),
           "KSPM_TUI_SERVICEACCOUNT_DIR": str(account), "KUBECONFIG": str(tmp_path / "none")}
    res = run_cli("reporter", "--in-cluster", "--once", "--listen", "127.0.0.1:0", env=env)
    assert res.code == 0, res.stderr
    assert "6 applied, 0 deleted, 0 unchanged" in res.stderr
    assert len(reports(server)) == 6
    again = run_cli("reporter", "--once", "--listen", "127.0.0.1:0", env=env)  # in a Pod: in-cluster by default
    assert again.code == 0 and "0 applied, 0 deleted, 6 unchanged" in again.stderr, again.stderr
    assert sum(e.method == "PATCH" for e in server.log) == 6


def test_cli_errors_are_one_sentence(serve, kubeconfig, run_cli) -> None:
    server = serve()
    server.forbidden.add("policyreports")
    res = run_cli("reporter", "--once", "--kubeconfig", str(kubeconfig(server)), "--listen", "127.0.0.1:0")
    assert res.code == 3 and "cannot list policyreports (403 Forbidden)" in res.stderr, res.stderr
    assert "Traceback" not in res.stderr
    bad = run_cli("reporter", "--once", "--kubeconfig", str(kubeconfig(server)), "--listen", "nowhere")
    assert bad.code == 2 and "invalid --listen" in bad.stderr
    pod = run_cli("reporter", "--in-cluster", "--once", env={"KUBERNETES_SERVICE_HOST": ""})
    assert pod.code == 2 and "KUBERNETES_SERVICE_HOST" in pod.stderr


def test_cli_follows_the_cluster_and_stops_on_sigterm(serve, kubeconfig, user_dirs) -> None:
    server = serve()
    server.allow_report_writes = True
    env = {**os.environ, "KSPM_TUI_CONFIG_DIR": str(user_dirs / "config"), "KSPM_TUI_DATA_DIR": str(user_dirs / "data")}
    env.pop("KUBERNETES_SERVICE_HOST", None)
    proc = subprocess.Popen([sys.executable, "-m", "kspm_tui", "reporter", "--kubeconfig", str(kubeconfig(server)),
                             "--listen", "127.0.0.1:0"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: len(reports(server)) == 6, 60, "the first reports")
        server.store.delete({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "debug", "namespace": "default"}})
        wait_for(lambda: ("PolicyReport", "default", "kspm-pod-debug") not in reports(server), 60, "the delete")
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(30)
    stderr = proc.stderr.read() if proc.stderr else ""
    assert code == 0, stderr
    assert "serving /metrics, /healthz, /readyz on port" in stderr and "1 deleted" in stderr


# -- the contract with the fleet view -----------------------------------------------------------
def test_the_fleet_view_reads_back_exactly_what_the_reporter_wrote(reporting, kubeconfig) -> None:
    """Writer and reader of the PolicyReport contract, end to end through the API server: every
    failing finding of the reporter's scan comes back in the fleet view with its rule, severity,
    object, message, fix patch and verdict."""
    from kspm_tui.fleet.service import read_cluster

    running = reporting()
    settings = ScanSettings(user_exceptions=False, context="test", cluster_name="test")
    offline = scan(read_paths([str(CLUSTER)]), settings, is_cluster=True)
    posture = read_cluster(Target("context", kubeconfig=str(kubeconfig(running.server))), load_ruleset(settings))
    assert posture.status == "ok" and posture.rebuilt is not None, posture
    back = {f.fingerprint: f for f in posture.rebuilt.result.findings}
    want = {f.fingerprint: f for f in offline.findings if f.status is not Status.passed}
    assert back.keys() == want.keys()
    for fp, finding in want.items():
        got = back[fp]
        assert (got.rule, got.severity, got.status, got.kind, got.namespace, got.message) == (
            finding.rule, finding.severity, finding.status, finding.kind, finding.namespace, finding.message)
        if finding.remediation.kubectl:  # a fix with a command travels as its patch and verdict
            assert (got.remediation.patch, got.remediation.safety) == (finding.remediation.patch,
                                                                      finding.remediation.safety)
    assert posture.rebuilt.result.summary.by_severity == offline.summary.by_severity


def test_revoked_credentials_end_the_reporter_with_exit_3_and_healthz_failing(serve, kubeconfig) -> None:
    """Not half-alive: when the API server keeps rejecting the token, the reporter says why, its
    /healthz fails and it exits 3, so Kubernetes restarts it instead of it serving stale reports."""
    server = serve()
    server.allow_report_writes = True
    running = Running(server, kubeconfig(server))
    running.reporter.ready.wait(60)
    assert running.reporter.ready.is_set() and running.reporter.alive, running.logs
    server.token = "revoked"  # every request now answers 401
    server.store.compact()  # open watches end and reconnect, meeting the new answer
    running.thread.join(120)
    assert not running.thread.is_alive(), running.logs
    assert running.code == 3 and not running.reporter.alive
    assert [line for line in running.logs if line.startswith("error: ") and "401 Unauthorized" in line], running.logs


def test_a_workload_created_again_in_one_batch_gets_its_new_uid_in_the_report() -> None:
    """The reporter keeps its reports by difference (`ReportIndex.apply`): a Pod deleted and
    created again under the same name within one batch keeps its findings' fingerprints, and
    its report must name the new object (ownerReference uid), as a full rebuild would."""
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "shop", "uid": "u-old"},
           "spec": {"containers": [{"name": "c", "image": "nginx:1.27.0", "securityContext": {"privileged": True}}]}}
    again = {**pod, "metadata": {**pod["metadata"], "uid": "u-new"}}
    settings = ScanSettings(user_exceptions=False)
    before = Collected(objects=[SourcedObject(pod, SourceRef(file="web.yaml"))])
    index = ReportIndex(scan(before, settings).cluster.id)
    index.rebuild(scan(before, settings).findings, Snapshot(before.objects), datetime.now(UTC))
    after = Collected(objects=[SourcedObject(again, SourceRef(file="web.yaml"))])
    result, snapshot = scan(after, settings), Snapshot(after.objects)
    failing = [f for f in result.findings if f.status is Status.fail]
    index.apply(Delta(added=failing), [], snapshot, datetime.now(UTC))
    desired, full = index.desired(), desired_reports(result, snapshot, datetime.now(UTC))
    assert {k: d.content_hash for k, d in desired.items()} == {k: d.content_hash for k, d in full.items()}
    key = ("PolicyReport", "shop", "kspm-pod-web")
    assert desired[key].body["metadata"]["ownerReferences"][0]["uid"] == "u-new"
