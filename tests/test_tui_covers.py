"""The explorer's finding screen says what else a finding covers (rules it `supersedes`)."""

from __future__ import annotations

from kspm_tui.target import Target
from kspm_tui.tui.app import KspmApp
from kspm_tui.tui.screens.finding import FindingScreen
from kspm_tui.tui.screens.workload import WorkloadScreen
from tests.tui_helpers import move_to, run_async, screen_text, wait_scanned


@run_async
async def test_privileged_finding_screen_says_also_covers() -> None:
    app = KspmApp(Target("demo"))
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_scanned(pilot, app)
        await move_to(pilot, app.screen.table, lambda row: row.name == "ci")
        await pilot.press("enter")
        await pilot.pause()
        await move_to(pilot, app.screen.table, lambda row: row.name == "sonarqube")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, WorkloadScreen)
        rules = {(getattr(r, "rule", None), getattr(r, "container", None)) for r in app.screen.table.rows}
        assert ("K8S-PRIVILEGED", "init-sysctl") in rules
        assert ("K8S-ALLOW-PRIVILEGE-ESCALATION", "init-sysctl") not in rules  # covered, not listed twice
        await move_to(pilot, app.screen.table, lambda row: getattr(row, "rule", None) == "K8S-PRIVILEGED")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, FindingScreen)
        text = screen_text(app)
        assert "Also covers K8S-ALLOW-PRIVILEGE-ESCALATION, K8S-CAPABILITIES-DROP-ALL" in text
