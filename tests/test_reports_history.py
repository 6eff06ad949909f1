"""History store (atomic, bounded, survives corruption) and drift between two scans."""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kspm_tui.config import AnnotationExceptions, Config
from kspm_tui.model import ClusterInfo, Summary
from kspm_tui.scan import ScanSettings, scan_paths
from kspm_tui.triage import history
from kspm_tui.triage.drift import diff
from kspm_tui.triage.history import ScanRecord

FIXTURES = Path(__file__).parent / "fixtures" / "reports"
T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def record(target: str, minutes: int, score: int = 90) -> ScanRecord:
    return ScanRecord(target=target, cluster=ClusterInfo(id=target, name=target),
                      started=T0 + timedelta(minutes=minutes), summary=Summary(score=score))


def test_saved_scan_round_trips_compactly(tmp_path: Path) -> None:
    result = scan_paths([str(FIXTURES / "shop.yaml")], ScanSettings(only=["K8S-PRIVILEGED"]))
    target = history.target_for(result, [str(FIXTURES / "shop.yaml")])
    assert target.startswith("manifests-")
    # the same paths give the same target, whatever the spelling
    assert history.target_for(result, [str(FIXTURES / "." / "shop.yaml")]) == target
    path = history.save(ScanRecord.of(result, target), keep=5)
    assert path.stat().st_size < 2000
    [loaded], warnings = history.load_records(target)
    assert warnings == []
    assert {f.fingerprint for f in loaded.findings} == {f.fingerprint for f in result.findings}
    images = {w.name: w.images for w in loaded.inventory.workloads}
    assert images == {"web": ["envoyproxy/envoy:v1.30.1", "registry.example/web:latest"], "debug": ["busybox:1.36"]}
    assert loaded.summary == result.summary


def test_retention_keeps_the_newest(tmp_path: Path) -> None:
    for minute in range(7):
        history.save(record("c1", minute, score=minute), keep=3)
    records, _ = history.load_records("c1")
    assert [r.summary.score for r in records] == [4, 5, 6]
    assert history.sparkline([0, 50, 100]) == "▁▅█"
    assert history.sparkline([90, 91, 90]) == "▁█▁" and history.sparkline([100, 100]) == "██"


def test_truncated_and_garbage_files_are_reported_and_skipped() -> None:
    good = history.save(record("c1", 0), keep=10)
    bad = history.save(record("c1", 1), keep=10)
    bad.write_bytes(bad.read_bytes()[:20])
    junk = history.save(record("c1", 2), keep=10)
    junk.write_bytes(gzip.compress(b'{"not": "a record"}'))
    records, warnings = history.load_records("c1")
    assert [r.started for r in records] == [T0]
    assert len(warnings) == 2 and str(bad) in warnings[0] and "truncated" in warnings[0]
    assert good.exists()


def test_drift_between_two_scans(tmp_path: Path) -> None:
    shop = (FIXTURES / "shop.yaml").read_text()
    folder = tmp_path / "k8s"
    folder.mkdir()
    (folder / "shop.yaml").write_text(shop)
    # the debug Pod accepts its own critical finding by annotation: allowed, so it is no drift
    only = ScanSettings(only=["K8S-PRIVILEGED"],
                        config=Config(annotation_exceptions=AnnotationExceptions(allow_critical=True)))
    before = scan_paths([str(folder)], only)
    # sidecar fixed, a new privileged DaemonSet, a new image, a new binding, the debug Pod gone
    changed = shop.replace("""        - name: sidecar
          image: envoyproxy/envoy:v1.30.1
          securityContext:
            privileged: true""", """        - name: sidecar
          image: envoyproxy/envoy:v1.31.0""")
    changed = changed[:changed.index("---\napiVersion: v1\nkind: Pod")] + changed[changed.index(
        "---\napiVersion: rbac"):]
    changed += """---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: ops}
spec:
  template:
    spec:
      containers: [{name: a, image: agent:2, securityContext: {privileged: true}}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ops-edit, namespace: ops}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects: [{kind: Group, name: ops}]
"""
    (folder / "shop.yaml").write_text(changed)
    after = scan_paths([str(folder)], only)
    target = history.target_for(before, [str(folder)])
    assert target == history.target_for(after, [str(folder)])
    drift = diff(ScanRecord.of(before, target), ScanRecord.of(after, target))
    assert [(f.name, f.container) for f in drift.new_findings] == [("agent", "a")]
    assert sorted((f.name, f.container) for f in drift.resolved_findings) == [("web", "sidecar")]
    assert [(w.kind, w.name) for w in drift.new_workloads] == [("DaemonSet", "agent")]
    assert [(w.kind, w.name) for w in drift.removed_workloads] == [("Pod", "debug")]
    assert drift.new_images == ["agent:2", "envoyproxy/envoy:v1.31.0"]
    assert drift.removed_images == ["busybox:1.36", "envoyproxy/envoy:v1.30.1"]
    assert [(b.name, b.role, b.subjects) for b in drift.new_bindings] == [("ops-edit", "ClusterRole/edit", ["Group:ops"])]
    assert drift.removed_bindings == []
    same = diff(ScanRecord.of(after, target), ScanRecord.of(after, target))
    assert same.empty
    # a rule that did not run in the newer scan resolves nothing
    skipped = scan_paths([str(folder)], ScanSettings(only=["K8S-PRIVILEGED"], skip=["K8S-PRIVILEGED"]))
    assert diff(ScanRecord.of(after, target), ScanRecord.of(skipped, target)).resolved_findings == []


