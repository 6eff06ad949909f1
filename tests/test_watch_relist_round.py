"""A relist round does not hold ordinary events back: its pages go out as they come.

After a compaction every kind lists again, about 40 pages at 1k workloads, one read at a time
(`test_watch_relist_pages.py`). Each page used to wait the batch's gathering time before it was
handed out, so a round took 40 gathering waits, and every kind still waiting for its turn to
list (its watch down meanwhile) and every change gathered with a page waited with it: the
soak's event latency p95 (`bench/README.md`, "Soak"). Here gathering takes an hour: a round
can only end if a page is handed out as soon as it is there.
"""

from __future__ import annotations

from kspm_tui.model import Status
from kspm_tui.scan import ScanSettings, run_scan
from kspm_tui.target import Target
from tests.test_watch_relist_pages import PAGE, PODS
from tests.test_watch_robust import open_privileged, pod, until, watching  # noqa: F401 - the fixture

HOUR = 3600.0


def test_a_relist_round_goes_page_after_page_with_the_changes_gathered_meanwhile(watching, serve, kubeconfig) -> None:
    """Gathering for an hour: a change gathered alone waits, a compaction's round (every kind,
    400 Pods in pages of 50) is handed out page after page and ends, the waiting change applied
    within it; the watch then equals a fresh scan."""
    server = serve([pod(f"p-{i:03}", privileged=False) for i in range(PODS)])
    w = watching(server, batch_seconds=HOUR)
    w.service.watcher.collector.page_size = PAGE
    kinds = sum(r.watchable for r in w.service.initial.resources)
    batches = w.service.batches
    server.store.put(pod("waiting", True))  # an ordinary change, gathered for an hour
    until(lambda: w.service.watcher.stats.events >= 1, "the change to arrive")
    assert w.service.batches == batches and "waiting" not in open_privileged(w.service)
    server.store.compact()  # every kind relists
    server.store.put(pod("p-002", True))  # listed by the round (the lists are newer than the compaction)
    until(lambda: w.service.watcher.stats.relists >= kinds and len(w.service.watcher.pending) == 0,
          "every kind relisted, page after page")
    until(lambda: {"waiting", "p-002"} <= open_privileged(w.service), "the round's batches applied")
    assert w.service.batches - batches >= PODS // PAGE  # the round's pages, each handed out as it came
    fresh = run_scan(Target("context", context="test", kubeconfig=str(kubeconfig(server, name="fresh"))),
                     ScanSettings())
    assert set(w.service.findings) == {f.fingerprint for f in fresh.result.findings if f.status is Status.fail}
