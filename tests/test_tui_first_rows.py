"""The explorer lists namespace rows while a folder is still being read, marked pending, and
replaces them with the judged result when the scan completes.

Deterministic, no timing: the scan service's partial-results hook is wrapped so that, after the
app has handed the first file's rows to the screen, the scan waits until the test has seen them
(and checked what is pending) before it reads the next file and judges the whole snapshot.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from kspm_tui import scan
from kspm_tui.target import Target
from kspm_tui.tui.app import KspmApp
from kspm_tui.tui.screens.overview import OverviewScreen
from tests.tui_helpers import run_async, screen_text, wait_for, wait_scanned

ROOT = Path(__file__).resolve().parent.parent
FOLDER = Path("tests/fixtures/tui/first-rows")  # alpha, beta, gamma: a namespace per file, read in that order


class Gate:
    """Holds the scan after the first file's rows are on their way to the screen."""

    def __init__(self) -> None:
        self.first_shown = threading.Event()
        self.release = threading.Event()

    def wrap(self, real: Any) -> Any:
        def run_scan(target: Target, settings: Any, **kwargs: Any) -> Any:
            on_partial = kwargs.get("on_partial")
            if on_partial is not None:
                def held(part: scan.Partial) -> None:
                    on_partial(part)  # the app's own hook: the rows go to the screen
                    if part.files_done == 1:
                        self.first_shown.set()
                        self.release.wait(timeout=120)
                kwargs["on_partial"] = held
            return real(target, settings, **kwargs)
        return run_scan


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    monkeypatch.chdir(ROOT)
    gate = Gate()
    monkeypatch.setattr(scan, "run_scan", gate.wrap(scan.run_scan))
    yield gate
    gate.release.set()  # a scan still held when the app closed finishes (unseen) and its thread ends


def _names(app: KspmApp) -> list[str]:
    return [row.name for row in app.screen.table.rows]


@run_async
async def test_rows_appear_before_the_scan_completes_then_the_result_replaces_them(gate: Gate) -> None:
    app = KspmApp(Target("paths", paths=(str(FOLDER),)))
    async with app.run_test(size=(130, 40)) as pilot:
        try:
            await wait_for(pilot, gate.first_shown.is_set)
            await wait_for(pilot, lambda: "alpha" in _names(app))
            # The scan is still running: nothing judged yet, the first file's namespace listed.
            assert app.scanning and app.scanned is None and app.index is None
            assert isinstance(app.screen, OverviewScreen)
            assert _names(app) == ["(all namespaces)", "alpha"]
            alpha = next(row for row in app.screen.table.rows if row.name == "alpha")
            assert alpha.workloads == 1 and alpha.counts.total > 0  # the privileged container, at least
            text = screen_text(app)
            assert "Score pending" in text and "read 1 of 3 files" in text
            assert "Posture score" not in text
            assert "provisional" in text and "attack paths" in text
            assert "Reading files… 1/3" in text

            # Enter on a provisional row says why it does not open yet.
            await pilot.press("down", "enter")
            await pilot.pause()
            assert isinstance(app.screen, OverviewScreen)
            assert any("opens once the scan completes" in n.message for n in app._notifications)
        finally:
            gate.release.set()

        await wait_scanned(pilot, app)
        text = screen_text(app)
        assert "Posture score" in text and "pending" not in text and "provisional" not in text
        assert {"alpha", "beta", "gamma"} <= set(_names(app))
        # The rows are now the judged result's, object rules (the LoadBalancer Services) included.
        final = app.index.namespaces["alpha"]
        shown = next(row for row in app.screen.table.rows if row.name == "alpha")
        assert shown is final and final.counts.total > alpha.counts.total


@run_async
async def test_a_rescan_keeps_the_last_result_on_screen(gate: Gate) -> None:
    app = KspmApp(Target("paths", paths=(str(FOLDER),)))
    gate.release.set()  # the first scan streams and is not held
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_scanned(pilot, app)
        first = app.scanned
        gate.first_shown.clear()
        await pilot.press("r")
        await wait_for(pilot, lambda: app.scanned is not first and not app.scanning)
        assert not gate.first_shown.is_set()  # no provisional rows over a judged result
        assert app.pending is None and "Posture score" in screen_text(app)


@pytest.mark.parametrize("theme", ["kspm-dark", "kspm-light"])
def test_pending_overview_snapshot(snap_compare, gate: Gate,  # type: ignore[no-untyped-def]
                                   theme: str) -> None:
    """How the provisional rows and what is pending look, held after the first file."""
    async def first_rows(pilot: Pilot) -> None:
        app: KspmApp = pilot.app  # type: ignore[assignment]
        await wait_for(pilot, gate.first_shown.is_set)
        await wait_for(pilot, lambda: "alpha" in _names(app))

    app = KspmApp(Target("paths", paths=(str(FOLDER),)), theme=theme)
    exit_app = app.exit

    def exit_and_release(*args: Any, **kwargs: Any) -> None:  # after the screenshot: let the held scan go
        gate.release.set()
        exit_app(*args, **kwargs)

    app.exit = exit_and_release  # type: ignore[method-assign]
    assert snap_compare(app, terminal_size=(130, 30), run_before=first_rows)
