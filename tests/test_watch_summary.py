"""What a user sees of a watch's summary after changes: the score and counts a fresh scan gives.

A small cluster (one Deployment failing its container hardening checks, no critical or high
finding, so the score is the weighted pass rate) is served over HTTPS; while the explorer or
the CLI watches, the Deployment is fixed on the server and a second, hardened one is created.
The score shown (the explorer's header and overview, the CLI's heartbeat, the reporter's
`kspm_score` on /metrics) must rise to what a fresh scan of the cluster gives, and the object
and workload counts with it: a watch that kept the first scan's counts would show another number.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from kspm_tui.reporter.metrics import Endpoints
from kspm_tui.scan import ScanSettings, run_scan
from kspm_tui.target import Target
from kspm_tui.tui.app import KspmApp
from tests.apiserver.fixtures import kubeconfig, serve  # noqa: F401 - fixtures
from tests.apiserver.server import ApiServer
from tests.test_reporter import Running, get
from tests.tui_helpers import run_async, screen_text, start_watch, wait_for, wait_scanned
from tests.watch_process import WatchProcess


def namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "uid": f"uid-{name}", "labels": {"pod-security.kubernetes.io/enforce": "baseline"}}}


def deployment(name: str, *, hardened: bool) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "app", "image": "registry.example/app@sha256:" + "a" * 64,
                                 "resources": {"requests": {"cpu": "100m", "memory": "64Mi"},
                                               "limits": {"memory": "64Mi"}}}
    if hardened:
        container["securityContext"] = {"runAsNonRoot": True, "allowPrivilegeEscalation": False,
                                        "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]},
                                        "seccompProfile": {"type": "RuntimeDefault"}}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "app", "uid": f"uid-{name}"},
            "spec": {"selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"automountServiceAccountToken": False, "containers": [container]}}}}


CLUSTER = [namespace("kube-system"), namespace("app"), deployment("web", hardened=False)]


def fix(server: ApiServer) -> None:
    """What an operator does: harden `web`, and roll out `api` hardened from the start."""
    server.store.put(deployment("web", hardened=True))
    server.store.put(deployment("api", hardened=True))


def fresh(context: str) -> Any:
    return run_scan(Target("context", context=context), ScanSettings()).result.summary


@run_async
async def test_the_explorer_shows_the_score_a_fresh_scan_gives_after_a_fix(serve, kubeconfig,  # noqa: F811
                                                                            monkeypatch) -> None:
    server = serve(CLUSTER)
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig(server, context="live")))
    before = fresh("live")
    assert before.score_cap is None and before.workloads == 1
    app = KspmApp(Target("context", context="live"))
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_scanned(pilot, app)
        await start_watch(pilot, app)
        text = screen_text(app)
        assert f"score {before.score}" in text and f"Posture score {before.score}/100" in text
        fix(server)
        after = fresh("live")
        assert after.score > before.score and after.workloads == 2
        await wait_for(pilot, lambda: f"Posture score {after.score}/100" in screen_text(app), timeout=60)
        text = screen_text(app)
        assert f"score {after.score}" in text  # the header
        assert f"{after.objects} objects scanned · 2 workloads" in text
        summary = app.scanned.result.summary
        assert (summary.score, summary.objects, summary.workloads) == (after.score, after.objects, 2)


def test_the_cli_watch_heartbeat_shows_the_score_a_fresh_scan_gives_after_a_fix(serve, kubeconfig,  # noqa: F811
                                                                                  monkeypatch) -> None:
    server = serve(CLUSTER)
    config = kubeconfig(server, context="live")
    monkeypatch.setenv("KUBECONFIG", str(config))
    before = fresh("live")
    watch = WatchProcess(config, "--context", "live", "--heartbeat", "500ms")
    try:
        watch.wait_line(rf"^kspm-tui: heartbeat: ok; {before.objects} objects, .*; score {before.score}$")
        fix(server)
        after = fresh("live")
        assert after.score > before.score
        watch.wait_line(rf"^kspm-tui: heartbeat: ok; {after.objects} objects, .*; score {after.score}$")
    finally:
        watch.stop()


def test_the_reporter_publishes_the_score_a_fresh_scan_gives_after_a_fix(serve, kubeconfig,  # noqa: F811
                                                                          monkeypatch) -> None:
    server = serve(CLUSTER)
    server.allow_report_writes = True
    config = kubeconfig(server, context="live")
    monkeypatch.setenv("KUBECONFIG", str(config))
    before = fresh("live")
    running = Running(server, config)
    endpoints = Endpoints(running.metrics, "127.0.0.1:0", healthy=lambda: running.reporter.alive,
                          ready=running.reporter.ready.is_set)

    def published() -> tuple[float, float]:
        code, text = get(f"http://127.0.0.1:{endpoints.port}/metrics")
        assert code == 200
        families = {f.name: f for f in text_string_to_metric_families(text)}
        return families["kspm_score"].samples[0].value, families["kspm_workloads"].samples[0].value

    try:
        running.reporter.ready.wait(60)
        assert published() == (before.score, 1)
        fix(server)
        after = fresh("live")
        deadline = time.monotonic() + 60  # a safety net for a hung reporter, not a speed requirement
        while published() != (after.score, 2):
            assert time.monotonic() < deadline, f"/metrics still says {published()}, a fresh scan {after.score}"
            time.sleep(0.05)
    finally:
        endpoints.close()
        running.stop()
