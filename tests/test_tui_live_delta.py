"""The explorer applies a watch batch's delta to its index instead of building it again.

`ResultIndex.applied` must equal an index built from scratch of the same findings (rows,
counts, `+` new and resolved marks, order), whatever the delta; and on a live cluster a
change lands on the open screen with the untouched rows carried over, not rebuilt.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kspm_tui.model import Finding, Status
from kspm_tui.results import sort_findings
from kspm_tui.scan import ScanSettings, run_scan
from kspm_tui.target import Target
from kspm_tui.tui.app import KspmApp
from kspm_tui.tui.index import ResultIndex, WorkloadKey
from tests.apiserver.server import ApiServer
from tests.tui_helpers import run_async, screen_text, start_watch, wait_for, wait_scanned


@cache
def demo() -> tuple[list[Finding], list[WorkloadKey]]:
    scanned = run_scan(Target(kind="demo"), ScanSettings())
    listed = [(w.kind, w.namespace, w.name) for w in scanned.snapshot.workloads()]
    return [f for f in scanned.result.findings if f.status in (Status.fail, Status.accepted)], listed


def shape(index: ResultIndex) -> dict[str, Any]:
    """Everything a screen reads from an index."""
    def counts(c: Any) -> tuple[Any, ...]:
        return (dict(c.by_severity), c.accepted, c.new)

    return {
        "workloads": {k: ([id(f) for f in r.findings], counts(r.counts), r.search, r.rank)
                      for k, r in index.workloads.items()},
        "namespaces": {k: (r.workloads, counts(r.counts), r.system) for k, r in index.namespaces.items()},
        "rules": {k: ([id(f) for f in r.findings], counts(r.counts)) for k, r in index.rules.items()},
        "findings": [id(f) for f in index.findings],
        "new": index.new, "resolved": index.resolved,
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_an_applied_delta_equals_the_index_built_again(data: st.DataObject) -> None:
    findings, listed = demo()
    pick = st.lists(st.sampled_from(range(len(findings))), unique=True, max_size=40)
    before = [f for i, f in enumerate(findings) if i not in set(data.draw(pick))]
    previous = {findings[i].fingerprint for i in data.draw(pick)}
    known = {f.fingerprint for f in before}
    removed = {before[i].fingerprint for i in data.draw(st.lists(st.sampled_from(range(len(before))), max_size=20))}
    added = [findings[i] for i in data.draw(pick) if findings[i].fingerprint not in known]
    # re-evaluated findings come back as new objects, some accepted now, some failing again
    added += [f.model_copy(update={"status": Status.accepted if f.status is Status.fail else Status.fail})
              for f in (before[i] for i in data.draw(st.lists(st.sampled_from(range(len(before))), max_size=20)))
              if f.fingerprint not in removed]
    gone = removed | {f.fingerprint for f in added}
    after = sort_findings([f for f in before if f.fingerprint not in gone] + added)
    # up to five objects gone, in any order (drawn as indices: a list of the whole inventory
    # exceeds hypothesis's entropy budget)
    dropped = data.draw(st.sets(st.sampled_from(range(len(listed))), max_size=5))
    listed_now = [o for i, o in enumerate(listed) if i not in dropped]
    data.draw(st.randoms(use_true_random=False)).shuffle(listed_now)
    listed_now += [("Pod", "new-ns", "fresh")] if data.draw(st.booleans()) else []

    shown = ResultIndex(before, listed, previous)
    untouched = shape(shown)
    applied = shown.applied(added, removed, listed_now)
    assert shape(applied) == shape(ResultIndex(after, listed_now, previous))
    assert shape(shown) == untouched  # the index on screen is left as it was


@run_async
async def test_a_watched_change_lands_on_the_open_screen_by_delta(live_demo: ApiServer) -> None:
    app = KspmApp(Target("context", context="demo-live"))
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_scanned(pilot, app)
        await start_watch(pilot, app)
        first = app.index
        await pilot.press("colon", *"rule K8S-PRIVILEGED", "enter")
        await pilot.pause()
        assert "intruder" not in screen_text(app)
        live_demo.store.put({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "intruder", "namespace": "shop"},
            "spec": {"containers": [{"name": "x", "image": "evil/miner:1",
                                     "securityContext": {"privileged": True}}]}})
        await wait_for(pilot, lambda: "intruder" in screen_text(app), timeout=60)
        index = app.index
        assert index is not first and ("Pod", "shop", "intruder") in index.workloads
        intruder = {f.fingerprint for f in index.workloads["Pod", "shop", "intruder"].findings}
        assert intruder <= index.new
        # applied, not rebuilt: a workload the change did not touch keeps its row object (the
        # control plane's and the cluster's findings are evaluated again in every batch)
        assert app.live_watch.service.stats.evaluated_units[-1] == 2  # the intruder, its Namespace
        untouched = [k for k in first.workloads if k[1] not in ("shop", "kube-system", None)]
        assert untouched and all(index.workloads[k] is first.workloads[k] for k in untouched)
        want = {f.fingerprint for f in app.scanned.result.findings if f.status in (Status.fail, Status.accepted)}
        assert set(index.by_fingerprint) == want