def test_load_pair_reads_the_right_two_and_skips_damaged_ones() -> None:
    assert history.load_pair("c") == (None, [])
    paths = [history.save(record("c", m, score=m), keep=10) for m in (0, 60, 120, 180, 240)]
    assert history.load_pair("c")[0] is not None
    paths[3].write_bytes(b"")  # the scan before the newest is damaged: compare with the one before it
    pair, warnings = history.load_pair("c")
    assert [r.summary.score for r in pair] == [120, 240] and str(paths[3]) in warnings[0]
    pair, _ = history.load_pair("c", T0 + timedelta(minutes=90))
    assert [r.summary.score for r in pair] == [60, 240]
    pair, _ = history.load_pair("c", T0 - timedelta(days=1))
    assert [r.summary.score for r in pair] == [0, 240]
    headers, warnings = history.load_headers("c")
    assert [h.summary.score for h in headers] == [0, 60, 120, 240] and len(warnings) == 1
    assert history.score_trend(headers)[-1] == (T0 + timedelta(minutes=240), 240)


def test_headers_index_is_a_cache_that_heals() -> None:
    for minute in (0, 60, 120):
        history.save(record("c", minute, score=minute), keep=10)
    index = history.history_dir() / "c" / "index.json"
    assert len(json.loads(index.read_text())) == 3
    index.write_text("{broken")
    assert [h.summary.score for h in history.load_headers("c")[0]] == [0, 60, 120]
    assert len(json.loads(index.read_text())) == 3  # rebuilt
    index.unlink()
    history.save(record("c", 180, score=180), keep=3)  # retention also prunes the index
    assert [h.summary.score for h in history.load_headers("c")[0]] == [60, 120, 180]
    assert len(json.loads(index.read_text())) == 3


# -- properties: random scan sequences never lose a saved scan ---------------------------------
steps = st.lists(st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 10_000),
                           st.sampled_from(["save", "truncate", "garbage", "empty"])), min_size=1, max_size=25)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps, st.integers(1, 6))
def test_history_never_loses_a_kept_scan(user_dirs: Path, ops, keep) -> None:
    shutil.rmtree(history.history_dir(), ignore_errors=True)
    saved: dict[str, list[tuple[Path, ScanRecord]]] = {"a": [], "b": []}
    damaged: set[Path] = set()
    for target, minute, op in ops:
        files = history.record_files(target)
        if op == "save" or not files:
            rec = record(target, minute, score=minute % 101)
            saved[target].append((history.save(rec, keep=keep), rec))
            continue
        victim = files[minute % len(files)]  # simulate a crash mid-write / bit rot on one file
        data = victim.read_bytes()
        victim.write_bytes({"truncate": data[: minute % max(len(data), 1)], "garbage": b"\x1f\x8b garbage",
                            "empty": b""}[op])
        damaged.add(victim)
    for target, entries in saved.items():
        records, warnings = history.load_records(target)
        on_disk = set(history.record_files(target))
        assert len(on_disk) <= keep
        # every record still on disk and not damaged loads, equal to what was saved
        intact = [(p, r) for p, r in entries if p in on_disk and p not in damaged]
        assert sorted((r.started, r.summary.score) for _, r in intact) == sorted(
            (r.started, r.summary.score) for r in records)
        assert len(warnings) == len(on_disk & damaged)
        # what retention removed is never newer than what it kept
        removed = [r for p, r in entries if p not in on_disk]
        if removed and intact:
            assert max(r.started for r in removed) <= max(r.started for _, r in entries if _ in on_disk)


def test_new_rbac_and_attack_path_findings_are_called_out() -> None:
    from kspm_tui.model import Category, Severity, Status
    from kspm_tui.triage.history import FindingRecord

    def finding(rule: str, category: Category, name: str, status: Status = Status.fail) -> FindingRecord:
        return FindingRecord(fingerprint=f"{rule}-{name}", rule=rule, title=rule, severity=Severity.high,
                             status=status, category=category, kind="ServiceAccount", namespace="ci", name=name)

    old = record("c", 0)
    old.rules = ["K8S-RBAC-WILDCARD", "K8S-PATH-INTERNET-TO-ADMIN", "K8S-PRIVILEGED"]
    old.findings = [finding("K8S-RBAC-WILDCARD", Category.rbac, "old-sa"),
                    finding("K8S-PRIVILEGED", Category.pod_security, "accepted-later")]
    new = record("c", 60)
    new.rules = old.rules
    new.findings = [finding("K8S-RBAC-WILDCARD", Category.rbac, "old-sa"),
                    finding("K8S-RBAC-WILDCARD", Category.rbac, "new-sa"),
                    finding("K8S-PATH-INTERNET-TO-ADMIN", Category.attack_path, "web"),
                    finding("K8S-PRIVILEGED", Category.pod_security, "accepted-later", Status.accepted)]
    drift = diff(old, new)
    assert [f.name for f in drift.new_dangerous_permissions] == ["new-sa"]
    assert [f.rule for f in drift.new_attack_paths] == ["K8S-PATH-INTERNET-TO-ADMIN"]
    assert [f.name for f in drift.newly_accepted] == ["accepted-later"]
    assert drift.resolved_findings == []  # accepted is not fixed
