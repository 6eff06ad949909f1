"""Watch mode: changes stream in, only what changed is re-evaluated, findings open and resolve."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time

import pytest

from kspm_tui.scan import ScanSettings, load_ruleset
from kspm_tui.sources.kubeconfig import connect
from kspm_tui.sources.live import Collector
from kspm_tui.watch_scan import FindingEvent, WatchService
from tests.conftest import ROOT


def pod(name: str, privileged: bool, namespace: str = "default") -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace},
            "spec": {"containers": [{"name": "c", "image": "nginx", "securityContext": {"privileged": privileged}}]}}


@pytest.fixture
def watching(serve, kubeconfig):
    """A running WatchService on the fixture cluster; yields (server, service, next_event)."""
    server = serve()
    connection = connect(None, str(kubeconfig(server)))
    settings = ScanSettings(context="test", cluster_name="test")
    service = WatchService(connection, settings, load_ruleset(settings), Collector(connection).run(),
                           backoff=(0.05, 0.5))
    initial = service.start()
    events: queue.Queue[FindingEvent] = queue.Queue()
    threading.Thread(target=lambda: [events.put(e) for e in service.events()], daemon=True).start()
    deadline = time.monotonic() + 30
    while sum(1 for e in server.log if e.query.get("watch")) < len(service.initial.resources):
        assert time.monotonic() < deadline, "watches did not open"
        time.sleep(0.05)  # every kind's watch is open

    def next_event(timeout: float = 10, **want: str) -> FindingEvent:
        """The next event whose fields (event, rule, name, ...) match `want`; others are skipped."""
        deadline = time.monotonic() + timeout
        while True:
            event = events.get(timeout=max(0.01, deadline - time.monotonic()))
            fields = {"event": event.event, **event.finding.model_dump(mode="json")}
            if all(fields.get(k) == v for k, v in want.items()):
                return event

    yield server, service, next_event, initial
    service.stop()
    connection.close()


def test_initial_failures_are_opened_events(watching):
    server, service, _, initial = watching
    assert {(e.event, e.finding.name) for e in initial} >= {("finding opened", "web"), ("finding opened", "debug")}
    assert all(e.finding.context == "test" for e in initial)
    watches = [e for e in server.log if e.query.get("watch")]
    assert all(e.query["allowWatchBookmarks"] == ["true"] and e.query["resourceVersion"][0] for e in watches)
    deadline = time.monotonic() + 10
    while service.watcher.stats.bookmarks == 0:  # the server bookmarks idle watches every 0.5 s
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_create_modify_delete_open_and_resolve_findings(watching):
    server, service, next_event, _ = watching
    server.store.put(pod("intruder", True))
    opened = next_event(rule="K8S-PRIVILEGED", name="intruder")
    assert (opened.event, opened.finding.kind, opened.finding.namespace) == ("finding opened", "Pod", "default")
    assert opened.time.tzinfo is not None
    # only the new Pod, and its Namespace (whose ns.workloads and ns.podSecurity read every workload)
    assert service.stats.evaluated_units[-1] == 2

    server.store.put(pod("intruder", False))
    resolved = next_event(rule="K8S-PRIVILEGED", name="intruder")
    assert (resolved.event, resolved.finding.fingerprint) == ("finding resolved", opened.finding.fingerprint)
    assert all(f.name != "intruder" or f.rule != "K8S-PRIVILEGED" for f in service.findings.values())

    debug_findings = {fp for fp, f in service.findings.items() if f.name == "debug"}
    server.store.delete(pod("debug", True))
    gone = {next_event(name="debug").finding.fingerprint for _ in debug_findings}
    assert gone == debug_findings  # every finding of the deleted Pod resolved
    assert service.snapshot.get("Pod", "default", "debug") is None


def test_pod_change_re_evaluates_its_top_owner_only(watching):
    server, service, _, _ = watching
    replica = server.store.objects[next(r for r in server.store.objects if r.kind == "Pod")][("shop", "web-5d4f-abcde")]
    server.store.put({**replica, "metadata": {**replica["metadata"], "labels": {"touched": "yes"}}})
    deadline = time.monotonic() + 10
    while service.stats.evaluations < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert service.stats.evaluated_units[-1] == 3  # the Pod, its Deployment and their Namespace, nothing else
    assert any(f.name == "web" for f in service.findings.values())  # the Deployment's finding stays open


def test_compaction_410_relists_and_keeps_watching(watching):
    server, service, next_event, _ = watching
    lists_before = sum(1 for e in server.log if e.path == "/api/v1/pods" and not e.query.get("watch"))
    server.store.compact()
    server.store.put(pod("after-compaction", True))
    event = next_event(rule="K8S-PRIVILEGED")
    assert (event.event, event.finding.name) == ("finding opened", "after-compaction")
    deadline = time.monotonic() + 10
    while service.watcher.stats.relists < len(service.initial.resources) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert service.watcher.stats.relists >= 1
    assert sum(1 for e in server.log if e.path == "/api/v1/pods" and not e.query.get("watch")) > lists_before


def test_dropped_watch_reconnects(watching):
    server, service, next_event, _ = watching
    server.dead = True  # every open watch and new request is cut
    time.sleep(0.5)
    server.dead = False
    server.store.put(pod("late", True))
    event = next_event(timeout=20, rule="K8S-PRIVILEGED")
    assert (event.event, event.finding.name) == ("finding opened", "late")
    assert service.watcher.stats.reconnects >= 1


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_cli_watch_prints_json_lines(serve, kubeconfig, tmp_path, stop):
    server = serve()
    config = kubeconfig(server)
    # A test runner's worker may ignore SIGINT, and children inherit that: give the CLI the
    # default Ctrl-C a terminal would.
    proc = subprocess.Popen([sys.executable, "-X", "faulthandler", "-m", "kspm_tui", "scan", "--context", "test",
                             "--watch", "--kubeconfig", str(config)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()

    def read_until(done, timeout: float = 20) -> list[dict]:
        """Events (parsed JSON lines) up to and including the first for which done(event) holds."""
        seen, deadline = [], time.monotonic() + timeout
        while not seen or not done(seen[-1]):
            seen.append(json.loads(lines.get(timeout=max(0.01, deadline - time.monotonic()))))
        return seen

    try:
        first = read_until(lambda e: True)[0]
        assert first["event"] == "finding opened" and first["time"] and first["finding"]["fingerprint"]
        deadline = time.monotonic() + 30
        while sum(1 for e in server.log if e.query.get("watch")) < 20:
            assert time.monotonic() < deadline, "watches did not open"
            time.sleep(0.05)
        server.store.put(pod("cli-intruder", True))
        events = read_until(lambda e: e["finding"]["rule"] == "K8S-PRIVILEGED"
                            and e["finding"]["name"] == "cli-intruder")
        assert events[-1]["event"] == "finding opened"
        time.sleep(1)  # the rest of that batch
        while not lines.empty():
            events.append(json.loads(lines.get()))
        opened = {e["finding"]["fingerprint"] for e in events
                  if e["event"] == "finding opened" and e["finding"]["name"] == "cli-intruder"}
        server.store.delete(pod("cli-intruder", True))
        resolved: set[str] = set()
        while resolved != opened:
            event = read_until(lambda e: True)[0]
            if event["event"] == "finding resolved":
                resolved.add(event["finding"]["fingerprint"])
        assert resolved == opened
    finally:
        proc.send_signal(stop)
        try:
            code = proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)  # faulthandler prints every thread's stack
            raise AssertionError(f"no exit 10 s after {stop!r}:\n{proc.communicate()[1][-6000:]}") from None
        assert code == 0, proc.stderr.read() if proc.stderr else ""  # a clean stop, like Ctrl-C


def test_accepted_risks_make_no_events_until_the_acceptance_goes(watching):
    server, service, next_event, _ = watching
    service.settings.config.annotation_exceptions.allow_critical = True  # K8S-PRIVILEGED is critical
    accepted = pod("break-glass", True)
    accepted["metadata"]["annotations"] = {"kspm-tui.io/accept": "K8S-PRIVILEGED node debugging, ticket OPS-42"}
    server.store.put(accepted)
    server.store.put(pod("marker", True))  # applied in the same or a later batch
    assert next_event(rule="K8S-PRIVILEGED", name="marker").event == "finding opened"
    deadline = time.monotonic() + 10
    while service.snapshot.get("Pod", "default", "break-glass") is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(f.name == "break-glass" and f.rule == "K8S-PRIVILEGED" for f in service.findings.values())

    server.store.put(pod("break-glass", True))  # the annotation is removed: the risk is open again
    assert next_event(rule="K8S-PRIVILEGED", name="break-glass").event == "finding opened"


def test_exception_file_applies_to_watch_events(serve, kubeconfig, tmp_path):
    server = serve()
    exceptions = tmp_path / "exceptions.yaml"
    exceptions.write_text("exceptions:\n  - rule: K8S-PRIVILEGED\n    namespace: default\n    name: debug\n"
                          "    reason: debugging the node, removed by Friday\n    expires: 2099-01-01\n")

    def opened(**settings: object) -> set[tuple[str, str]]:
        connection = connect(None, str(kubeconfig(server)))
        chosen = ScanSettings(context="test", cluster_name="test", user_exceptions=False, **settings)
        service = WatchService(connection, chosen, load_ruleset(chosen), Collector(connection).run())
        try:
            return {(e.finding.rule, e.finding.name) for e in service.start()}
        finally:
            service.stop()
            connection.close()

    assert ("K8S-PRIVILEGED", "debug") in opened()
    with_file = opened(exception_files=[exceptions])
    assert ("K8S-PRIVILEGED", "debug") not in with_file
    assert with_file == opened() - {("K8S-PRIVILEGED", "debug")}
