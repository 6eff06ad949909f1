"""The explorer shows how safe a fix is next to the copy action, and a workload's fix plan."""

from __future__ import annotations

from kspm_tui.model import Safety
from kspm_tui.target import Target
from kspm_tui.tui.app import KspmApp
from kspm_tui.tui.screens.finding import FindingScreen
from kspm_tui.tui.screens.fix_plan import FixPlanScreen
from kspm_tui.tui.screens.workload import WorkloadScreen
from tests.tui_helpers import run_async, screen_text, wait_scanned


@run_async
async def test_workload_fix_plan_is_one_copyable_command_with_review_items() -> None:
    app = KspmApp(Target("demo"))
    async with app.run_test(size=(140, 50)) as pilot:
        await wait_scanned(pilot, app)
        # catalog's allowPrivilegeEscalation fix now also drops ALL capabilities (it covers
        # K8S-SECURITY-CONTEXT-MISSING): review, leaving one safe fix; pgadmin has several.
        key = ("Deployment", "data", "pgadmin")
        app.push_screen(WorkloadScreen(key))
        await pilot.pause()
        await pilot.press("f")
        await pilot.pause()
        assert isinstance(app.screen, FixPlanScreen)
        plan = app.screen.plan
        assert plan is not None and plan.kubectl and len(plan.applied) >= 2
        text = screen_text(app)
        assert "safe fixes in one patch" in text and "cost: rolling restart" in text
        assert "Review before applying" in text and "K8S-READONLY-ROOT-FILESYSTEM" in text
        assert "(planned)" in text  # the before/after diff
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard_service.last_text == plan.kubectl
        assert any("fix plan for Deployment data/pgadmin" in n.message for n in app._notifications)


@run_async
async def test_finding_shows_its_verdict_and_cost_next_to_the_fix() -> None:
    app = KspmApp(Target("demo"))
    async with app.run_test(size=(140, 50)) as pilot:
        await wait_scanned(pilot, app)
        finding = next(f for f in app.scanned.result.findings
                       if f.rule == "K8S-SECCOMP-REQUIRED" and f.kind == "Deployment"
                       and f.remediation.safety is Safety.safe)
        app.push_screen(FindingScreen(finding))
        await pilot.pause()
        text = screen_text(app)
        assert "Fix is  SAFE" in text and "cost: rolling restart" in text
        assert finding.remediation.safety_reason[:40] in text
