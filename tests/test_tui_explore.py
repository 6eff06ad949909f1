"""Drive the real explorer as a user would: drill down, filter, copy, go back, jump."""

from __future__ import annotations

from kspm_tui.model import Status
from kspm_tui.target import Target
from kspm_tui.tui.app import KspmApp
from kspm_tui.tui.screens.finding import FindingScreen
from kspm_tui.tui.screens.modals import ErrorScreen
from kspm_tui.tui.screens.namespace import NamespaceScreen
from kspm_tui.tui.screens.overview import OverviewScreen
from kspm_tui.tui.screens.rules import RulesScreen
from kspm_tui.tui.screens.workload import WorkloadScreen
from tests.tui_helpers import FIXTURE_CLUSTER, move_to, run_async, screen_text, wait_for, wait_scanned


def fixture_app() -> KspmApp:
    return KspmApp(Target("paths", paths=(str(FIXTURE_CLUSTER),)))


def demo_app() -> KspmApp:
    return KspmApp(Target("demo"))


@run_async
async def test_drill_from_overview_to_finding_copy_and_back() -> None:
    app = demo_app()
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_scanned(pilot, app)
        assert isinstance(app.screen, OverviewScreen)
        summary = app.scanned.result.summary
        text = screen_text(app)
        assert f"Posture score {summary.score}/100" in text
        assert f"{summary.by_severity['critical']} critical" in text
        assert "› demo" in text
        for ns in ("ci", "payments", "monitoring", "shop"):
            assert ns in text

        await move_to(pilot, app.screen.table, lambda row: row.name == "ci")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, NamespaceScreen) and app.screen.namespace == "ci"
        assert "› ns ci" in screen_text(app)
        expected = {row.name for row in app.index.workloads.values()
                    if row.namespace == "ci" or (row.kind, row.name) == ("Namespace", "ci")}
        assert {row.name for row in app.screen.table.rows} == expected

        await move_to(pilot, app.screen.table, lambda row: row.name == "sonarqube")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, WorkloadScreen)
        findings = app.index.workloads[("Deployment", "ci", "sonarqube")].findings
        rows = app.screen.table.rows
        assert len(rows) == len(findings)  # worst first, no group headers between them
        ranks = [f.severity.rank for f in rows if f.status is Status.fail]
        assert ranks == sorted(ranks, reverse=True)
        text = screen_text(app)
        assert "scope" in text and "init-sysctl" in text and "K8S-PRIVILEGED" in text

        await move_to(pilot, app.screen.table,
                      lambda row: getattr(row, "rule", None) == "K8S-PRIVILEGED")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, FindingScreen)
        finding = app.screen.finding
        assert (finding.rule, finding.container) == ("K8S-PRIVILEGED", "init-sysctl")
        text = screen_text(app)
        assert "Why it matters" in text and "Evidence" in text and "CIS 5.2.2" in text

        # the fix tabs open on the patch; Tab moves to the kubectl command
        assert app.screen.query_one("#fix").active == "tab-patch"
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard_service.last_text == app.screen.patch_yaml()
        await pilot.press("tab")
        await pilot.pause()
        assert "kubectl patch -n ci --type=strategic" in screen_text(app)
        await pilot.press("c")
        await pilot.pause()
        assert finding.remediation.kubectl
        assert app.clipboard_service.last_text == finding.remediation.kubectl
        if app.clipboard_service.last_method.startswith("terminal"):
            assert app.clipboard == finding.remediation.kubectl
        assert any("copied kubectl patch command" in n.message for n in app._notifications)

        # the diff tab shows the object before and after the patch
        await pilot.press("tab")
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        diff = app.clipboard_service.last_text
        assert "privileged: true" in diff and "+" in diff and "privileged: false" in diff

        for expected_screen in (WorkloadScreen, NamespaceScreen, OverviewScreen):
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, expected_screen)
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
        every = len(app.index.workloads)
        assert isinstance(screen, NamespaceScreen) and len(screen.table.rows) == every
        await pilot.press("slash", "l", "d", "g")  # fuzzy: l..d..g matches "ledger"
        await pilot.pause()
        assert [r.name for r in screen.table.rows] == ["ledger"]
        assert f"1 of {every}" in screen_text(app)
        await pilot.press("enter", "escape")
        await pilot.pause()
        assert isinstance(app.screen, NamespaceScreen) and len(screen.table.rows) == every
        await pilot.press("s")  # sort by name
        await pilot.pause()
        names = [r.name for r in screen.table.rows]
        assert names == sorted(names) and {"cart", "debug-shell", "ledger", "web"} <= set(names)


@run_async
async def test_jump_to_rules_browser_and_by_rule_view() -> None:
    app = demo_app()
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_scanned(pilot, app)
        await pilot.press("colon", *"rules", "enter")
        await pilot.pause()
        assert isinstance(app.screen, RulesScreen)
        assert len(app.screen.table.rows) == len(app.ruleset().rules)
        await pilot.press("slash", *"privileged")
        await pilot.pause()
        assert app.screen.table.current.id == "K8S-PRIVILEGED"
        text = screen_text(app)
        assert "Why it matters" in text and "K8S-PRIVILEGED" in text
        await pilot.press("enter")  # leaves the search box
        await pilot.press("enter")  # opens the rule's findings
        await pilot.pause()
        findings = app.index.rules["K8S-PRIVILEGED"].findings
        text = screen_text(app)
        assert "rule K8S-PRIVILEGED" in text
        for f in findings:
            assert f"{f.kind}/{f.namespace}/{f.name}" in text
        await pilot.press("c")
        expected = [f.remediation.kubectl for f in findings if f.remediation.kubectl]
        assert app.clipboard_service.last_text.splitlines() == expected
        assert len(expected) < len(findings)  # the bare Pod gets guidance, not a command


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
        intruder = {f.fingerprint for f in app.scanned.result.findings
                    if f.name == "intruder" and f.status is Status.fail}
        assert intruder and app.index.new == intruder
        assert app.scanned.result.summary.total == before + len(intruder)
        assert f"+{len(intruder)} new" in screen_text(app)


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


@run_async
async def test_cursor_stays_on_its_row_across_a_rescan() -> None:
    app = fixture_app()
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_scanned(pilot, app)
        await pilot.press("enter")
        await pilot.pause()
        await move_to(pilot, app.screen.table, lambda row: row.name == "web")
        before = app.screen.table.cursor
        await pilot.press("r")
        await wait_scanned(pilot, app)
        assert app.screen.table.current.name == "web" and app.screen.table.cursor == before
