"""A watch that runs for weeks: bounded buffers, no GC freeze per batch, loud and honest failures.

Faults are injected into the test API server (dropped connections, 5xx, compaction, rejected
tokens, revoked access) or, for bugs, into the watch's own code; each must be one line for the
user and the watch must recover, or end with a clear reason (exit 3 in the CLI).
"""

from __future__ import annotations

import gc
import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import kspm_tui.sources.watch as watch_source
import kspm_tui.watch_scan as watch_scan
from kspm_tui.model import Status
from kspm_tui.scan import ScanSettings, load_ruleset, run_scan
from kspm_tui.sources.kubeconfig import connect
from kspm_tui.sources.live import Collector
from kspm_tui.target import Target
from kspm_tui.watch_scan import FindingEvent, WatchService
from tests.apiserver.server import ApiServer
from tests.conftest import ROOT
from tests.watch_process import WatchProcess


def pod(name: str, privileged: bool, namespace: str = "default", **labels: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {"containers": [{"name": "c", "image": "nginx", "securityContext": {"privileged": privileged}}]}}


def until(condition: Callable[[], object], what: str, timeout: float = 30) -> None:
    """Wait for `condition` (a safety net for a hung test, not a speed requirement)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"waited {timeout:.0f}s for {what}"
        time.sleep(0.02)


class Watching:
    """A started WatchService on the fixture cluster, with its notices and events recorded."""

    def __init__(self, server: ApiServer, kubeconfig: Path, *, on_event: Callable[[FindingEvent], None] | None = None,
                 **kwargs: object) -> None:
        self.server = server
        self.notices: list[str] = []
        self.failures: list[str] = []
        self.connection = connect(None, str(kubeconfig))
        self.settings = ScanSettings(context="test", cluster_name="test")
        self.service = WatchService(self.connection, self.settings, load_ruleset(self.settings),
                                    Collector(self.connection).run(), backoff=(0.05, 0.2), on_event=on_event,
                                    on_notice=self.notices.append, on_failure=self.failures.append, **kwargs)
        self.service.start()
        until(lambda: sum(1 for e in server.log if e.query.get("watch")) >= len(self.service.initial.resources),
              "every kind's watch to open")

    def said(self, pattern: str) -> list[str]:
        return [n for n in list(self.notices) if re.search(pattern, n)]

    def close(self) -> None:
        self.service.stop()
        self.connection.close()


@pytest.fixture
def watching(serve, kubeconfig):
    started: list[Watching] = []

    def start(server: ApiServer | None = None, **kwargs: object) -> Watching:
        server = server or serve()
        w = Watching(server, kubeconfig(server), **kwargs)
        started.append(w)
        return w

    yield start
    for w in started:
        w.close()


def open_privileged(service: WatchService) -> set[str]:
    return {f.name for f in service.findings.values() if f.rule == "K8S-PRIVILEGED"}


# -- bounded ----------------------------------------------------------------------------------
def test_a_burst_waits_coalesced_per_object_while_the_consumer_is_busy(watching) -> None:
    """The apply thread is held by a slow consumer; 2,000 changes to 20 Pods wait as ≤ 20 entries,
    and once released the watch ends in the state the last changes describe."""
    gate, held = threading.Event(), threading.Event()

    def slow(event: FindingEvent) -> None:
        held.set()
        gate.wait()

    w = watching(on_event=slow)
    assert w.service._events is None  # events go to the callback: nothing is queued for events()
    with pytest.raises(RuntimeError):
        next(w.service.events())
    w.server.store.put(pod("hold", True))
    until(held.is_set, "the consumer to be busy")
    base = w.service.watcher.stats.events
    for round_ in range(100):
        for i in range(20):
            w.server.store.put(pod(f"burst-{i}", privileged=(round_ == 99 and i % 2 == 0), round=str(round_)))
    until(lambda: w.service.watcher.stats.events >= base + 2000, "the burst to arrive")
    assert len(w.service.watcher.pending) <= 20
    gate.set()
    until(lambda: {f"burst-{i}" for i in range(0, 20, 2)} <= open_privileged(w.service), "the burst applied")
    until(lambda: len(w.service.watcher.pending) == 0, "the buffer to drain")
    assert not {f"burst-{i}" for i in range(1, 20, 2)} & open_privileged(w.service)
    assert w.service.watcher.stats.coalesced >= 1900
    for i in range(20):
        labels = w.service.snapshot.get("Pod", "default", f"burst-{i}").obj["metadata"]["labels"]
        assert labels == {"round": "99"}


def test_events_wait_in_a_bounded_queue_for_a_slow_reader_and_none_is_lost(watching, monkeypatch) -> None:
    """The reader of events() pauses: the queue stops at its bound (the apply thread waits), and
    when it reads on it gets every event."""
    monkeypatch.setattr(watch_scan, "EVENT_BUFFER", 5)
    w = watching()
    reader = w.service.events()
    w.server.store.put(pod("first", True))
    assert next(reader).finding.name == "first"  # reading; now it pauses
    for i in range(30):
        w.server.store.put(pod(f"unread-{i}", True))
    until(lambda: w.service._events.full(), "the queue to fill")
    time.sleep(0.5)  # more batches would come now if the apply thread did not wait
    assert w.service._events.qsize() == 5 and w.service.dropped_events == 0
    opened: set[str] = set()
    for event in reader:
        if event.finding.rule == "K8S-PRIVILEGED":
            opened.add(event.finding.name)
        if len(opened) == 30:
            break
    assert opened == {f"unread-{i}" for i in range(30)}


def test_without_a_reader_the_queue_keeps_the_latest_and_the_watch_goes_on(watching, monkeypatch) -> None:
    """A caller that only wants each Scanned (the reporter) never reads events(): the watch must
    not wait for it."""
    monkeypatch.setattr(watch_scan, "EVENT_BUFFER", 5)
    scans: list[object] = []
    w = watching(on_update=scans.append)
    for i in range(30):
        w.server.store.put(pod(f"unread-{i}", True))
    until(lambda: {f"unread-{i}" for i in range(30)} <= open_privileged(w.service), "every change applied")
    assert w.service._events.qsize() <= 5 and w.service.dropped_events >= 25

def test_no_gc_freeze_per_batch_and_the_initial_list_is_released(watching) -> None:
    w = watching()
    assert w.service.initial.collected.objects == []  # indexed in the snapshot, the list let go
    frozen = gc.get_freeze_count()
    for i in range(8):
        done = w.service.batches
        w.server.store.put(pod(f"gc-{i}", True))
        until(lambda: w.service.batches > done, "a batch")  # noqa: B023
    assert w.service.stats.evaluations >= 9  # the graph rules (RBAC, paths) ran in every batch
    assert gc.get_freeze_count() <= frozen


# -- loud failures ----------------------------------------------------------------------------
def test_outage_and_recovery_are_one_line_each(watching) -> None:
    w = watching()
    w.server.dead = True
    until(lambda: w.said("lost the API server"), "the outage notice")
    time.sleep(0.5)  # every kind retries a few times meanwhile
    w.server.dead = False
    until(lambda: w.said("answers again"), "the recovery notice")
    w.server.store.put(pod("after-outage", True))
    until(lambda: "after-outage" in open_privileged(w.service), "watching again")
    assert len(w.said("lost the API server")) == 1 and len(w.said("answers again")) == 1
    assert not w.failures


def test_a_kind_failing_with_5xx_is_said_once_and_its_resumption_too(watching) -> None:
    w = watching()
    w.server.faults.errors["pods"] = [500] * 6  # the relist after compaction is answered 500 a few times
    w.server.store.compact()
    until(lambda: w.said("the watch of pods resumed"), "the pods watch to resume")
    assert len(w.said(r"the watch of pods failed \(500")) == 1
    assert w.said(r"relisted pods \(\d+ objects\)")
    w.server.store.put(pod("after-5xx", True))
    until(lambda: "after-5xx" in open_privileged(w.service), "watching again")
    assert w.service.heartbeat().errors >= 1 and not w.failures


def test_each_relist_after_410_is_said(watching) -> None:
    w = watching()
    w.server.store.compact()
    until(lambda: len(w.said("relisted")) >= len(w.service.initial.resources), "every kind relisted")
    assert w.service.watcher.stats.relists >= len(w.service.initial.resources)


@pytest.mark.parametrize("fault", ["token", "rbac"])
def test_persistent_401_or_403_ends_the_watch_with_the_reason(watching, fault) -> None:
    w = watching()
    if fault == "token":
        w.server.token = "rotated"  # every request now answers 401
    else:
        w.server.forbidden.add("pods")
    w.server.store.compact()  # watches reconnect, and meet the new answer
    until(lambda: w.failures, "the watch to give up")
    assert len(w.failures) == 1
    want = "rejected the credentials (401 Unauthorized)" if fault == "token" else "access to pods was revoked (403"
    assert want in w.failures[0] and w.service.failure == w.failures[0]
    assert all(isinstance(e, FindingEvent) for e in w.service.events())  # ends: nothing half-alive
    assert w.service.heartbeat().failure


def test_a_bug_in_a_watch_thread_is_reported_and_the_kind_restarted(watching, monkeypatch) -> None:
    real = watch_source.normalize
    tripped: list[str] = []

    def buggy(obj: dict, resource: object) -> dict:
        if obj.get("metadata", {}).get("name") == "boom" and not tripped:
            tripped.append("boom")
            raise KeyError("spec")
        return real(obj, resource)

    monkeypatch.setattr(watch_source, "normalize", buggy)
    w = watching()
    w.server.store.put(pod("boom", True))
    until(lambda: "boom" in open_privileged(w.service), "the Pod to be seen after the restart")
    assert w.said(r"the watch of pods failed unexpectedly \(KeyError: 'spec'\); restarting it")
    assert w.said(r"relisted pods") and not w.failures


def test_a_bug_while_applying_is_reported_and_recovered_then_repeated_bugs_end_the_watch(watching,
                                                                                        monkeypatch) -> None:
    w = watching()
    real = w.service._reevaluate
    fail_next: list[int] = [1]

    def buggy(only: object) -> None:
        if fail_next[0]:
            fail_next[0] -= 1
            raise ValueError("injected")
        real(only)

    monkeypatch.setattr(w.service, "_reevaluate", buggy)
    w.server.store.put(pod("first", True))
    until(lambda: "first" in open_privileged(w.service), "recovery")
    assert w.said(r"applying 1 changes failed \(ValueError: injected\); re-evaluating everything")
    assert w.said("recovered: every finding re-evaluated") and not w.failures

    fail_next[0] = 10**6
    consumed: list[FindingEvent] = []
    reader = threading.Thread(target=lambda: consumed.extend(w.service.events()), daemon=True)
    reader.start()
    for i in range(3):
        w.server.store.put(pod(f"again-{i}", True))
        until(lambda: w.failures or w.service._crashes > i, "a failed batch")  # noqa: B023
    until(lambda: w.failures, "the watch to give up")
    reader.join(10)
    assert not reader.is_alive()  # events() ended: nothing half-alive
    assert "ValueError: injected" in w.failures[0] and "3 times in a row" in w.failures[0]


# -- the CLI ----------------------------------------------------------------------------------
def test_cli_heartbeat_liveness_and_exit_3_when_the_token_is_rejected(serve, kubeconfig, tmp_path) -> None:
    server = serve()
    alive = tmp_path / "alive"
    watch = WatchProcess(kubeconfig(server), "--context", "test", "--heartbeat", "500ms",
                         "--liveness-file", str(alive))
    try:
        beat = watch.wait_line(r"^kspm-tui: heartbeat: ok; \d+ objects, \d+ open findings; \d+ batches, \d+ events")
        assert "0 pending" in beat or "pending" in beat
        until(alive.exists, "the liveness file")
        first = alive.stat().st_mtime_ns
        assert " ok; " in alive.read_text()
        until(lambda: alive.stat().st_mtime_ns != first, "the liveness file rewritten")
        server.token = "revoked"
        server.store.compact()
        watch.wait_line(r"rejected the credentials \(401 Unauthorized\)")
        assert watch.proc.wait(60) == 3
    finally:
        watch.stop()
    text = watch.stderr_text()
    assert re.search(r"kspm-tui: error: context 'test': the API server rejected the credentials", text), text
    assert not alive.exists()  # a failed watch is not alive
    events = [json.loads(line) for line in watch.out]
    assert events and all(e["event"] == "finding opened" for e in events)


def test_cli_watch_flags_need_watch(tmp_path) -> None:
    done = subprocess.run([sys.executable, "-m", "kspm_tui", "scan", "--demo", "--heartbeat", "60s"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2 and "--heartbeat and --liveness-file go with --watch" in done.stderr
    done = subprocess.run([sys.executable, "-m", "kspm_tui", "scan", "--demo", "--watch", "--heartbeat", "soon"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2 and "invalid --heartbeat 'soon'" in done.stderr


def test_final_state_after_faults_equals_a_fresh_scan(watching, kubeconfig) -> None:
    """Churn through a drop, 5xx and a compaction: what stays open is what a new scan finds."""
    w = watching()
    w.server.store.put(pod("churn-a", True))
    w.server.dead = True
    time.sleep(0.3)
    w.server.dead = False
    w.server.store.put(pod("churn-b", True))
    w.server.faults.errors["deployments"] = [503, 503]
    w.server.store.compact()
    w.server.store.delete(pod("churn-a", True))
    w.server.store.put(pod("churn-c", True))
    until(lambda: {"churn-b", "churn-c"} <= open_privileged(w.service) and "churn-a" not in open_privileged(w.service)
          and len(w.service.watcher.pending) == 0 and not w.service.watcher.failing, "the churn applied")
    time.sleep(1)  # relists of every kind land
    until(lambda: len(w.service.watcher.pending) == 0, "quiet")
    fresh = run_scan(Target("context", context="test", kubeconfig=str(kubeconfig(w.server, name="fresh"))),
                     ScanSettings())
    want = {f.fingerprint for f in fresh.result.findings if f.status is Status.fail}
    assert set(w.service.findings) == want
