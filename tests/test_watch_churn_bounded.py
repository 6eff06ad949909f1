"""Churn leaves nothing behind: what a watch holds is the cluster's, not its history's.

A cluster running Jobs creates and deletes Pods with names that never repeat, for weeks. Every
structure the watch keeps across batches (the snapshot's indexes, the failing findings by unit,
the accept annotations, the Pod Security levels, the graph facts and reachability, the template
verdicts) must drop a deleted object's entries, or it grows with the cluster's history. Here bare
Pods with fresh names are created and deleted against the test API server, and every structure's
size after many cycles must equal its size after the first few (structural, not timed).
"""

from __future__ import annotations

from kspm_tui.watch_scan import STATS_KEPT, WatchService
from tests.test_watch_robust import open_privileged, pod, until, watching  # noqa: F401 - the fixture


def sizes(service: WatchService) -> dict[str, int]:
    """The entries of every structure the watch keeps from one batch to the next."""
    snapshot, incremental, failing = service.snapshot, service._incremental, service._failing
    facts = incremental._facts
    return {
        "objects": len(snapshot.index), "by uid": len(snapshot.by_uid),
        "by kind": sum(len(objs) for objs in snapshot._by_kind.values()),
        "failing": len(failing.failing), "open": len(failing.open), "units": len(failing._units),
        "fingerprints by unit": sum(len(fps) for fps in failing._units.values()),
        "annotations": len(failing._annotations), "rules counted": len(+failing.failed),
        "levels": len(incremental._levels.workloads) if incremental._levels else 0,
        "relisting": len(incremental._relisting),
        "facts workloads": len(facts.workloads) if facts else 0,
        "reach isolation": len(facts.reach.isolation) if facts else 0,
        "reach exposure": len(facts.reach.exposure) if facts else 0,
        "pending": len(service.watcher.pending),
    }  # bounded by design, not by the cluster: the template verdicts (cleared beyond twice the
    # workloads) and the batches' statistics (the last STATS_KEPT), asserted apart


def cycle(w, name: str) -> None:
    """A bare privileged Pod created (its finding opens) and deleted (it resolves)."""
    w.server.store.put(pod(name, True))
    until(lambda: name in open_privileged(w.service), f"{name}'s finding to open")
    w.server.store.delete(pod(name, True))
    until(lambda: name not in open_privileged(w.service) and w.service.snapshot.get("Pod", "default", name) is None,
          f"{name} to be gone")


def test_pods_with_fresh_names_created_and_deleted_leave_nothing_behind(watching) -> None:
    w = watching(batch_seconds=0.05)
    for i in range(5):
        cycle(w, f"job-{i}-warm")
    with w.service.lock:
        after_few = sizes(w.service)
    for i in range(40):
        cycle(w, f"job-{i}-{'x' * (i % 7)}")
    with w.service.lock:
        after_many = sizes(w.service)
    assert after_many == after_few
    assert len(w.service._incremental._templates) <= 2 * len(w.service.snapshot.workloads()) + 1
    assert len(w.service.stats.evaluated_units) <= STATS_KEPT
