"""Live scans: workloads in system namespaces are a counted group, never silently out of --fail-on."""

from __future__ import annotations

import json
from collections import Counter

from kspm_tui.target import Target
from kspm_tui.tui.app import KspmApp
from tests.apiserver.fixtures import manifests
from tests.tui_helpers import run_async, screen_text, wait_for, wait_scanned


def system_only_criticals() -> list[dict]:
    """The fixture cluster without its application workloads: the one privileged workload left
    is kube-system's node agent."""
    return [o for o in manifests() if o["kind"] not in ("Pod", "Deployment", "ReplicaSet", "CronJob", "Job",
                                                         "StatefulSet") and
            not (o["kind"] == "DaemonSet" and o["metadata"].get("namespace") != "kube-system")]


def test_system_namespace_findings_count_for_fail_on_and_the_footer_says_how_to_see_them(
        serve, kubeconfig, run_cli) -> None:
    server = serve(system_only_criticals())
    config = str(kubeconfig(server))
    table = run_cli("scan", "--context", "test", "--kubeconfig", config, "--fail-on", "critical", "--no-history")
    assert table.code == 1
    assert "findings at or above critical are in system namespaces (kube-system) and count for --fail-on" \
        in table.stderr.replace("\n", " ")
    footer = " ".join(table.stdout.split())
    assert "System namespaces (kube-system): 1 workloads with" in footer and "1 critical" in footer
    assert "counted by --fail-on; --include-system lists them" in footer
    report = json.loads(run_cli("scan", "--context", "test", "--kubeconfig", config, "-o", "json",
                                "--no-history").stdout)
    assert report["excluded"]["by_severity"]["critical"] == 1
    assert not [f for f in report["findings"] if f["namespace"] == "kube-system" and f["kind"] == "DaemonSet"]
    shown = json.loads(run_cli("scan", "--context", "test", "--kubeconfig", config, "-o", "json", "--no-history",
                               "--include-system").stdout)
    assert {(f["rule"], f["name"]) for f in shown["findings"] if f["namespace"] == "kube-system"} >= {
        ("K8S-PRIVILEGED", "node-agent")}


@run_async
async def test_the_explorer_counts_the_system_group_and_s_drills_into_it() -> None:
    app = KspmApp(Target("demo"))
    async with app.run_test(size=(150, 40)) as pilot:
        await wait_scanned(pilot, app)
        excluded = app.scanned.result.excluded

        def system_rows() -> int:
            return sum(1 for r in app.index.workloads.values() if r.namespace in excluded.namespaces)

        hidden_view = system_rows()  # static control-plane Pods and the like have rules of their own
        assert excluded.workloads
        text = " ".join(screen_text(app).split())
        assert f"{excluded.workloads} workloads in system namespaces not listed" in text
        assert f"({excluded.findings} findings, counted by --fail-on but not in the score or the totals " \
               "above: the last row; the namespaces' own objects are checked once listed); " \
               "Enter on it or S lists them" in text
        await pilot.press("S")
        await wait_scanned(pilot, app)
        assert app.scanned.result.excluded.workloads == 0 and system_rows() > hidden_view
        await pilot.press("S")
        await wait_scanned(pilot, app)
        assert system_rows() == hidden_view


def _system_workload_findings(app: KspmApp) -> Counter:
    """Failing findings on workloads in kube-system, by severity."""
    workloads = {(w.kind, w.namespace, w.name) for w in app.scanned.snapshot.workloads()}
    return Counter(f.severity.value for f in app.scanned.result.findings
                   if f.namespace == "kube-system" and f.status.value == "fail"
                   and (f.kind, f.namespace, f.name) in workloads)


def _overview_rows(app: KspmApp) -> dict[str, tuple[list[int], int]]:
    from tests.test_tui_layout import count_rows

    return {name: (parts, total) for name, parts, total in count_rows(screen_text(app))}


