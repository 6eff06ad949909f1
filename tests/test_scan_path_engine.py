"""The optimised scan path keeps its behaviour: snapshot replacement and ownership, one finding
per top-level workload with exact evidence paths, shared sources, and the JSON document."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from kspm_tui.model import SourceRef
from kspm_tui.report import json as report_json
from kspm_tui.scan import ScanSettings, scan
from kspm_tui.snapshot import Snapshot
from kspm_tui.sources import SourcedObject
from kspm_tui.sources.files import read_text
from kspm_tui.yamlio import dump_yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import generate  # noqa: E402


def _obj(kind: str, name: str, ns: str | None = "apps", uid: str | None = None, owner: dict | None = None,
         api: str = "v1", **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if ns:
        meta["namespace"] = ns
    if uid:
        meta["uid"] = uid
    if owner:
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": owner["kind"], "controller": True,
                                    "name": owner["metadata"]["name"], **({"uid": owner["metadata"]["uid"]}
                                                                         if "uid" in owner["metadata"] else {})}]
    return {"apiVersion": api, "kind": kind, "metadata": meta, **extra}


def _item(obj: dict[str, Any], line: int = 1) -> SourcedObject:
    return SourcedObject(obj, SourceRef(file="t.yaml", document=1, line=line))


def _template(privileged: bool, container: str = "app") -> dict[str, Any]:
    return {"metadata": {"labels": {"app": "x"}},
            "spec": {"containers": [{"name": container, "image": "nginx:1.27",
                                     "securityContext": {"privileged": privileged}}]}}


def test_a_later_duplicate_replaces_the_earlier_and_counts_as_read_last() -> None:
    first = _item(_obj("ConfigMap", "a", uid="u1", data={"v": "1"}))
    other = _item(_obj("ConfigMap", "b", uid="u2"))
    again = _item(_obj("ConfigMap", "a", uid="u3", data={"v": "2"}))
    snap = Snapshot([first, other, again])
    assert len(snap) == 2
    assert snap.get("ConfigMap", "apps", "a") is again
    assert [i.obj["metadata"]["name"] for i in snap.items] == ["b", "a"]
    assert [i.obj["metadata"]["name"] for i in snap.of_kind("ConfigMap")] == ["b", "a"]
    assert snap.by_kind == {"ConfigMap": [other, again]}
    assert "u1" not in snap.by_uid and snap.by_uid["u3"] is again  # the replaced object is gone
    assert snap.remove(("ConfigMap", "apps", "a")) is again
    assert len(snap) == 1 and "u3" not in snap.by_uid and snap.of_kind("Secret") == []
    assert snap.remove(("ConfigMap", "apps", "a")) is None


def test_thousands_of_duplicates_stay_linear() -> None:
    """Replacing is O(1): re-adding 20k objects (a relist) leaves one copy of each."""
    items = [_item(_obj("ConfigMap", f"cm-{i}", uid=f"u{i}")) for i in range(10_000)]
    snap = Snapshot(items + [_item(_obj("ConfigMap", f"cm-{i}", uid=f"u{i}")) for i in range(10_000)])
    assert len(snap) == 10_000 and len(snap.by_uid) == 10_000


def test_owners_resolve_to_the_top_workload_by_uid_or_by_name() -> None:
    dep = _obj("Deployment", "web", uid="d1", api="apps/v1", spec={"template": _template(True)})
    rs = _obj("ReplicaSet", "web-5d9", uid="r1", owner=dep, api="apps/v1", spec={"template": _template(True)})
    pod = _obj("Pod", "web-5d9-abc", owner=rs, spec=_template(True)["spec"])
    by_name = _obj("Pod", "web-5d9-def", owner={"kind": "ReplicaSet", "metadata": {"name": "web-5d9"}},
                   spec=_template(True)["spec"])
    node = _obj("Node", "n1", ns=None, uid="n1")
    static = _obj("Pod", "kube-apiserver-n1", ns="kube-system", owner=node, spec=_template(False)["spec"])
    snap = Snapshot(_item(o) for o in (pod, by_name, rs, dep, node, static))
    assert snap.top_owner(snap.get("Pod", "apps", "web-5d9-abc")).obj is dep  # type: ignore[arg-type]
    assert snap.top_owner(snap.get("Pod", "apps", "web-5d9-def")).obj is dep  # type: ignore[arg-type]
    assert sorted((w.kind, w.name) for w in snap.workloads()) == [
        ("Deployment", "web"), ("Pod", "kube-apiserver-n1")]


def _scan(objects: list[dict[str, Any]]) -> Any:
    text = dump_yaml({"apiVersion": "v1", "kind": "List", "items": objects}).encode()
    return scan(read_text(text, "cluster.yaml"), ScanSettings())


def test_one_finding_per_workload_with_evidence_at_each_kinds_template_path() -> None:
    dep = _obj("Deployment", "web", uid="d1", api="apps/v1", spec={"template": _template(True)})
    twin = _obj("Deployment", "web-copy", uid="d2", api="apps/v1", spec={"template": _template(True)})
    rs = _obj("ReplicaSet", "web-5d9", uid="r1", owner=dep, api="apps/v1", spec={"template": _template(True)})
    pod = _obj("Pod", "web-5d9-abc", owner=rs, spec=_template(True)["spec"])
    cron = _obj("CronJob", "nightly", uid="c1", api="batch/v1",
                spec={"schedule": "@daily", "jobTemplate": {"spec": {"template": _template(True, "job")}}})
    bare = _obj("Pod", "debug", spec=_template(True, "sh")["spec"])
    fine = _obj("Deployment", "ok", api="apps/v1", spec={"template": _template(False)})
    result = _scan([dep, twin, rs, pod, cron, bare, fine])
    # Evidence of the rules a privileged finding covers (`supersedes`) follows its own.
    got = sorted((f.kind, f.name, f.container, [e.path for e in f.evidence][:1], f.source.line)
                 for f in result.findings if f.rule == "K8S-PRIVILEGED")
    assert got == [
        ("CronJob", "nightly", "job", ["spec.jobTemplate.spec.template.spec.containers[job].securityContext.privileged"], 1),
        ("Deployment", "web", "app", ["spec.template.spec.containers[app].securityContext.privileged"], 1),
        ("Deployment", "web-copy", "app", ["spec.template.spec.containers[app].securityContext.privileged"], 1),
        ("Pod", "debug", "sh", ["spec.containers[sh].securityContext.privileged"], 1),
    ]
    web = next(f for f in result.findings if f.rule == "K8S-PRIVILEGED" and f.name == "web")
    twin_f = next(f for f in result.findings if f.rule == "K8S-PRIVILEGED" and f.name == "web-copy")
    assert web.fingerprint != twin_f.fingerprint  # the cached template result is re-addressed per workload
    assert "deployment web-copy" in (twin_f.remediation.kubectl or "")
    assert result.summary.workloads == 5


def test_objects_of_one_document_share_its_source() -> None:
    got = read_text(b"apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n"
                    b"- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n---\n"
                    b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n", "f.yaml")
    assert [(o.source.file, o.source.document, o.source.line) for o in got.objects] == [
        ("f.yaml", 1, 1), ("f.yaml", 1, 1), ("f.yaml", 2, 7)]


@pytest.fixture(scope="module")
def demo_result() -> Any:
    from kspm_tui.sources.demo import read_demo

    return scan(read_demo(), ScanSettings(include_system=True))


def test_json_report_is_the_model_dump_byte_for_byte(demo_result: Any) -> None:
    """The pydantic-core serialiser writes what `orjson(model_dump(mode="json"))` wrote before."""
    expected = orjson.dumps(demo_result.model_dump(mode="json", exclude_none=False),
                            option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode() + "\n"
    assert demo_result.findings
    assert report_json.render(demo_result) == expected


def test_findings_built_without_validation_still_validate(demo_result: Any) -> None:
    """Findings are made with model_construct; every one must pass the model's own validation."""
    from kspm_tui.model import Finding

    for finding in demo_result.findings:
        again = Finding.model_validate(finding.model_dump())
        assert again == finding


