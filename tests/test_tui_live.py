"""The explorer on live clusters: the test API server serves the demo cluster's objects."""

from __future__ import annotations

from kspm_tui.model import Status
from kspm_tui.target import Target
from kspm_tui.tui.app import KspmApp
from kspm_tui.tui.screens.contexts import ContextsScreen
from kspm_tui.tui.screens.finding import FindingScreen
from kspm_tui.tui.screens.fleet import FleetScreen
from kspm_tui.tui.screens.overview import OverviewScreen
from tests.apiserver.server import ApiServer
from tests.tui_helpers import move_to, run_async, screen_text, wait_for, wait_scanned


@run_async
async def test_pick_a_live_context_drill_and_copy_a_command_for_that_context(live_demo: ApiServer) -> None:
    app = KspmApp()
    async with app.run_test(size=(130, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ContextsScreen)
        assert live_demo.url in screen_text(app)
        await move_to(pilot, app.screen.table, lambda row: row.name == "demo-live")
        await pilot.press("enter")
        await wait_scanned(pilot, app)
        assert isinstance(app.screen, OverviewScreen)
        result = app.scanned.result
        assert result.cluster.context == "demo-live" and result.cluster.server == live_demo.url
        assert "› demo-live" in screen_text(app)

        # same findings as the offline scan of the same objects (cluster-level findings are
        # named after the cluster: "demo" offline, the context name live)
        offline = KspmApp(Target("demo"))
        async with offline.run_test() as offline_pilot:
            await wait_scanned(offline_pilot, offline)
            want = {f.fingerprint for f in offline.scanned.result.findings
                    if f.status is Status.fail and f.kind != "Cluster"}
        assert {f.fingerprint for f in result.findings if f.status is Status.fail and f.kind != "Cluster"} == want

        await pilot.press("colon", *"rule K8S-PRIVILEGED", "enter")
        await pilot.pause()
        await move_to(pilot, app.screen.table, lambda f: f.remediation.kubectl is not None)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, FindingScreen)
        await pilot.press("tab", "c")  # the patch tab first; Tab to the kubectl command
        copied = app.clipboard_service.last_text
        assert copied == app.screen.finding.remediation.kubectl and "--context demo-live" in copied


@run_async
async def test_all_contexts_scanned_concurrently_live_and_unreachable(live_demo: ApiServer) -> None:
    app = KspmApp()
    async with app.run_test(size=(150, 40)) as pilot:
        await pilot.pause()
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen))
        screen = app.screen
        await wait_for(pilot, lambda: all(r.status not in ("waiting", "reading") for r in screen.fleet), timeout=120)
        rows = {r.context: r for r in screen.fleet}  # the fleet reads reports: the demo cluster has no reporter
        assert rows["demo-live"].status == "no reporter" and rows["demo-live"].score is None
        assert rows["prod-eu"].status == "unreachable" and "prod-eu" in rows["prod-eu"].reason
        text = screen_text(app)
        assert "no reporter" in text and "unreachable" in text
        await move_to(pilot, screen.table, lambda r: r.context == "demo-live")
        await pilot.press("enter")  # no reporter: Enter scans it live
        await wait_scanned(pilot, app)
        assert app.scanned.result.cluster.context == "demo-live"


@run_async
async def test_live_watch_marks_a_new_finding_as_objects_change(live_demo: ApiServer) -> None:
    app = KspmApp(Target("context", context="demo-live"))
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_scanned(pilot, app)
        total = app.scanned.result.summary.total
        await pilot.press("w")
        await wait_for(pilot, lambda: app.live_watch.service is not None, timeout=60)
        live_demo.store.put({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "intruder", "namespace": "shop"},
            "spec": {"containers": [{"name": "x", "image": "evil/miner:1",
                                     "securityContext": {"privileged": True}}]}})
        await wait_for(pilot, lambda: any(f.name == "intruder" for f in app.scanned.result.findings), timeout=60)
        await pilot.pause(0.5)
        intruder = {f.fingerprint for f in app.scanned.result.findings
                    if f.name == "intruder" and f.status is Status.fail}
        assert intruder <= app.index.new and "K8S-PRIVILEGED" in {
            f.rule for f in app.scanned.result.findings if f.name == "intruder"}
        # shop enforces a Pod Security level the privileged intruder violates: as a fresh scan says
        violated = {f.fingerprint for f in app.scanned.result.findings
                    if (f.rule, f.name) == ("K8S-NS-PSA-VIOLATED", "shop")}
        assert len(violated) == 1 and violated <= app.index.new
        assert app.scanned.result.summary.total == total + len(intruder) + 1
        assert f"+{len(app.index.new)} new" in screen_text(app) and "● watching" in screen_text(app)
        await pilot.press("w")
        await pilot.pause()
        assert app.live_watch.service is None and not app.watching
