"""A watch publishes each batch by difference, and that equals a full scan after every batch.

The clusters and change batches are `test_watch_incremental.py`'s, with `kspm-tui.io/accept`
annotations put on and taken off objects at random, an exceptions file (one active exception,
one that expires at a date boundary the batches' clock crosses back and forth) and the file
edited between batches. After each batch, through the watch service's own path (Incremental
→ FailingFindings.replace → result), the published report — judged findings, every rule's
counts (evaluated, failed, accepted, superseded), the whole summary (objects, workloads, the
score and its cap), the workloads hidden in system namespaces, inventory, exception errors —
must equal a full scan of the same snapshot, and the heartbeat's score (kept by counts alone)
the full scan's score; its events the difference between the two full scans' open findings;
and the batch's Delta, applied to the previous failing set, the full scan's failing set, and
to the in-cluster reporter's PolicyReports (`ReportIndex`), the reports a full scan wants. The
batches create and delete workloads and Namespaces (`test_watch_incremental.py`).
"""

from __future__ import annotations

import copy
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kspm_tui.engine.evaluate import evaluate_snapshot
from kspm_tui.incremental import Incremental
from kspm_tui.inventory import ACCEPT_ANNOTATION
from kspm_tui.model import Finding, SourceRef, Status
from kspm_tui.reporter.reports import Desired, ReportIndex, ReportKey, desired_reports
from kspm_tui.scan import ScanSettings, load_ruleset, options_for, result_of
from kspm_tui.snapshot import Snapshot, key_of
from kspm_tui.sources import Collected, SourcedObject
from kspm_tui.triage.acceptance import accept_risks
from kspm_tui.watch_publish import FailingFindings, rebased
from tests.test_watch_incremental import batch, cluster, objects

EXPIRY = date(2030, 1, 1)
DAYS = (date(2029, 12, 31), date(2030, 1, 2))  # before and after the second exception expires
EXCEPTIONS = [
    f"""exceptions:
  - rule: K8S-PRIVILEGED
    namespace: a
    reason: the CNI needs it
  - rule: K8S-IMAGE-*
    namespace: b
    reason: mirrored later
    expires: {EXPIRY}
""",
    """exceptions:
  - rule: K8S-HOST-PORTS
    reason: node-local agents
""",
]
APISERVER = {"apiVersion": "v1", "kind": "Pod",
             "metadata": {"name": "kube-apiserver-cp-1", "namespace": "kube-system",
                          "labels": {"component": "kube-apiserver"}},
             "spec": {"containers": [{"name": "kube-apiserver", "image": "registry.k8s.io/kube-apiserver:v1.31.0",
                                      "command": ["kube-apiserver", "--anonymous-auth=true",
                                                  "--authorization-mode=AlwaysAllow"]}]}}
NOTES = ("K8S-PRIVILEGED,K8S-HOST-PORTS allowed here", "K8S-RBAC-* a glob is refused", "not an id")


def settings_for(path: Path) -> ScanSettings:
    return ScanSettings(context="test", cluster_name="test", exception_files=[path], user_exceptions=False)


@st.composite
def annotated_batch(draw: st.DrawFn) -> list[tuple[str, Any]]:
    """A batch whose objects sometimes carry an accept annotation (themselves or their pod
    template); in some batches what goes to namespace `b` goes to kube-system or kube-public
    instead, whose workloads are hidden but counted (`excluded`)."""
    out = []
    hidden = draw(st.sampled_from([None, None, None, "kube-system", "kube-public"]))
    for event, obj in draw(batch()):
        if hidden and obj["metadata"].get("namespace") == "b":
            obj = copy.deepcopy(obj)
            obj["metadata"]["namespace"] = hidden
        if draw(st.integers(0, 2)) == 0:
            obj = copy.deepcopy(obj)
            template = (obj.get("spec") or {}).get("template")
            meta = template.setdefault("metadata", {}) if template and draw(st.booleans()) else obj["metadata"]
            meta.setdefault("annotations", {})[ACCEPT_ANNOTATION] = draw(st.sampled_from(NOTES))
        out.append((event, obj))
    if draw(st.integers(0, 4)) == 0:  # the API server's static Pod comes into view, or goes
        out.append((draw(st.sampled_from(["MODIFIED", "DELETED"])), APISERVER))
    return out