@run_async
async def _live_group_scenario(kubeconfig: str) -> None:
    from kspm_tui.tui.screens.overview import OverviewScreen, SystemGroup

    app = KspmApp(Target("context", context="test", kubeconfig=kubeconfig))
    async with app.run_test(size=(150, 40)) as pilot:
        await wait_scanned(pilot, app)
        excluded = app.scanned.result.excluded
        assert excluded.namespaces == ["kube-system"] and excluded.by_severity["critical"] == 1
        rows = _overview_rows(app)
        group = rows["system ns (kube-system)"]
        severities = ("critical", "high", "medium", "low", "info")
        assert group == ([excluded.by_severity.get(s, 0) for s in severities], excluded.findings)
        # not in the totals: (all namespaces) is the sum of the other rows, and the screen says so
        listed = [total for name, (_, total) in rows.items() if name not in ("(all namespaces)",
                                                                               "system ns (kube-system)")]
        assert rows["(all namespaces)"][1] == sum(listed) == app.scanned.result.summary.total
        text = " ".join(screen_text(app).split())
        assert "system ns: not in totals, counted by --fail-on; Enter lists them" in text
        table = app.screen.table
        assert isinstance(table.rows[-1], SystemGroup)  # after every real namespace
        before = _system_workload_findings(app)
        hidden = {s: n for s, n in excluded.by_severity.items() if n}

        await pilot.press("end", "enter")  # drill in: a rescan with them listed, the cursor on them
        await wait_for(pilot, lambda: app.include_system and not app.scanning
                       and app.scanned.settings.include_system)
        await pilot.pause()
        assert isinstance(app.screen, OverviewScreen)
        rows = _overview_rows(app)
        assert not any(name.startswith("system ns (") for name in rows)
        assert rows["kube-system"][0][0] >= 1
        assert rows["(all namespaces)"][1] == app.scanned.result.summary.total
        assert table.current.name == "kube-system" and table.rows[-1].system
        assert "system ns listed (last rows): Esc or S hides them" in " ".join(screen_text(app).split())
        assert any(f.namespace == "kube-system" and f.rule == "K8S-PRIVILEGED"
                   for f in app.scanned.result.findings)
        # what the group counted is what listing them adds to their workloads, severity by severity
        assert _system_workload_findings(app) - before == Counter(hidden)

        await pilot.press("escape")  # back to the group
        await wait_for(pilot, lambda: not app.include_system and not app.scanning
                       and not app.scanned.settings.include_system)
        await pilot.pause()
        assert isinstance(app.screen, OverviewScreen) and isinstance(table.rows[-1], SystemGroup)
        assert "system ns (kube-system)" in _overview_rows(app)

        await pilot.press("S")  # S shows them too, and hides them again
        await wait_for(pilot, lambda: app.scanned.settings.include_system and not app.scanning)
        await pilot.pause()
        assert "kube-system" in _overview_rows(app) and "system ns (kube-system)" not in _overview_rows(app)
        await pilot.press("S")
        await wait_for(pilot, lambda: not app.scanned.settings.include_system and not app.scanning)
        await pilot.pause()
        assert "system ns (kube-system)" in _overview_rows(app)


def test_live_overview_shows_the_system_group_and_enter_drills_into_it(serve, kubeconfig) -> None:
    server = serve(system_only_criticals())
    _live_group_scenario(str(kubeconfig(server)))


@run_async
async def _manifest_scenario(path: str) -> None:
    from kspm_tui.tui.screens.overview import SystemGroup

    app = KspmApp(Target("paths", paths=(path,)))
    async with app.run_test(size=(150, 40)) as pilot:
        await wait_scanned(pilot, app)
        rows = _overview_rows(app)
        assert "kube-system" in rows and not any(n.startswith("system ns (") for n in rows)
        assert not any(isinstance(r, SystemGroup) for r in app.screen.table.rows)
        assert not any(r.system for r in app.index.namespaces.values())  # what was given, not a platform
        assert "system namespaces" not in screen_text(app)


