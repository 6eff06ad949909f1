"""The workload list a snapshot keeps per object (a watch) equals the list computed afresh.

Hypothesis adds, replaces and removes Deployments, ReplicaSets and Pods that own each other by
uid or by name (or name an owner that is absent, of another kind, or themselves), asking for
the list between changes; after each change it must equal, in order, that of a snapshot built
from the same objects in the same order.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kspm_tui.model import SourceRef
from kspm_tui.snapshot import Snapshot, key_of
from kspm_tui.sources import SourcedObject

KINDS = {"Deployment": "apps/v1", "ReplicaSet": "apps/v1", "Pod": "v1", "ConfigMap": "v1"}
NAMES = ("x", "y")
TEMPLATE = {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}


@st.composite
def workload_object(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["Deployment", "ReplicaSet", "Pod"]))
    name = draw(st.sampled_from(NAMES))
    meta: dict[str, Any] = {"name": name, "namespace": "a"}
    if draw(st.booleans()):
        meta["uid"] = f"uid-{kind}-{name}-{draw(st.integers(0, 1))}"  # a re-created object has a new uid
    if draw(st.integers(0, 3)):
        owner_kind = draw(st.sampled_from(["Deployment", "ReplicaSet", "Pod", "ConfigMap"]))
        owner_name = draw(st.sampled_from(NAMES))
        ref: dict[str, Any] = {"apiVersion": KINDS[owner_kind], "kind": owner_kind, "name": owner_name,
                               "controller": True}
        if draw(st.booleans()):
            ref["uid"] = f"uid-{owner_kind}-{owner_name}-{draw(st.integers(0, 1))}"
        meta["ownerReferences"] = [ref]
    obj = {"apiVersion": KINDS[kind], "kind": kind, "metadata": meta}
    obj["spec"] = TEMPLATE["spec"] if kind == "Pod" else {"template": TEMPLATE}
    return obj


def config_map(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "a", "uid": f"uid-ConfigMap-{name}-0"}}


changes = st.lists(st.tuples(st.sampled_from(["put", "put", "delete"]), st.one_of(
    workload_object(), st.sampled_from(NAMES).map(config_map)), st.booleans()), max_size=30)


def listed(snapshot: Snapshot) -> list[tuple[Any, ...]]:
    return [(key_of(w.obj), id(w.obj), w.template) for w in snapshot.workloads()]


@settings(max_examples=300, deadline=None)
@given(st.lists(workload_object(), max_size=8), changes)
def test_kept_workload_list_equals_a_fresh_one(initial: list[dict[str, Any]],
                                               steps: list[tuple[str, Any, bool]]) -> None:
    snapshot = Snapshot([SourcedObject(o, SourceRef()) for o in initial])
    snapshot.workloads()  # from here on the list is kept per change
    for op, obj, ask in steps:
        if op == "put":
            snapshot.add(SourcedObject(obj, SourceRef()))
        else:
            snapshot.remove(key_of(obj))
        if ask:
            assert listed(snapshot) == listed(Snapshot(snapshot.items))
    assert listed(snapshot) == listed(Snapshot(snapshot.items))
