"""Helpers for driving the explorer with Textual's Pilot like a user would."""

from __future__ import annotations

import re
from pathlib import Path

from textual.pilot import Pilot

from kspm_tui.tui.app import KspmApp
from kspm_tui.yamlio import dump_yaml

CELL_WIDTH = 12.2  # px per terminal cell in Textual's SVG export
FIXTURE_CLUSTER = Path(__file__).resolve().parent / "fixtures" / "tui" / "cluster"


async def wait_scanned(pilot: Pilot, app: KspmApp, timeout: float = 30.0) -> None:
    """Wait until the running scan has finished and the screens have refreshed."""
    from kspm_tui.tui.screens.modals import ErrorScreen

    waited = 0.0
    while app.scanning or app.index is None:
        if isinstance(app.screen, ErrorScreen):
            raise AssertionError(f"scan failed: {app.screen.message}")
        await pilot.pause(0.05)
        waited += 0.05
        if waited > timeout:
            raise AssertionError("scan did not finish")
    await pilot.pause()


def screen_text(app: KspmApp) -> str:
    """Everything visible on screen as plain text (from the same SVG a screenshot would be)."""
    import html

    svg = app.export_screenshot()
    lines: dict[float, list[tuple[float, str]]] = {}
    for x, y, chunk in re.findall(r'<text[^>]* x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', svg):
        lines.setdefault(float(y), []).append((float(x), html.unescape(chunk).replace("\xa0", " ")))
    rows = []
    for _, parts in sorted(lines.items()):
        row = ""
        for x, chunk in sorted(parts):
            row = row.ljust(round(x / CELL_WIDTH)) + chunk
        rows.append(row.rstrip())
    return "\n".join(rows)


def run_async(fn):  # type: ignore[no-untyped-def]
    """Run an async Pilot scenario as a plain pytest test (no asyncio plugin needed)."""
    import asyncio
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        return asyncio.run(fn(*args, **kwargs))

    return wrapper


async def wait_for(pilot: Pilot, predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    waited = 0.0
    while not predicate():
        await pilot.pause(0.05)
        waited += 0.05
        if waited > timeout:
            raise AssertionError("condition not reached in time")
    await pilot.pause()


async def start_watch(pilot: Pilot, app: KspmApp) -> None:
    """Press `w` on a scanned live context and wait until the watch's own index is on screen
    (built whole from its first evaluation; later batches are applied to it as deltas)."""
    await pilot.press("w")
    await wait_for(pilot, lambda: app.live_watch._index is not None and app.index is app.live_watch._index,
                   timeout=60)


async def move_to(pilot: Pilot, table, predicate, limit: int = 500) -> None:  # type: ignore[no-untyped-def]
    """Press ↓ (as a user would) until the highlighted row satisfies `predicate`."""
    for _ in range(limit):
        if table.current is not None and predicate(table.current):
            return
        await pilot.press("down")
    raise AssertionError("row not found in the table")


def write_kubeconfig(path: Path) -> Path:
    """Two contexts whose servers point nowhere (nothing listens on port 1)."""
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "staging",
        "clusters": [{"name": "eu-prod", "cluster": {"server": "https://127.0.0.1:1"}},
                     {"name": "eu-staging", "cluster": {"server": "https://127.0.0.1:2"}}],
        "users": [{"name": "ops", "user": {"token": "not-a-real-token"}}],
        "contexts": [{"name": "prod-eu", "context": {"cluster": "eu-prod", "user": "ops", "namespace": "shop"}},
                     {"name": "staging", "context": {"cluster": "eu-staging", "user": "ops"}}],
    }
    path.write_text(dump_yaml(config))
    return path
