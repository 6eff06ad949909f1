"""Keys as data: the palette lists every action, users remap keys, watch toggles, crashes are friendly."""

from __future__ import annotations

import pytest

from kspm_tui.locations import config_dir, data_dir
from kspm_tui.target import Target
from kspm_tui.tui import keymap
from kspm_tui.tui.app import KspmApp
from kspm_tui.tui.commands import KspmCommands
from kspm_tui.tui.jumps import JUMPS
from kspm_tui.tui.screens.rules import RulesScreen
from tests.tui_helpers import FIXTURE_CLUSTER, run_async, screen_text, wait_for, wait_scanned


def fixture_app() -> KspmApp:
    return KspmApp(Target("paths", paths=(str(FIXTURE_CLUSTER),)))


@run_async
async def test_palette_lists_every_action_and_jump() -> None:
    app = fixture_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_scanned(pilot, app)
        # on the overview, the app's keys and the table keys apply
        labels = [label for label, _, _ in KspmCommands(app.screen, None).entries()]
        for key in keymap.APP_KEYS + keymap.TABLE_KEYS:
            if key.palette:
                assert any(label.startswith(key.description) for label in labels), key.id
        assert not any(label.startswith("Demo cluster") for label in labels)  # welcome-only key
        for jump in JUMPS:
            assert f"Go to :{jump.name}" in labels
        assert "Theme: kspm-high-contrast" in labels
        await pilot.press("ctrl+p")
        await pilot.pause()
        for ch in "rules browser":
            await pilot.press(ch if ch != " " else "space")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RulesScreen))


@run_async
async def test_user_keymap_remaps_a_binding() -> None:
    config_dir().mkdir(parents=True, exist_ok=True)
    (config_dir() / "keymap.yaml").write_text("kspm.rescan: f5\nkspm.nope: x\n")
    app = fixture_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_scanned(pilot, app)
        first = app.scanned
        assert any("unknown binding ids kspm.nope" in n.message for n in app._notifications)
        await pilot.press("f5")
        await wait_scanned(pilot, app)
        assert app.scanned is not first
        assert "f5" in screen_text(app)  # the footer shows the remapped key


@run_async
async def test_watch_toggle_shows_in_the_header() -> None:
    app = fixture_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_scanned(pilot, app)
        await pilot.press("w")
        await pilot.pause()
        assert app.watching and "● watching" in screen_text(app)
        await pilot.press("w")
        await pilot.pause()
        assert not app.watching and "● watching" not in screen_text(app)


def test_unexpected_error_is_one_sentence_and_a_crash_log() -> None:
    import asyncio

    async def scenario() -> None:
        app = fixture_app()
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_scanned(pilot, app)
            app.call_later(lambda: 1 / 0)
            await pilot.pause(0.2)

    with pytest.raises(ZeroDivisionError):
        asyncio.run(scenario())
    reports = sorted((data_dir() / "crashes").glob("crash-*.txt"))
    assert len(reports) == 1
    log = reports[0].read_text()
    assert "ZeroDivisionError" in log and "Traceback" in log
