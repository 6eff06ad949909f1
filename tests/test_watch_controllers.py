"""An ingress controller's exposure changing re-evaluates the workloads routed through an
Ingress, not every workload, and that still equals a full evaluation."""

from __future__ import annotations

from typing import Any

from kspm_tui.engine.evaluate import evaluate_snapshot
from kspm_tui.incremental import Incremental
from kspm_tui.model import SourceRef, Status
from kspm_tui.scan import ScanSettings, load_ruleset, options_for
from kspm_tui.snapshot import Snapshot
from kspm_tui.sources import Collected, SourcedObject
from tests.test_watch_incremental import cluster, meta

SETTINGS = ScanSettings(context="test", cluster_name="test")


def pod(name: str, ns: str, app: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta(name, ns, labels={"app": app}),
            "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}


def service(name: str, ns: str, app: str, kind: str = "ClusterIP") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta(name, ns),
            "spec": {"type": kind, "selector": {"app": app}, "ports": [{"port": 80}]}}


def test_a_controller_exposed_or_not_re_evaluates_only_the_workloads_behind_ingresses() -> None:
    objects = [*cluster(), pod("controller", "a", "ingress-nginx"), service("controller", "a", "ingress-nginx"),
               pod("web", "b", "web"), service("web", "b", "web"),
               {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta("web", "b"),
                "spec": {"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}}},
               *(pod(f"other-{i}", "b", "api") for i in range(20))]
    snapshot = Snapshot([SourcedObject(o, SourceRef()) for o in objects], cluster_id="test-cluster")
    collected = Collected(is_cluster=True)
    ruleset = load_ruleset(SETTINGS)
    inc = Incremental(snapshot, ruleset, lambda only: options_for(SETTINGS, collected, snapshot, is_cluster=True,
                                                                  only=only), lambda kind: SourceRef())
    failing = {f.fingerprint: f for f in inc.evaluate(None).findings if f.status is Status.fail}
    for kind in ("LoadBalancer", "ClusterIP", "LoadBalancer"):
        only = inc.apply([("MODIFIED", service("controller", "a", "ingress-nginx", kind))])
        assert inc._facts is not None  # the controller is reachable from outside exactly when it is a load balancer
        assert [c.exposed for c in inc._facts.reach.controllers] == [kind == "LoadBalancer"]
        assert only is not None and ("Pod", "b", "web") in only
        assert not any(key[2].startswith("other-") for key in only)
        failing = inc.merge(failing, inc.evaluate(only), only)
        full = evaluate_snapshot(snapshot, ruleset, options_for(SETTINGS, collected, snapshot, is_cluster=True))
        want = {f.fingerprint: f.model_dump(mode="json") for f in full.findings if f.status is Status.fail}
        assert {fp: f.model_dump(mode="json") for fp, f in failing.items()} == want
