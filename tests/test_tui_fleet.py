"""The explorer's fleet table over three contexts (reports, no reporter, unreachable), and the
drill from a cluster's PolicyReports down to one finding's fix, driven with Pilot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kspm_tui.model import Status
from kspm_tui.tui.app import KspmApp
from kspm_tui.tui.screens.contexts import ContextsScreen
from kspm_tui.tui.screens.finding import FindingScreen
from kspm_tui.tui.screens.fix_plan import FixPlanScreen
from kspm_tui.tui.screens.fleet import FleetScreen
from kspm_tui.tui.screens.namespace import NamespaceScreen
from kspm_tui.tui.screens.overview import OverviewScreen
from kspm_tui.tui.screens.workload import WorkloadScreen
from tests.fleet_helpers import Fleet, make_fleet
from tests.tui_helpers import move_to, run_async, screen_text, wait_for, wait_scanned


@pytest.fixture
def fleet(serve: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Fleet:
    made = make_fleet(serve, tmp_path)
    monkeypatch.setenv("KUBECONFIG", str(made.kubeconfig))
    return made


async def open_fleet(pilot: Any, app: KspmApp) -> FleetScreen:
    await pilot.pause()
    assert isinstance(app.screen, ContextsScreen)
    await pilot.press("a")
    await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen))
    screen = app.screen
    assert isinstance(screen, FleetScreen)
    await wait_for(pilot, lambda: all(r.status not in ("waiting", "reading") for r in screen.fleet), timeout=60)
    await pilot.pause()
    return screen


@run_async
async def test_fleet_table_shows_each_cluster_and_drills_into_reports(fleet: Fleet) -> None:
    app = KspmApp()
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await open_fleet(pilot, app)
        rows = {r.context: r for r in screen.fleet}
        assert [rows[c].status for c in ("reports", "bare", "down")] == ["ok", "no reporter", "unreachable"]
        text = screen_text(app)
        want = fleet.scanned.result.summary.by_severity
        line = next(line for line in text.splitlines() if line.lstrip().startswith("reports"))
        assert f"{rows['reports'].score}" in line and str(want["critical"]) in line and "PRIVILEGED×3" in line
        assert "Enter scans live" in next(line for line in text.splitlines() if line.lstrip().startswith("bare"))
        assert "cannot reach the API server" in next(line for line in text.splitlines()
                                                     if line.lstrip().startswith("down"))
        assert "crit 3 across the fleet" in text
        await move_to(pilot, screen.table, lambda r: r.context == "down")
        await pilot.press("c")  # the whole sentence, as a live scan gives it
        assert app.clipboard_service.last_text == rows["down"].reason
        assert "context 'down'" in rows["down"].reason and "connection refused" in rows["down"].reason

        await pilot.press("home")
        await move_to(pilot, screen.table, lambda r: r.context == "reports")
        await pilot.press("enter")
        await wait_scanned(pilot, app)
        assert isinstance(app.screen, OverviewScreen)
        assert app.target is not None and app.target.kind == "reports" and app.target.context == "reports"
        assert "reports (reports)" in screen_text(app)
        assert not [e for e in fleet.reports.log if "/deployments" in e.path]  # read from reports, not scanned
        failing = {f.fingerprint for f in app.scanned.result.findings if f.status is Status.fail}
        assert failing == {f.fingerprint for f in fleet.scanned.result.findings if f.status is Status.fail}

        await move_to(pilot, app.screen.table, lambda r: r.name == "shop")  # namespace → workload → finding
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, NamespaceScreen)
        await move_to(pilot, app.screen.table, lambda r: getattr(r, "name", None) == "web"
                      and r.kind == "Deployment")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, WorkloadScreen)
        await move_to(pilot, app.screen.table, lambda f: getattr(f, "rule", None) == "K8S-PRIVILEGED")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, FindingScreen)
        text = screen_text(app)
        assert "Why it matters" in text and "Privileged container" in text and "REVIEW" in text
        await pilot.press("tab", "c")  # the kubectl tab: a command for the context the reports came from
        copied = app.clipboard_service.last_text
        assert copied == app.screen.finding.remediation.kubectl
        assert copied.startswith("kubectl patch -n shop --context reports --type=strategic -p ")

        await pilot.press("a")  # judged in the cluster: accepted there, not in a local file
        await pilot.pause()
        assert isinstance(app.screen, FindingScreen)
        assert any("in-cluster reporter mounts" in n.message for n in app._notifications)

        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, WorkloadScreen)
        await pilot.press("f")  # the fix plan from the reports' patches (no object to validate against)
        await pilot.pause()
        assert isinstance(app.screen, FixPlanScreen)
        text = screen_text(app)
        assert "Deployment shop/web" in text and "K8S-PRIVILEGED [nginx]: judged `review` by the in-cluster" in text
        await pilot.press("escape", "escape", "escape", "escape")
        await pilot.pause()
        assert isinstance(app.screen, OverviewScreen)

        lists = sum(e.path.endswith("/policyreports") for e in fleet.reports.log)
        await pilot.press("r")  # a rescan reads the reports again
        await wait_for(pilot, lambda: sum(e.path.endswith("/policyreports") for e in fleet.reports.log) > lists)
        await wait_scanned(pilot, app)
        assert app.target.kind == "reports" and app.scanned.result.summary.by_severity == want


@run_async
async def test_enter_on_a_cluster_without_reporter_scans_it_live(fleet: Fleet) -> None:
    app = KspmApp()
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await open_fleet(pilot, app)
        await move_to(pilot, screen.table, lambda r: r.context == "bare")
        await pilot.press("enter")
        await wait_scanned(pilot, app)
        assert app.target is not None and app.target.kind == "context" and app.target.context == "bare"
        assert app.scanned.result.cluster.server == fleet.bare.url
        assert any("/deployments" in e.path for e in fleet.bare.log)  # listed live

        await pilot.press("colon", *"fleet", "enter")  # `:fleet`, then `l` scans a cluster with reports live
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen))
        screen = app.screen
        await wait_for(pilot, lambda: all(r.status not in ("waiting", "reading") for r in screen.fleet), timeout=60)
        await pilot.press("home")  # the cursor stayed on the row it was on while the rows sorted themselves
        await move_to(pilot, screen.table, lambda r: r.context == "reports")
        await pilot.press("l")
        await wait_scanned(pilot, app)
        assert app.target is not None and app.target.kind == "context" and app.target.context == "reports"
        assert any("/deployments" in e.path for e in fleet.reports.log)