def fails(findings: list[Finding]) -> list[Finding]:
    """An evaluation's failing findings, as the service takes them (the first report judged them)."""
    return [f for f in findings if f.status in (Status.fail, Status.accepted)]


def judged(findings: list[Finding]) -> dict[str, dict[str, Any]]:
    return {f.fingerprint: f.model_dump(mode="json") for f in findings
            if f.status in (Status.fail, Status.accepted)}


def not_assessable(result: Any) -> list[dict[str, Any]]:
    return [f.model_dump(mode="json") for f in result.findings if f.status is Status.not_assessable]


def summary(result: Any) -> dict[str, Any]:
    """The whole summary, not-assessable rules included."""
    return result.summary.model_dump(mode="json")


def stats(result: Any) -> dict[str, tuple[Any, ...]]:
    """Per rule: evaluated, failed, passed, accepted, superseded, not assessable and why."""
    return {st.rule: (st.evaluated, st.failed, st.evaluated - st.failed, st.accepted, st.superseded,
                      st.not_assessable, st.reason) for st in result.rule_stats}


def hashes(reports: dict[ReportKey, Desired]) -> dict[ReportKey, str]:
    """What the reporter compares with the cluster's reports (bodies differ only by time stamps)."""
    return {key: desired.content_hash for key, desired in reports.items()}


def full_scan(snapshot: Snapshot, scan: ScanSettings, collected: Collected, today: date) -> Any:
    ruleset = load_ruleset(scan)
    evaluation = evaluate_snapshot(snapshot, ruleset, options_for(scan, collected, snapshot, is_cluster=True))
    result = result_of(snapshot, evaluation, collected, scan, ruleset, datetime.now(UTC), time.perf_counter())
    accept_risks(result, scan, today)  # judged again on the batch's day
    return result


def run(tmp: Path, initial: list[dict[str, Any]], batches: list[list[tuple[str, Any]]],
        days: list[int], edits: list[int]) -> None:
    path = tmp / "exceptions.yaml"
    path.write_text(EXCEPTIONS[0])
    scan = settings_for(path)
    ruleset = load_ruleset(scan)
    snapshot = Snapshot([SourcedObject(o, SourceRef(file="live")) for o in initial], cluster_id="test-cluster")
    collected = Collected(is_cluster=True)
    inc = Incremental(snapshot, ruleset, lambda only: options_for(scan, collected, snapshot, is_cluster=True,
                                                                  only=only),
                      lambda kind: SourceRef(file=f"live:{kind}"))
    failing = FailingFindings(scan, ("test",), inc.always)
    evaluation = inc.evaluate(None)
    base = result_of(snapshot, evaluation, collected, scan, ruleset, datetime.now(UTC), time.perf_counter())
    base = base.model_copy(update={"findings": [f for f in base.findings if f.status is Status.not_assessable]})
    failing.annotate(snapshot, None)
    failing.replace(None, fails(evaluation.findings), evaluation.units or {}, DAYS[0])
    before = full_scan(snapshot, scan, collected, DAYS[0])
    mirror = {f.fingerprint for f in before.findings if f.status in (Status.fail, Status.accepted)}
    reports = ReportIndex(before.cluster.id)
    reports.rebuild(failing.result(base, snapshot, collected).findings, snapshot, datetime.now(UTC))
    for number, changes in enumerate(batches):
        today = DAYS[days[number % len(days)]]
        path.write_text(EXCEPTIONS[edits[number % len(edits)]])
        only = inc.apply(changes)
        evaluation = inc.evaluate(only)
        failing.annotate(snapshot, None if only is None else inc.changed)
        published = failing.replace(only, fails(evaluation.findings), evaluation.units or {}, today)
        base = rebased(base, evaluation)
        full = full_scan(snapshot, scan, collected, today)
        result = failing.result(base, snapshot, collected)

        assert judged(result.findings) == judged(full.findings)
        assert stats(result) == stats(full)
        assert not_assessable(result) == not_assessable(full)
        assert summary(result) == summary(full)
        assert failing.score(base) == full.summary.score
        assert result.excluded == full.excluded
        assert result.inventory == full.inventory
        assert sorted(e.message for e in result.exception_errors) == sorted(e.message for e in full.exception_errors)

        was = {f.fingerprint for f in before.findings if f.status is Status.fail}
        now = {f.fingerprint for f in full.findings if f.status is Status.fail}
        assert [f.fingerprint for f in published.opened] == [f.fingerprint for f in full.findings
                                                             if f.fingerprint in now - was]
        assert {f.fingerprint for f in published.resolved} == was - now
        assert set(failing.open) == now

        delta = published.delta
        if delta.whole:  # as the reporter does (reporter/service.py)
            mirror = set(failing.failing)
            reports.rebuild(result.findings, snapshot, datetime.now(UTC))
        else:
            mirror = (mirror - set(delta.removed)) | {f.fingerprint for f in delta.added}
            reports.apply(delta, base.findings, snapshot, datetime.now(UTC))
        assert mirror == set(judged(full.findings))
        assert hashes(reports.desired()) == hashes(desired_reports(full, snapshot, datetime.now(UTC)))
        before = full


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.lists(objects, max_size=8), st.lists(annotated_batch(), min_size=1, max_size=5),
       st.lists(st.integers(0, 1), min_size=1, max_size=5), st.lists(st.sampled_from([0, 0, 0, 1]), min_size=1,
                                                                     max_size=5))
