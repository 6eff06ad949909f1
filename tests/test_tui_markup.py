"""Text in the explorer is text: brackets from a cluster, a file or the operator's typing are
shown as they are, never parsed as Textual markup.

Markup would do three things to us: a rule id in brackets (`[K8S-X]`) vanishes as an unknown
style; `[@click=app.quit]` in an API server's error message becomes an action link in a
notification; and a typed `[/x]` (a path, a date) raises MarkupError out of the handler (the
welcome screen's path: `tests/test_tui_contexts.py`).
"""

from __future__ import annotations

from textual.widgets import Input

from kspm_tui.model import Severity
from kspm_tui.target import Target
from kspm_tui.tui.app import KspmApp
from kspm_tui.tui.screens.accept import AcceptScreen
from tests.test_tui_accept_guard import open_accept
from tests.tui_helpers import run_async, screen_text, wait_for, wait_scanned

HOSTILE = "the watch of pods failed (500: [K8S-X] [@click=app.quit]retry[/] [/x])"


@run_async
async def test_a_notification_shows_brackets_as_they_are() -> None:
    app = KspmApp(Target("demo"))
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await wait_scanned(pilot, app)
        app.notify(HOSTILE, title="Watch")
        await wait_for(pilot, lambda: bool(app.screen.query("Toast")))
        [toast] = app.screen.query("Toast")
        shown = toast.render()
        assert shown.plain == f"Watch\n{HOSTILE}"
        assert not [span for span in shown.spans if "click" in str(span.style)]


@run_async
async def test_a_typed_expiry_with_brackets_is_said_not_parsed() -> None:
    app = KspmApp(Target("demo"))
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_scanned(pilot, app)
        await open_accept(pilot, app, Severity.critical)
        app.screen.query_one("#reason", Input).value = "break-glass"
        app.screen.query_one("#expires", Input).value = "[/x]"
        app.screen.submit()
        await wait_for(pilot, lambda: "'[/x]' is not a date" in screen_text(app))
        assert isinstance(app.screen, AcceptScreen)


@run_async
async def test_a_filter_with_brackets_is_shown_as_typed() -> None:
    app = KspmApp(Target("demo"))
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_scanned(pilot, app)
        await pilot.press("slash")
        for ch in "[b]x":
            await pilot.press({"[": "left_square_bracket", "]": "right_square_bracket"}.get(ch, ch))
        await wait_for(pilot, lambda: "filter: '[b]x'" in screen_text(app))
