"""Accepting risk has guard rails: critical and high findings need an expiry (offered as a real
date), every entry names its owner and records when it was made."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import Input

from kspm_tui.model import Severity, Status
from kspm_tui.target import Target
from kspm_tui.triage.acceptance import today_utc, user_exceptions_path
from kspm_tui.tui.app import KspmApp
from kspm_tui.tui.screens.accept import AcceptScreen
from kspm_tui.tui.screens.finding import FindingScreen
from kspm_tui.yamlio import load_yaml
from tests.test_tui_triage import type_text
from tests.tui_helpers import run_async, screen_text, wait_for, wait_scanned


async def open_accept(pilot, app: KspmApp, severity: Severity) -> None:  # type: ignore[no-untyped-def]
    finding = next(f for f in app.scanned.result.findings
                   if f.severity is severity and f.status is Status.fail)
    app.push_screen(FindingScreen(finding))
    await pilot.pause()
    await pilot.press("a")
    await wait_for(pilot, lambda: isinstance(app.screen, AcceptScreen))


@run_async
async def test_a_critical_finding_cannot_be_accepted_forever() -> None:
    app = KspmApp(Target("demo"))
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_scanned(pilot, app)
        await open_accept(pilot, app, Severity.critical)
        expires = app.screen.query_one("#expires", Input)
        default = (today_utc() + timedelta(days=30)).isoformat()
        assert expires.value == default  # a value, not a placeholder
        text = screen_text(app)
        assert "required for a critical finding" in text and default in text
        assert app.screen.query_one("#owner", Input).value  # who: offered, visible

        await type_text(pilot, "break-glass during migration")
        expires.value = ""
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, AcceptScreen)
        assert "cannot be accepted forever" in screen_text(app)

        expires.value = default
        app.screen.query_one("#owner", Input).value = ""
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, AcceptScreen) and "An owner is required" in screen_text(app)

        app.screen.query_one("#owner", Input).value = "team-platform"
        app.screen.submit()
        await wait_for(pilot, lambda: isinstance(app.screen, FindingScreen))
    [entry] = load_yaml(user_exceptions_path().read_text())["exceptions"]
    assert entry["owner"] == "team-platform"
    assert entry["created"] == today_utc().isoformat() and entry["expires"] == default


@run_async
async def test_a_medium_finding_may_be_accepted_without_expiry() -> None:
    app = KspmApp(Target("demo"))
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_scanned(pilot, app)
        await open_accept(pilot, app, Severity.medium)
        assert "Expires (YYYY-MM-DD, empty for never)" in screen_text(app)
        await type_text(pilot, "accepted for now")
        app.screen.query_one("#expires", Input).value = ""
        app.screen.submit()
        await wait_for(pilot, lambda: isinstance(app.screen, FindingScreen))
    [entry] = load_yaml(user_exceptions_path().read_text())["exceptions"]
    assert "expires" not in entry or entry["expires"] is None
    assert entry["owner"] and entry["created"]
