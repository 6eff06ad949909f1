"""The explorer's live watch under faults: outages in the header, a revoked token ends the watch
with the last results kept and marked stale; events go to a callback, nothing queues up."""

from __future__ import annotations

from kspm_tui.target import Target
from kspm_tui.tui.app import KspmApp
from tests.apiserver.server import ApiServer
from tests.tui_helpers import run_async, screen_text, wait_for, wait_scanned


def said(app: KspmApp, text: str) -> bool:
    return any(text in n.message for n in app._notifications)


@run_async
async def test_outage_shown_then_a_revoked_token_leaves_stale_results(live_demo: ApiServer) -> None:
    app = KspmApp(Target("context", context="demo-live"))
    async with app.run_test(size=(150, 40)) as pilot:
        await wait_scanned(pilot, app)
        await pilot.press("w")
        await wait_for(pilot, lambda: app.live_watch.service is not None, timeout=60)
        service = app.live_watch.service
        assert service._events is None  # finding events go to the explorer's callback: no queue to fill
        await wait_for(pilot, lambda: sum(1 for e in live_demo.log if e.query.get("watch"))
                       >= len(service.initial.resources), timeout=60)

        live_demo.dead = True  # an outage: every watch is cut and reconnects fail
        await wait_for(pilot, lambda: "API server lost" in screen_text(app), timeout=60)
        assert said(app, "lost the API server")
        live_demo.dead = False
        await wait_for(pilot, lambda: said(app, "answers again"), timeout=60)
        await wait_for(pilot, lambda: "API server lost" not in screen_text(app))
        assert app.watching and "● watching" in screen_text(app)

        shown = app.scanned.result.findings
        live_demo.token = "revoked"  # credentials expire: every request answers 401
        live_demo.store.compact()  # so the open watches reconnect and meet it
        await wait_for(pilot, lambda: "stale since" in screen_text(app), timeout=60)
        assert not app.watching and app.live_watch.service is None
        assert said(app, "rejected the credentials (401 Unauthorized)")
        assert [f.fingerprint for f in app.scanned.result.findings] == [f.fingerprint for f in shown]
        assert "● watching" not in screen_text(app)
