"""Triage loop in the explorer: accept a risk with `a`, list exceptions, see drift since the last scan."""

from __future__ import annotations

import shutil
from pathlib import Path

from kspm_tui.model import Status
from kspm_tui.target import Target
from kspm_tui.triage.acceptance import user_exceptions_path
from kspm_tui.tui.app import KspmApp
from kspm_tui.tui.screens.accept import AcceptScreen
from kspm_tui.tui.screens.drift import DriftScreen
from kspm_tui.tui.screens.exceptions import ExceptionsScreen
from kspm_tui.tui.screens.finding import FindingScreen
from kspm_tui.tui.screens.workload import WorkloadScreen
from kspm_tui.yamlio import load_yaml
from tests.tui_helpers import FIXTURE_CLUSTER, move_to, run_async, screen_text, wait_for, wait_scanned


async def type_text(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    for ch in text:
        await pilot.press({" ": "space", "-": "minus", ";": "semicolon", "/": "slash"}.get(ch, ch))


@run_async
async def test_accept_risk_from_a_finding_then_list_it() -> None:
    app = KspmApp(Target("demo"))
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_scanned(pilot, app)
        failing_before = app.scanned.result.summary.total
        await pilot.press("colon", *"ns ci", "enter")
        await pilot.pause()
        await move_to(pilot, app.screen.table, lambda row: row.name == "sonarqube")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, WorkloadScreen)
        await move_to(pilot, app.screen.table, lambda row: getattr(row, "rule", None) == "K8S-PRIVILEGED")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, FindingScreen)
        finding = app.screen.finding
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, AcceptScreen))
        await pilot.press("enter")  # no reason yet: refused
        await pilot.pause()
        assert isinstance(app.screen, AcceptScreen) and "A reason is required" in screen_text(app)
        await type_text(pilot, "sysctl init needs privilege")
        await pilot.press("tab")
        await type_text(pilot, "team-ci")
        await pilot.press("tab")
        await type_text(pilot, "2099-12-31")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, FindingScreen))

        # written to the user's exceptions.yaml, for this container only
        entries = load_yaml(user_exceptions_path().read_text())["exceptions"]
        assert entries == [{"rule": "K8S-PRIVILEGED", "cluster": finding.cluster, "namespace": "ci",
                            "kind": "Deployment", "name": "sonarqube", "container": "init-sysctl",
                            "reason": "sysctl init needs privilege", "owner": "team-ci",
                            "created": entries[0]["created"], "expires": "2099-12-31"}]
        # the finding and the counts say accepted, with who and why
        assert app.screen.finding.status is Status.accepted
        text = screen_text(app)
        assert "[accepted]" in text and "Accepted: sysctl init needs privilege (owner team-ci, until 2099-12-31" in text
        assert app.scanned.result.summary.total == failing_before - 1
        others = [f for f in app.scanned.result.findings
                  if f.name == "sonarqube" and f.fingerprint != finding.fingerprint]
        assert others and all(f.status is Status.fail for f in others)  # the other findings stay

        await pilot.press("colon", *"exceptions", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ExceptionsScreen))
        rows = app.screen.table.rows
        assert [(r.state, r.matches) for r in rows] == [("active", 1)]
        assert "Deployment/ci/sonarqube [init-sysctl]" in screen_text(app)


@run_async
async def test_expired_exception_is_listed_and_named_on_the_finding() -> None:
    user_exceptions_path().parent.mkdir(parents=True, exist_ok=True)
    user_exceptions_path().write_text(
        "exceptions:\n"
        "  - {rule: K8S-PRIVILEGED, namespace: payments, kind: StatefulSet, name: ledger,\n"
        "     reason: migration window, owner: dba, expires: 2020-01-31}\n"
        "  - {rule: K8S-PRIVILEGED, namespace: nowhere, reason: stale entry}\n")
    app = KspmApp(Target("paths", paths=(str(FIXTURE_CLUSTER),)))
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_scanned(pilot, app)
        ledger = [f for f in app.scanned.result.findings if f.name == "ledger" and f.rule == "K8S-PRIVILEGED"]
        assert ledger and all(f.status is Status.fail for f in ledger)
        assert all("exception expired on 2020-01-31" in f.message for f in ledger)
        await pilot.press("colon", *"exceptions", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ExceptionsScreen))
        assert sorted(r.state for r in app.screen.table.rows) == ["expired", "unmatched"]
        text = screen_text(app)
        assert "expired" in text and "unmatched" in text and "exceptions.yaml entry 1" in text


@run_async
async def test_drift_after_a_change_and_a_rescan(tmp_path: Path) -> None:
    folder = tmp_path / "cluster"
    shutil.copytree(FIXTURE_CLUSTER, folder)
    app = KspmApp(Target("paths", paths=(str(folder),)))
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_scanned(pilot, app)
        await pilot.press("colon", *"drift", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DriftScreen))
        assert "only one scan of this target so far" in screen_text(app)
        await pilot.press("escape")
        (folder / "new.yaml").write_text(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: intruder, namespace: shop}\n"
            "spec:\n  containers:\n    - {name: x, image: evil/miner:1, securityContext: {privileged: true}}\n")
        await pilot.press("r")
        await wait_scanned(pilot, app)
        assert len(app.scanned.trend) == 2 and "2 scans" in screen_text(app)
        await pilot.press("colon", *"drift", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DriftScreen))
        rows = app.screen.table.rows
        new = {r.finding.fingerprint for r in rows if r.change == "new finding"}
        expected = {f.fingerprint for f in app.scanned.result.findings
                    if f.name == "intruder" and f.status is Status.fail}
        assert new == expected
        assert [r.what for r in rows if r.change == "new workload"] == ["Pod/shop/intruder"]
        assert [r.what for r in rows if r.change == "new image"] == ["evil/miner:1"]
        text = screen_text(app)
        assert f"+{len(expected)} new" in text and "Pod/shop/intruder" in text
        await move_to(pilot, app.screen.table, lambda r: r.change == "new finding")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, FindingScreen) and app.screen.finding.name == "intruder"
