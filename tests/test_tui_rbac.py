"""RBAC and attack paths in the explorer, driven on the demo cluster."""

from __future__ import annotations

from kspm_tui.graph.paths import Cut, PathEdge
from kspm_tui.graph.rbac import Request, Subject
from kspm_tui.target import Target
from kspm_tui.tui.app import KspmApp
from kspm_tui.tui.screens.paths import PathsScreen
from kspm_tui.tui.screens.rbac import RbacScreen, SubjectScreen, WhoCanScreen
from kspm_tui.tui.screens.workload import WorkloadScreen
from tests.tui_helpers import run_async, screen_text, wait_for, wait_scanned


async def tree_to(pilot, tree, predicate, limit: int = 200) -> None:  # type: ignore[no-untyped-def]
    for _ in range(limit):
        node = tree.cursor_node
        if node is not None and predicate(node.data):
            return
        await pilot.press("down")
    raise AssertionError("tree node not found")


@run_async
async def test_attack_paths_tree_open_an_edge_and_copy_the_cut() -> None:
    app = KspmApp(Target("demo"))
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_scanned(pilot, app)
        assert "Top attack paths" in screen_text(app)
        await pilot.press("colon", *"paths", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PathsScreen) and app.screen.analysis is not None)
        screen = app.screen
        expected = [p for p in screen.analysis.attack_paths()
                    if p.source.namespace not in screen.analysis.system_namespaces]
        assert expected and [p.id for p in screen.paths] == [p.id for p in expected]
        first = expected[0]
        text = screen_text(app)
        assert f"{len(expected)} attack paths from the internet" in text
        assert f"{first.source} → {first.target_label}" in text
        for edge in first.edges:  # the first path is unfolded: every edge with its evidence
            assert f"─{edge.relation}→" in text and edge.evidence[:40] in text

        tree = screen.query_one("Tree")
        sa_edge = next(e for e in first.edges if e.object and e.object.kind == "ServiceAccount")
        await tree_to(pilot, tree, lambda d: d is sa_edge)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SubjectScreen) and app.screen.analysis is not None)
        subject = Subject("ServiceAccount", sa_edge.object.name, sa_edge.object.namespace)
        assert app.screen.subject == subject
        assert len(app.screen.table.rows) == len(app.screen.analysis.rbac.effective(subject))
        assert str(subject) in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, PathsScreen)

        workload_edge = next(e for e in first.edges if e.object and (e.object.kind, e.object.namespace,
                                                                    e.object.name) in app.index.workloads)
        await pilot.press("home")
        await tree_to(pilot, tree, lambda d: d is workload_edge)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, WorkloadScreen))
        await pilot.press("escape")
        await pilot.pause()

        assert first.cut is not None and first.cut.kubectl
        await tree_to(pilot, tree, lambda d: isinstance(d, Cut) and d is first.cut)
        await pilot.press("c")
        assert app.clipboard_service.last_text == first.cut.kubectl

        await pilot.press("t")  # paths from inside the cluster too
        await pilot.pause()
        assert len(screen.paths) >= len(expected)
        assert "from the internet and from inside the cluster" in screen_text(app)
        assert all(isinstance(e, PathEdge) for p in screen.paths for e in p.edges)


@run_async
async def test_rbac_subjects_filter_open_and_who_can() -> None:
    app = KspmApp(Target("demo"))
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_scanned(pilot, app)
        await pilot.press("colon", *"rbac", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RbacScreen) and app.screen.analysis is not None)
        screen = app.screen
        assert screen.table.rows, "the demo has RBAC subjects"
        assert "cluster-admin" in screen_text(app)
        await pilot.press("slash", *"jenkins")
        await pilot.pause()
        assert screen.table.current["key"] == "ServiceAccount/ci/jenkins"
        await pilot.press("enter", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SubjectScreen) and app.screen.analysis is not None)
        assert "risks: cluster-admin" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("escape")  # clears the filter
        await pilot.press("i")  # who can…: the jump prompt, prefilled
        await pilot.pause()
        await pilot.press(*"get", "space", *"secrets", "space", "minus", "n", "space", *"data", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, WhoCanScreen) and app.screen.analysis is not None)
        grants = app.screen.analysis.rbac.who_can(Request.parse("get", "secrets", namespace="data"))
        assert len(app.screen.table.rows) == len(grants)
        subjects = {str(g.subject) for g in grants}
        assert "ServiceAccount/ci/jenkins" in subjects  # cluster-admin can read them everywhere
        text = screen_text(app)
        assert "who can get secrets -n data" in text and "ServiceAccount/ci/jenkins" in text
