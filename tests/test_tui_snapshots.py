"""How the main screens look, in the default dark theme and the light one (SVG snapshots).

Update after an intended change with `pytest tests/test_tui_snapshots.py --snapshot-update`
and review the SVGs in `tests/__snapshots__/`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.pilot import Pilot

from kspm_tui.target import Target
from kspm_tui.tui.app import KspmApp
from kspm_tui.tui.messages import ScanCompleted
from tests.tui_helpers import wait_for, wait_scanned

ROOT = Path(__file__).resolve().parent.parent
SIZE = (130, 38)
THEMES = ("kspm-dark", "kspm-light")

# keys from the overview to each screen
SCREENS = {
    "overview": [],
    "workloads": ["enter"],
    "workload": ["enter", "enter"],
    "finding": ["enter", "enter", "enter"],
    "rules": ["colon", "r", "u", "l", "e", "s", "enter"],
    "paths": ["colon", "p", "a", "t", "h", "s", "enter"],
    "rbac": ["colon", "r", "b", "a", "c", "enter"],
}


def make_app(theme: str) -> KspmApp:
    return KspmApp(Target("demo"), theme=theme)


async def settle(pilot: Pilot, keys: list[str]) -> None:
    """Finish the scan, pin its clock (so the snapshot does not change each run), walk to a screen."""
    app: KspmApp = pilot.app  # type: ignore[assignment]
    await wait_scanned(pilot, app)
    assert app.scanned is not None
    app.scanned.result.duration_s = 0.12
    app.scanned.finished = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    app.broadcast(ScanCompleted(app.scanned))
    await pilot.pause()
    for key in keys:
        await pilot.press(key)
        await pilot.pause()
    # graph screens fill in when their worker has built the RBAC graph
    await wait_for(pilot, lambda: getattr(app.screen, "analysis", True) is not None)


@pytest.fixture(autouse=True)
def at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("TZ", "UTC")


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen_snapshot(snap_compare, screen: str, theme: str) -> None:  # type: ignore[no-untyped-def]
    keys = SCREENS[screen]
    assert snap_compare(make_app(theme), terminal_size=SIZE,
                        run_before=lambda pilot: settle(pilot, keys))
