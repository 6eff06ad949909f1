"""Start-up choices: the context picker with a kubeconfig, the welcome screen without one."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from kspm_tui.target import Target
from kspm_tui.tui.app import KspmApp
from kspm_tui.tui.screens.contexts import ContextsScreen
from kspm_tui.tui.screens.fleet import FleetScreen
from kspm_tui.tui.screens.modals import ErrorScreen
from kspm_tui.tui.screens.overview import OverviewScreen
from kspm_tui.tui.screens.welcome import WelcomeScreen
from tests.tui_helpers import (
    FIXTURE_CLUSTER,
    run_async,
    screen_text,
    wait_for,
    wait_scanned,
    write_kubeconfig,
)


@pytest.fixture
def kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = write_kubeconfig(tmp_path / "kubeconfig")
    monkeypatch.setenv("KUBECONFIG", str(path))
    return path


@run_async
async def test_context_picker_lists_contexts_and_scans_the_chosen_one(kubeconfig: Path) -> None:
    app = KspmApp()
    async with app.run_test(size=(130, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ContextsScreen)
        text = screen_text(app)
        assert "prod-eu" in text and "https://127.0.0.1:1" in text and "eu-staging" in text
        assert "user" in text and "ops" in text  # the user column
        current = [r for r in app.screen.table.rows if r.current]
        assert [r.name for r in current] == ["staging"]
        assert app.screen.table.current.name == "staging"  # current context first
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorScreen))
        assert app.target == Target("context", context="prod-eu")
        assert "Cannot scan prod-eu" in screen_text(app)
        await pilot.press("escape")  # the error's dismissal goes back to the picker, not an empty overview
        await pilot.pause()
        assert isinstance(app.screen, ContextsScreen)
        assert "prod-eu" in screen_text(app) and app.target is None
        await pilot.press("escape")  # and Esc there stays on the picker
        await pilot.pause()
        assert isinstance(app.screen, ContextsScreen)


@run_async
async def test_ctx_jump_switches_from_a_scan_to_another_context(kubeconfig: Path) -> None:
    app = KspmApp(Target("paths", paths=(str(FIXTURE_CLUSTER),)))
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_scanned(pilot, app)
        await pilot.press("colon", "c", "t", "x", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ContextsScreen)
        assert "contexts" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, OverviewScreen) and app.index is not None


@run_async
async def test_welcome_without_kubeconfig_opens_a_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    monkeypatch.setenv("HOME", str(tmp_path))
    app = KspmApp()
    async with app.run_test(size=(130, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, WelcomeScreen)
        text = screen_text(app)
        assert "No kubeconfig contexts were found" in text and "demo cluster" in text
        # A typed path is text, not markup: `[/x]` is said missing (it raised MarkupError before).
        app.screen.query_one("#path", Input).value = "/no/such/[/x]"
        await pilot.press("f", "enter")
        await wait_for(pilot, lambda: "/no/such/[/x] does not exist" in screen_text(app))
        app.screen.query_one("#path", Input).value = ""  # the field keeps the focus
        for ch in str(FIXTURE_CLUSTER):
            await pilot.press(ch if ch != "/" else "slash")
        await pilot.press("enter")
        await wait_scanned(pilot, app)
        assert isinstance(app.screen, OverviewScreen)
        assert "payments" in screen_text(app)


@run_async
async def test_all_contexts_overview_scans_each_and_reports_failures(kubeconfig: Path) -> None:
    app = KspmApp()
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen))
        screen = app.screen
        await wait_for(pilot, lambda: all(r.status not in ("waiting", "reading") for r in screen.fleet))
        assert {r.context for r in screen.fleet} == {"prod-eu", "staging"}
        text = screen_text(app)
        for row in screen.fleet:  # nothing listens on these servers: each row says why
            assert row.status == "unreachable" and row.reason
            assert row.reason[:30] in text


@run_async
async def test_switching_target_while_scanning_scans_the_new_one() -> None:
    app = KspmApp(Target("demo"))
    async with app.run_test(size=(130, 40)) as pilot:
        assert app.scanning  # the demo scan started on mount and is still running
        app.open_target(Target("paths", paths=(str(FIXTURE_CLUSTER),)))
        await wait_scanned(pilot, app)
        assert app.scanned.target == Target("paths", paths=(str(FIXTURE_CLUSTER),))
        assert "payments" in screen_text(app)


@run_async
async def test_broken_kubeconfig_is_named_on_the_welcome_screen(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "kubeconfig"
    broken.write_text("apiVersion: v1\nkind: Config\ncontexts: [unclosed\n")
    monkeypatch.setenv("KUBECONFIG", str(broken))
    app = KspmApp()
    async with app.run_test(size=(130, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, WelcomeScreen)
        problems = [n.message for n in app._notifications if n.title == "Cannot read the kubeconfig"]
        assert len(problems) == 1 and str(broken) in problems[0]