def test_published_batches_equal_a_full_scan(tmp_path: Path, initial: list[list[dict[str, Any]]],
                                             batches: list[list[tuple[str, Any]]], days: list[int],
                                             edits: list[int]) -> None:
    seen = {key_of(obj): obj for group in initial for obj in group}
    run(tmp_path, [*cluster(), *seen.values()], batches, days, edits)


def test_a_batch_judges_only_the_findings_it_re_evaluated(tmp_path: Path) -> None:
    """Publishing costs what changed: one Pod edited judges that Pod's findings (and the rules
    run whole every batch), not the cluster's; an edited exceptions file or a new day judges
    every finding again, and what the edit accepts resolves."""
    path = tmp_path / "exceptions.yaml"
    path.write_text(EXCEPTIONS[0])
    scan = settings_for(path)
    pods = [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i}", "namespace": "b"},
             "spec": {"containers": [{"name": "c", "image": "nginx", "ports": [{"containerPort": 80, "hostPort": 80 + i}],
                                      "securityContext": {"privileged": True}}]}} for i in range(30)]
    snapshot = Snapshot([SourcedObject(o, SourceRef()) for o in [*cluster(), *pods]], cluster_id="test-cluster")
    collected = Collected(is_cluster=True)
    inc = Incremental(snapshot, load_ruleset(scan),
                      lambda only: options_for(scan, collected, snapshot, is_cluster=True, only=only),
                      lambda kind: SourceRef())
    failing = FailingFindings(scan, ("test",), inc.always)
    failing.annotate(snapshot, None)
    evaluation = inc.evaluate(None)
    failing.replace(None, fails(evaluation.findings), evaluation.units or {}, DAYS[0])
    everything = len(failing.failing)
    assert sum(f.name == "p0" for f in failing.open.values()) >= 3

    def one_batch(today: date = DAYS[0]) -> tuple[int, Any]:
        judged_before = failing.judged
        edited = copy.deepcopy(pods[0])
        edited["metadata"]["labels"] = {"touch": str(failing.judged)}
        only = inc.apply([("MODIFIED", edited)])
        assert only is not None
        evaluation = inc.evaluate(only)
        failing.annotate(snapshot, inc.changed)
        published = failing.replace(only, fails(evaluation.findings), evaluation.units or {}, today)
        return failing.judged - judged_before, published

    judged_now, published = one_batch()
    own = [f for f in failing.failing.values() if f.name == "p0"]
    assert len(own) <= judged_now < everything / 5
    assert not published.delta.whole and not published.opened and not published.resolved
    assert {f.name for f in published.delta.added} - {"p0", "test"} <= {"b"}  # the Pod, its Namespace, the cluster

    path.write_text(EXCEPTIONS[1])  # host ports accepted everywhere now
    judged_now, published = one_batch()
    assert judged_now == len(failing.failing) and published.delta.whole
    assert {f.rule for f in published.resolved} == {"K8S-HOST-PORTS"} and len(published.resolved) == 30

    judged_now, published = one_batch(DAYS[1])  # the clock passes an expiry date: judged again
    assert judged_now == len(failing.failing) and published.delta.whole
