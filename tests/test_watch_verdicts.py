"""Fix verdicts kept across a watch's batches equal fresh ones, and an edited spec is judged again.

A watch re-evaluates the units a batch reaches; a workload reached through a Service or a
NetworkPolicy has the spec it had, so its fixes' verdicts (a strategic merge and a validation
each, `fixes/safety.py`) are taken from the batch before. Hypothesis edits specs (images, memory
requests, users, volume mounts), Services and a namespace's Pod Security label at random; after
every batch each failing finding, its remediation included, must equal a full evaluation's, which
judges every fix afresh.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kspm_tui.engine.evaluate import evaluate_snapshot
from kspm_tui.incremental import Incremental
from kspm_tui.model import SourceRef, Status
from kspm_tui.scan import ScanSettings, load_ruleset, options_for
from kspm_tui.snapshot import Snapshot
from kspm_tui.sources import Collected, SourcedObject

SETTINGS = ScanSettings(context="test", cluster_name="test")
RULESET = load_ruleset(SETTINGS)
WORKLOADS = ("w1", "w2", "w3")
MEMORY_LIMIT = "K8S-RESOURCES-MEMORY-LIMIT"


def namespace(level: str = "") -> dict[str, Any]:
    labels = {"pod-security.kubernetes.io/enforce": level} if level else {}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "labels": labels}}


def deployment(name: str, image: str = "nginx:1.27", memory: str | None = "100Mi", user: int | None = None,
               mount: bool = False) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "c", "image": image}
    if memory:
        container["resources"] = {"requests": {"memory": memory}}
    if user is not None:
        container["securityContext"] = {"runAsUser": user}
    if mount:
        container["volumeMounts"] = [{"name": "tmp", "mountPath": "/tmp"}]
    spec: dict[str, Any] = {"containers": [container]}
    if mount:
        spec["volumes"] = [{"name": "tmp", "emptyDir": {}}]
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "a"},
            "spec": {"selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": spec}}}


def service(name: str, kind: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"s-{name}", "namespace": "a"},
            "spec": {"type": kind, "selector": {"app": name}, "ports": [{"port": 80}]}}


@st.composite
def change(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    name = draw(st.sampled_from(WORKLOADS))
    what = draw(st.integers(0, 5))
    if what == 0:
        return ("MODIFIED", service(name, draw(st.sampled_from(["ClusterIP", "LoadBalancer"]))))
    if what == 1:
        return ("MODIFIED", namespace(draw(st.sampled_from(["", "baseline", "restricted"]))))
    if what == 2:
        return ("DELETED", deployment(name))
    image = draw(st.sampled_from(["nginx:1.27", "redis:7", "example/unknown:1"]))
    return ("MODIFIED", deployment(name, image, draw(st.sampled_from([None, "100Mi", "1Gi"])),
                                   draw(st.sampled_from([None, 0, 1000])), draw(st.booleans())))


def failing_of(findings: Any) -> dict[str, dict[str, Any]]:
    return {f.fingerprint: f.model_dump(mode="json") for f in findings if f.status is Status.fail}


def watched() -> tuple[Snapshot, Incremental, Any]:
    objects = [namespace(), *(deployment(n) for n in WORKLOADS),
               *(service(n, "ClusterIP") for n in WORKLOADS)]
    snapshot = Snapshot([SourcedObject(o, SourceRef(file="live")) for o in objects],
                        cluster_id="test-cluster")
    collected = Collected(is_cluster=False)

    def options(only: frozenset | None) -> Any:
        return options_for(SETTINGS, collected, snapshot, is_cluster=False, only=only)

    return snapshot, Incremental(snapshot, RULESET, options, lambda kind: SourceRef(file="live")), options


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(change(), min_size=1, max_size=3), min_size=1, max_size=8))
def test_kept_verdicts_equal_fresh_ones(batches: list[list[tuple[str, dict[str, Any]]]]) -> None:
    snapshot, inc, options = watched()
    failing = {f.fingerprint: f for f in inc.evaluate(None).findings if f.status is Status.fail}
    for batch in batches:
        only = inc.apply(batch)
        failing = inc.merge(failing, inc.evaluate(only), only)
        full = evaluate_snapshot(snapshot, RULESET, options(None))
        assert failing_of(failing.values()) == failing_of(full.findings)
        # bounded to the live objects: an entry is the snapshot's object as it is now
        for key, (obj, _) in inc._verdicts.items():
            assert snapshot.index[key].obj is obj


def test_a_reached_workload_keeps_its_verdicts_and_an_edited_one_is_judged_again() -> None:
    snapshot, inc, _ = watched()
    failing = {f.fingerprint: f for f in inc.evaluate(None).findings if f.status is Status.fail}

    def limit(name: str) -> str:
        (found,) = [f for f in failing.values() if f.rule == MEMORY_LIMIT and f.name == name]
        return found.remediation.safety_reason or ""

    kept = inc._verdicts[("Deployment", "a", "w1")]
    only = inc.apply([("MODIFIED", service("w1", "LoadBalancer"))])
    assert only is not None and ("Deployment", "a", "w1") in only  # re-evaluated ...
    failing = inc.merge(failing, inc.evaluate(only), only)
    assert inc._verdicts[("Deployment", "a", "w1")] is kept  # ... with the verdicts it had
    assert limit("w1").startswith("limit 150Mi = request 100Mi")

    only = inc.apply([("MODIFIED", deployment("w1", memory="1Gi"))])
    failing = inc.merge(failing, inc.evaluate(only), only)
    assert limit("w1").startswith("limit 1536Mi = request 1Gi")  # the edited spec's own verdict
    assert limit("w2").startswith("limit 150Mi = request 100Mi")

    only = inc.apply([("DELETED", deployment("w1"))])
    inc.merge(failing, inc.evaluate(only), only)
    assert ("Deployment", "a", "w1") not in inc._verdicts  # a deleted object's verdicts go with it
