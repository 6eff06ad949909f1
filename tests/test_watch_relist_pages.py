"""A relist streams: about one page of a kind's list alive at a time, and the same result.

After 410 Gone a kind is listed again. Holding the kind's whole list while it is parsed,
diffed and applied raised the watch's high-water mark at every relist round (the soak's RSS
steps, `bench/README.md`, "Soak"). Now each page is handed to the apply thread as it arrives
and the next one is read only once it was taken; the last page deletes what no page named.
Here the apply thread is held busy while a kind relists, against the test API server, and
what the watcher read ahead is counted in list requests and in items waiting.
"""

from __future__ import annotations

import threading
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kspm_tui.incremental import Relisted
from kspm_tui.model import Status
from kspm_tui.scan import ScanSettings, run_scan
from kspm_tui.snapshot import key_of
from kspm_tui.target import Target
from kspm_tui.watch_scan import FindingEvent
from tests.test_watch_incremental import cluster, objects, run
from tests.test_watch_robust import open_privileged, pod, until, watching  # noqa: F401 - the fixture

PAGE = 50
PODS = 400  # eight pages


def lists(server: Any, since: int, plural: str = "") -> list[Any]:
    """The list requests (not watches), of a kind or all, the server answered since log entry `since`."""
    return [e for e in server.log[since:] if e.path.endswith(f"/{plural}" if plural else "")
            and not e.query.get("watch") and e.query.get("limit") is not None]


def test_a_relist_reads_a_page_only_once_the_last_one_was_taken(watching, serve, kubeconfig) -> None:
    """With the apply thread busy, every kind relisting (400 Pods in pages of 50 among them) reads
    one page in all and waits, not every kind's whole list; released, the watch ends equal to a
    fresh scan, deletions included."""
    gate, held = threading.Event(), threading.Event()

    def slow(event: FindingEvent) -> None:
        held.set()
        gate.wait()

    server = serve([pod(f"p-{i:03}", privileged=i % 3 == 0) for i in range(PODS)])
    w = watching(server, on_event=slow)
    w.service.watcher.collector.page_size = PAGE
    kinds = sum(r.watchable for r in w.service.initial.resources)
    gate.clear()
    held.clear()
    server.store.put(pod("hold", True))  # the apply thread now waits in `slow`
    until(held.is_set, "the consumer to be busy")
    since = len(server.log)
    server.store.delete(pod("p-001", False))  # its DELETED is superseded by the relist: its end must say so
    server.store.compact()  # every kind relists
    server.store.put(pod("p-002", True, changed="yes"))  # (and the lists are newer than the compaction)
    until(lambda: w.service.watcher.pending._relists, "the first page")
    threading.Event().wait(1.0)  # room to read further (every kind's whole list used to be read here)
    assert len(lists(server, since)) == 1, [e.path for e in lists(server, since)]
    assert len(w.service.watcher.pending._relists) == 1
    gate.set()
    until(lambda: w.service.watcher.stats.relists >= kinds and len(w.service.watcher.pending) == 0,
          "every relist applied")
    until(lambda: w.service.snapshot.get("Pod", "default", "p-001") is None, "the deletion applied")
    pods = lists(server, since, "pods")
    assert len(pods) == PODS // PAGE  # every page once: 400 Pods with "hold" and without p-001
    assert [bool(e.query.get("continue")) for e in pods] == [False] + [True] * (len(pods) - 1)
    assert {"p-000", "p-002", "hold"} <= open_privileged(w.service)
    fresh = run_scan(Target("context", context="test", kubeconfig=str(kubeconfig(server, name="fresh"))),
                     ScanSettings())
    until(lambda: set(w.service.findings) == {f.fingerprint for f in fresh.result.findings
                                              if f.status is Status.fail}, "the state of a fresh scan")
    assert len(w.service.snapshot.of_kind("Pod")) == PODS


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(objects, max_size=6), st.lists(objects, max_size=6), st.integers(1, 3), st.booleans())
def test_a_relist_in_pages_equals_full_evaluation(before: list[list[dict[str, Any]]],
                                                  after: list[list[dict[str, Any]]], size: int,
                                                  abandoned: bool) -> None:
    """A kind's pages applied in separate batches (and, before them, an unfinished list whose
    first page is forgotten when the list starts again) end where a full evaluation is."""
    initial = {key_of(o): o for group in before for o in group}
    fresh = {key_of(o): o for group in after for o in group}
    kinds = sorted({k[0] for k in initial} | {k[0] for k in fresh})
    batches: list[list[Any]] = []
    for kind in kinds:
        items = [o for k, o in fresh.items() if k[0] == kind]
        pages = [items[i:i + size] for i in range(0, len(items), size)] or [[]]
        if abandoned and len(pages) > 1:  # its watcher failed after one page and listed again
            batches.append([Relisted(kind, pages[1], first=True, last=False)])
        batches += [[Relisted(kind, page, first=i == 0, last=i == len(pages) - 1)]
                    for i, page in enumerate(pages)]
    run([*cluster(), *initial.values()], batches)