def test_a_manifest_scan_lists_system_namespaces_without_a_group(tmp_path) -> None:
    import yaml

    path = tmp_path / "agent.yaml"
    agent = next(o for o in manifests()
                 if o["kind"] == "DaemonSet" and o["metadata"].get("namespace") == "kube-system")
    path.write_text(yaml.safe_dump(agent))
    _manifest_scenario(str(path))


def test_the_hidden_counts_are_what_listing_adds_severity_by_severity() -> None:
    """A cluster's hidden workload findings are counted at the severity their finding would show
    (severityExpression lowers some), so the group's counts match what listing them adds."""
    from kspm_tui.scan import ScanSettings, run_scan

    hidden = run_scan(Target("demo"), ScanSettings())
    shown = run_scan(Target("demo"), ScanSettings(include_system=True))
    workloads = {(w.kind, w.namespace, w.name) for w in shown.snapshot.workloads()}
    listed = {f.fingerprint for f in hidden.result.findings}
    added = Counter(f.severity.value for f in shown.result.findings
                    if f.fingerprint not in listed and f.status.value == "fail"
                    and (f.kind, f.namespace, f.name) in workloads)
    excluded = hidden.result.excluded
    assert added == Counter({s: n for s, n in excluded.by_severity.items() if n})
    assert sum(added.values()) == excluded.findings


def test_s_during_a_scan_is_followed_by_a_scan_with_the_new_choice(monkeypatch) -> None:
    import threading

    import kspm_tui.scan

    release, scanning = threading.Event(), threading.Event()
    original = kspm_tui.scan.run_scan

    def held(*args, **kwargs):  # type: ignore[no-untyped-def]
        scanned = original(*args, **kwargs)  # judged with the choice made when it started
        scanning.set()
        release.wait(30)
        return scanned

    monkeypatch.setattr(kspm_tui.scan, "run_scan", held)

    @run_async
    async def scenario() -> None:
        app = KspmApp(Target("demo"))
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, scanning.is_set)
            await pilot.press("S")  # the first scan (system namespaces hidden) has not finished
            release.set()
            await wait_for(pilot, lambda: app.scanned is not None and app.scanned.settings.include_system
                           and not app.scanning)
            await pilot.pause()
            assert app.scanned.result.excluded.workloads == 0
            assert not any(r.name.startswith("system ns (") for r in app.screen.table.rows)

    scenario()


@run_async
async def _watch_scenario(kubeconfig: str, server) -> None:  # type: ignore[no-untyped-def]
    app = KspmApp(Target("context", context="test", kubeconfig=kubeconfig))
    async with app.run_test(size=(150, 40)) as pilot:
        await wait_scanned(pilot, app)
        await pilot.press("w")
        await wait_for(pilot, lambda: app.live_watch.service is not None, timeout=60)
        await pilot.press("S")  # the watch judged with them hidden: restarted with them listed
        await wait_for(pilot, lambda: app.scanned.settings.include_system and not app.scanning
                       and app.live_watch.service is not None
                       and app.live_watch.service.settings.include_system, timeout=60)
        server.store.put({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "intruder", "namespace": "default"},
            "spec": {"containers": [{"name": "x", "image": "evil/miner:1",
                                     "securityContext": {"privileged": True}}]}})
        await wait_for(pilot, lambda: any(f.name == "intruder" for f in app.scanned.result.findings),
                       timeout=60)
        assert app.scanned.result.excluded.workloads == 0
        assert any(f.namespace == "kube-system" and f.rule == "K8S-PRIVILEGED"
                   for f in app.scanned.result.findings)
        await pilot.press("w")
        await pilot.pause()


def test_s_while_watching_live_restarts_the_watch_with_the_new_choice(serve, kubeconfig) -> None:
    server = serve(system_only_criticals())
    _watch_scenario(str(kubeconfig(server)), server)