def test_generated_cluster_is_deterministic_and_reads_cleanly(tmp_path: Path) -> None:
    files, counts = generate.build(60, seed=7)
    again, _ = generate.build(60, seed=7)
    assert files == again
    for name, objects in files.items():
        (tmp_path / f"{name}.yaml").write_text(generate.dump_list(objects))
    from kspm_tui.sources.files import read_paths

    collected = read_paths([str(tmp_path)])
    assert collected.errors == []
    assert len(collected.objects) == counts["objects"]
    kinds = {o.obj["kind"] for o in collected.objects}
    assert kinds >= {"Deployment", "ReplicaSet", "Pod", "StatefulSet", "DaemonSet", "CronJob", "Job", "Service",
                     "ConfigMap", "ServiceAccount", "Role", "RoleBinding", "ClusterRole", "Namespace"}
    result = scan(collected, ScanSettings())
    assert result.summary.workloads + result.excluded.workloads == counts["workloads"] == 60
    assert "*id" not in (tmp_path / "kube-system.yaml").read_text()  # no YAML aliases, like kubectl


@pytest.mark.parametrize("count", [0, 1, 499, 500, 501, 1000, 1234])
def test_streamed_json_report_joins_to_the_whole_document(demo_result: Any, count: int) -> None:
    """Findings are written a few hundred at a time; the pieces must join to the one-shot bytes."""
    findings = (demo_result.findings * (count // max(len(demo_result.findings), 1) + 1))[:count]
    result = demo_result.model_copy(update={"findings": findings})
    whole = report_json._SCAN_RESULT.dump_json(result, indent=2) + b"\n"
    pieces = list(report_json.chunks(result))
    assert b"".join(pieces) == whole
    assert len(pieces) >= count // 500
