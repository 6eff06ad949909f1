"""Drive the real explorer as a user would: drill down, filter, copy, go back, jump."""

from __future__ import annotations

from kspm_tui.model import Status
from kspm_tui.tui.app import KspmApp
from kspm_tui.tui.screens.finding import FindingScreen
from kspm_tui.tui.screens.modals import ErrorScreen
from kspm_tui.tui.screens.namespace import NamespaceScreen
from kspm_tui.tui.screens.overview import OverviewScreen
from kspm_tui.tui.screens.rules import RulesScreen
from kspm_tui.tui.screens.workload import Group, WorkloadScreen
from kspm_tui.tui.target import Target
from tests.tui_helpers import FIXTURE_CLUSTER, run_async, screen_text, wait_for, wait_scanned



def fixture_app() -> KspmApp:
    return KspmApp(Target("paths", paths=(str(FIXTURE_CLUSTER),)))


@run_async
async def test_drill_from_overview_to_finding_copy_and_back() -> None:
    app = fixture_app()
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_scanned(pilot, app)
        assert isinstance(app.screen, OverviewScreen)
        text = screen_text(app)
        assert "Posture score" in text and "payments" in text and "shop" in text
        failing = [f for f in app.scanned.result.findings if f.status is Status.fail]
        assert f"{len(failing)} critical" in text

        # the worst namespace is first after "(all namespaces)"
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, NamespaceScreen) and app.screen.namespace == "payments"
        assert "ns payments" in screen_text(app)
        names = [row.name for row in app.screen.table.rows]
        assert set(names) == {"ledger", "debug-shell"}

        # open ledger: findings grouped by container
        while app.screen.table.current.name != "ledger":
            await pilot.press("down")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, WorkloadScreen)
        rows = app.screen.table.rows
        groups = [r.label for r in rows if isinstance(r, Group)]
        assert groups == ["container init-perms", "container ledger"]
        text = screen_text(app)
        assert "container init-perms" in text and "K8S-PRIVILEGED" in text

        assert app.screen.table.current.container == "init-perms"  # cursor on the first finding
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, FindingScreen)
        finding = app.screen.finding
        assert finding.container == "init-perms"
        text = screen_text(app)
        assert "Why it matters" in text and "Evidence" in text and "CIS 5.2.2" in text
        assert "kubectl patch statefulset ledger" in text

        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard_service.last_text == finding.remediation.kubectl
        assert "kubectl patch statefulset ledger -n payments" in app.clipboard_service.last_text
        if app.clipboard_service.last_method.startswith("terminal"):
            assert app.clipboard == finding.remediation.kubectl
        assert any("copied kubectl patch command" in n.message for n in app._notifications)

        # the diff tab shows the object before and after the patch
        await pilot.press("tab")
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        diff = app.clipboard_service.last_text
        assert "-          privileged: true" in diff and "+          privileged: false" in diff

        for expected in (WorkloadScreen, NamespaceScreen, OverviewScreen):
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, expected)
        await pilot.press("escape")  # the overview is the bottom of the drill path
        assert isinstance(app.screen, OverviewScreen)


@run_async
async def test_filter_as_you_type_and_escape_clears() -> None:
    app = fixture_app()
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_scanned(pilot, app)
        await pilot.press("enter")  # all namespaces → all workloads
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, NamespaceScreen) and len(screen.table.rows) == 4
        await pilot.press("slash", "l", "d", "g")  # fuzzy: l..d..g matches "ledger"
        await pilot.pause()
        assert [r.name for r in screen.table.rows] == ["ledger"]
        assert "1 of 4" in screen_text(app)
        await pilot.press("enter", "escape")
        await pilot.pause()
        assert isinstance(app.screen, NamespaceScreen) and len(screen.table.rows) == 4
        await pilot.press("s")  # sort by name
        await pilot.pause()
        assert [r.name for r in screen.table.rows] == ["cart", "debug-shell", "ledger", "web"]


@run_async
async def test_jump_to_rules_browser_and_by_rule_view() -> None:
    app = fixture_app()
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_scanned(pilot, app)
        await pilot.press("colon")
        await pilot.pause()
        for ch in "rules":
            await pilot.press(ch)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, RulesScreen)
        text = screen_text(app)
        assert "K8S-PRIVILEGED" in text and "Why it matters" in text
        await pilot.press("enter")
        await pilot.pause()
        text = screen_text(app)
        assert "rule K8S-PRIVILEGED" in text and "payments/ledger" in text and "shop/web" in text
        await pilot.press("c")
        commands = app.clipboard_service.last_text.splitlines()
        assert len(commands) == 3  # the bare Pod gets guidance, not a command
        assert all(c.startswith("kubectl patch ") for c in commands)


@run_async
async def test_help_and_unknown_jump() -> None:
    app = fixture_app()
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_scanned(pilot, app)
        await pilot.press("question_mark")
        await pilot.pause()
        text = screen_text(app)
        assert "Rescan" in text and ":rules" in text
        await pilot.press("escape", "colon", "x", "y", "z", "enter")
        await pilot.pause()
        assert any("unknown view :xyz" in n.message for n in app._notifications)


@run_async
async def test_rescan_marks_new_findings(tmp_path) -> None:
    import shutil

    folder = tmp_path / "cluster"
    shutil.copytree(FIXTURE_CLUSTER, folder)
    app = KspmApp(Target("paths", paths=(str(folder),)))
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_scanned(pilot, app)
        before = app.scanned.result.summary.total
        (folder / "new.yaml").write_text(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: intruder, namespace: shop}\n"
            "spec:\n  containers:\n    - {name: x, image: busybox:1.36, securityContext: {privileged: true}}\n")
        await pilot.press("r")
        await wait_scanned(pilot, app)
        assert app.scanned.result.summary.total == before + 1
        assert len(app.index.new) == 1
        assert "+1 new" in screen_text(app)


@run_async
async def test_unreadable_folder_shows_error_screen(tmp_path) -> None:
    (tmp_path / "bad.yaml").write_text("kind: [unclosed\n")
    app = KspmApp(Target("paths", paths=(str(tmp_path),)))
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorScreen))
        text = screen_text(app)
        assert "Cannot scan" in text and "invalid YAML" in text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, OverviewScreen)
        assert "scan failed" in screen_text(app)
