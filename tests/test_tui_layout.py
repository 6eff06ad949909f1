"""The explorer at 80×24 and counts that add up: what a user sees on a small terminal."""

from __future__ import annotations

import re

from kspm_tui.target import Target
from kspm_tui.tui.app import KspmApp
from kspm_tui.tui.screens.namespace import NamespaceScreen
from tests.tui_helpers import run_async, screen_text, wait_for, wait_scanned

# name (and any leading columns), five severity counts, total, optional `+N new`
COUNT_ROW = re.compile(r"^(?P<name>\S.*?)((?:\s+(?:\d+|·)){5})\s+(?P<total>\d+)(\s+\+\d+)?$")


def count_rows(text: str) -> list[tuple[str, list[int], int]]:
    """(name, per-severity counts, total) of every table row showing counts."""
    rows = []
    for line in text.splitlines():
        if m := COUNT_ROW.match(line.strip()):
            parts = [0 if p == "·" else int(p) for p in m.group(2).split()]
            rows.append((m.group("name").split("  ")[0], parts, int(m.group("total"))))
    return rows


@run_async
async def test_overview_at_80x24_shows_namespaces_and_the_top_attack_path() -> None:
    app = KspmApp(Target("demo"))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_scanned(pilot, app)
        text = screen_text(app)
        rows = count_rows(text)
        assert len([r for r in rows if not r[0].startswith("(")]) >= 5, text
        assert "StatefulSet/ci/jenkins → cluster-admin" in text
        assert "Posture score 20/100" in text and "capped" in text


@run_async
async def test_every_visible_total_is_the_sum_of_its_parts() -> None:
    app = KspmApp(Target("demo"))
    async with app.run_test(size=(200, 50)) as pilot:
        await wait_scanned(pilot, app)
        summary = app.scanned.result.summary
        text = screen_text(app)
        shown = re.search(r"(\d+) critical\s+(\d+) high\s+(\d+) medium\s+(\d+) low\s+(\d+) info\s+= (\d+) failing", text)
        assert shown, text
        *parts, total = map(int, shown.groups())
        assert sum(parts) == total == summary.total
        rows = count_rows(text)
        assert rows and all(sum(parts) == total for _, parts, total in rows), rows
        everything = next(r for r in rows if r[0] == "(all namespaces)")
        assert everything[2] == summary.total
        # The system-namespace group (hidden in a cluster dump like the demo) is the one row not in
        # the totals, and the screen says so; its own counts are the ones --fail-on adds.
        excluded = app.scanned.result.excluded
        group = [r for r in rows if r[0].startswith("system ns (")]
        assert [(parts, total) for _, parts, total in group] == [
            ([excluded.by_severity.get(s, 0) for s in ("critical", "high", "medium", "low", "info")],
             excluded.findings)]
        assert "system ns: not in totals, counted by --fail-on" in text
        assert sum(r[2] for r in rows if r[0] != "(all namespaces)" and r not in group) == summary.total

        await pilot.press("enter")  # every workload, with its counts
        await wait_for(pilot, lambda: isinstance(app.screen, NamespaceScreen))
        rows = count_rows(screen_text(app))
        assert rows and all(sum(parts) == total for _, parts, total in rows), rows


@run_async
async def test_identifiers_are_whole_while_messages_have_room() -> None:
    app = KspmApp(Target("demo"))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_scanned(pilot, app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, NamespaceScreen))
        text = screen_text(app)
        assert "ServiceAccount " in text and "ClusterRoleBinding " in text and "Servic…" not in text
        await pilot.press("colon", *"rules", "enter")
        await pilot.pause()
        text = screen_text(app)
        shown = [r.id for r in app.screen.table.rows[:20]]
        assert all(rule in text for rule in shown), text


@run_async
async def test_at_80_columns_a_long_identifier_loses_its_middle_and_the_breadcrumb_its_middle_crumbs() -> None:
    app = KspmApp(Target("demo"))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_scanned(pilot, app)
        for key in ("enter", "enter", "enter"):  # all workloads → the worst workload → its worst finding
            await pilot.press(key)
            await pilot.pause()
        head = screen_text(app).splitlines()[0]
        assert head.startswith(" kspm-tui  › demo › … › ") and head.rstrip().endswith(
            app.scanned.finished.astimezone().strftime("%H:%M:%S")), head
    app = KspmApp(Target("demo"))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_scanned(pilot, app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, NamespaceScreen))
        text = screen_text(app)
        assert "docker…q8n4x" in text  # both ends of docker-build-7h2kd-q8n4x stay
