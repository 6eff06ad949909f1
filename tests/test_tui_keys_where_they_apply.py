"""Keys discoverable where they apply (issue 17): `?` lists the current screen's keys first, each
footer shows the 5–7 keys that matter there, the fix tabs remember the last one chosen, and Esc
after a failed context scan lands on the context picker."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets._footer import FooterKey

from kspm_tui.config import Config, load_config
from kspm_tui.target import Target
from kspm_tui.tui import keymap
from kspm_tui.tui.app import KspmApp
from kspm_tui.tui.screens.by_rule import ByRuleScreen
from kspm_tui.tui.screens.contexts import ContextsScreen
from kspm_tui.tui.screens.drift import DriftScreen
from kspm_tui.tui.screens.exceptions import ExceptionsScreen
from kspm_tui.tui.screens.finding import FindingScreen
from kspm_tui.tui.screens.fix_plan import FixPlanScreen
from kspm_tui.tui.screens.modals import ErrorScreen, HelpScreen
from kspm_tui.tui.screens.namespace import NamespaceScreen
from kspm_tui.tui.screens.overview import OverviewScreen
from kspm_tui.tui.screens.paths import PathsScreen
from kspm_tui.tui.screens.policy import PolicyScreen
from kspm_tui.tui.screens.rbac import RbacScreen, SubjectScreen
from kspm_tui.tui.screens.rules import RulesScreen
from kspm_tui.tui.screens.welcome import WelcomeScreen
from kspm_tui.tui.screens.workload import WorkloadScreen
from tests.apiserver.server import ApiServer
from tests.tui_helpers import move_to, run_async, screen_text, wait_for, wait_scanned, write_kubeconfig


def footer_keys(app: KspmApp) -> list[str]:
    """The keys the footer shows (the command palette's ^p on its right is Textual's own, not counted)."""
    return [key.key_display for key in app.screen.query(FooterKey) if not key.has_class("-command-palette")]


async def open_finding(pilot, app: KspmApp, name: str = "sonarqube", rule: str = "K8S-PRIVILEGED") -> None:  # type: ignore[no-untyped-def]
    await pilot.press("colon", *f"ns {'ci'}", "enter")
    await wait_for(pilot, lambda: isinstance(app.screen, NamespaceScreen))
    await move_to(pilot, app.screen.table, lambda row: row.name == name)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, WorkloadScreen))
    await move_to(pilot, app.screen.table, lambda row: getattr(row, "rule", None) == rule)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, FindingScreen))


@run_async
async def test_help_on_the_finding_screen_lists_its_keys_first_without_duplicates() -> None:
    app = KspmApp(Target("demo"))
    async with app.run_test(size=(130, 50)) as pilot:
        await wait_scanned(pilot, app)
        await open_finding(pilot, app)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        sections = app.screen.sections()
        heading, own = sections[0]
        assert heading == "Finding"
        assert [keys for keys, _ in own] == ["b", "a", "Tab", "p"]
        assert [what for _, what in own] == ["All of this rule", "Accept risk", "Next fix tab", "Admission policy"]
        assert sections[1][0] == "Everywhere"
        listed = [key for _, rows in sections for keys, _ in rows for key in keys.split()]
        assert len(listed) == len(set(listed)), listed  # no key twice (Esc was listed twice before)
        for key in ("Esc", "?", ":", "q", "c", "r"):
            assert key in listed
        descriptions = [what for _, rows in sections for _, what in rows]
        for other in keymap.WELCOME_KEYS + keymap.CONTEXT_KEYS + keymap.RBAC_KEYS + keymap.TABLE_KEYS:
            assert other.description not in descriptions, other.id  # keys of other screens
        text = screen_text(app)
        assert text.index("All of this rule") < text.index("Rescan")  # on screen, in that order
        assert "Demo cluster" not in text and "Open folder" not in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, FindingScreen))


@run_async
async def test_help_on_the_welcome_screen_lists_its_own_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    app = KspmApp()
    async with app.run_test(size=(130, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, WelcomeScreen)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        heading, own = app.screen.sections()[0]
        assert heading == "Welcome" and [what for _, what in own] == ["Demo cluster", "Open folder"]
        assert "Accept risk" not in screen_text(app)


@run_async
async def test_help_follows_a_remapped_key_and_lists_it_once() -> None:
    from kspm_tui.locations import config_dir

    config_dir().mkdir(parents=True, exist_ok=True)
    (config_dir() / "keymap.yaml").write_text("kspm.by_rule: r\n")  # shadows the app's rescan key on this screen
    app = KspmApp(Target("demo"))
    async with app.run_test(size=(130, 50)) as pilot:
        await wait_scanned(pilot, app)
        await open_finding(pilot, app)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        sections = app.screen.sections()
        assert ("r", "All of this rule") in sections[0][1]
        listed = [key for _, rows in sections for keys, _ in rows for key in keys.split()]
        assert listed.count("r") == 1


@run_async
async def test_each_footer_shows_five_to_seven_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "kubeconfig")))
    app = KspmApp(Target("demo"))
    counts: dict[str, list[str]] = {}

    async def record(name: str, screen_type: type) -> None:  # type: ignore[type-arg]
        await wait_for(pilot, lambda: isinstance(app.screen, screen_type) and footer_keys(app))
        counts[name] = footer_keys(app)
        footer = screen_text(app).splitlines()[-1]
        for key in app.screen.query(FooterKey):  # every key and label whole, even at 80 columns
            assert f"{key.key_display} {key.description}" in footer, (name, footer)

    async def jump(text: str, name: str, screen_type: type) -> None:  # type: ignore[type-arg]
        await pilot.press("colon", *text, "enter")
        await record(name, screen_type)

    async with app.run_test(size=(80, 24)) as pilot:
        await wait_scanned(pilot, app)
        await record("overview", OverviewScreen)
        await open_finding(pilot, app)
        await record("finding", FindingScreen)
        await pilot.press("escape")
        await record("workload", WorkloadScreen)
        await pilot.press("f")
        await record("fix plan", FixPlanScreen)
        await pilot.press("escape", "escape")
        await record("namespace", NamespaceScreen)
        await jump("rules", "rules", RulesScreen)
        await pilot.press("p")
        await record("policy", PolicyScreen)
        await jump("rule K8S-PRIVILEGED", "by rule", ByRuleScreen)
        await jump("rbac", "rbac", RbacScreen)
        await wait_for(pilot, lambda: app.screen.analysis is not None)
        await pilot.press("enter")
        await record("subject", SubjectScreen)
        await jump("paths", "paths", PathsScreen)
        await jump("exceptions", "exceptions", ExceptionsScreen)
        await jump("drift", "drift", DriftScreen)
        await jump("ctx", "contexts", ContextsScreen)
        app.push_screen(WelcomeScreen())
        await record("welcome", WelcomeScreen)

    for name, keys in counts.items():
        assert 5 <= len(keys) <= 7, (name, keys)
        assert len(keys) == len(set(keys)), (name, keys)
    assert counts["finding"][:3] == ["tab", "c", "a"] and {"p", "esc"} <= set(counts["finding"])
    assert {"d", "f"} <= set(counts["welcome"]) and "a" not in counts["welcome"]
    assert "a" in counts["contexts"] and "/" in counts["rules"] and "p" in counts["rules"]
    assert "f" in counts["workload"] and {"i", "p"} <= set(counts["rbac"])


@run_async
async def test_fix_tab_opens_on_the_patch_then_on_the_last_one_chosen() -> None:
    app = KspmApp(Target("demo"))
    async with app.run_test(size=(130, 50)) as pilot:
        await wait_scanned(pilot, app)
        await open_finding(pilot, app)
        tabs = app.screen.query_one("#fix")
        assert tabs.active == "tab-patch"  # the first time: the patch
        await pilot.press("tab")
        await pilot.pause()
        assert tabs.active == "tab-kubectl"
        await pilot.press("escape")  # back to the workload, then another finding
        await wait_for(pilot, lambda: isinstance(app.screen, WorkloadScreen))
        await move_to(pilot, app.screen.table, lambda row: getattr(row, "rule", None) != "K8S-PRIVILEGED")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, FindingScreen))
        assert app.screen.finding.rule != "K8S-PRIVILEGED"
        assert app.screen.query_one("#fix").active == "tab-kubectl"  # the tab last chosen
        await pilot.press("tab")
        await pilot.pause()
        await pilot.press("escape", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, FindingScreen))
        assert app.screen.query_one("#fix").active == "tab-diff"
    # the choice is kept in config.yaml: the next run (the CLI loads the config) opens on it too
    config, warning = load_config()
    assert warning is None and config.fix_tab == "diff"
    again = KspmApp(Target("demo"), config=config)
    async with again.run_test(size=(130, 50)) as pilot:
        await wait_scanned(pilot, again)
        await open_finding(pilot, again)
        assert again.screen.query_one("#fix").active == "tab-diff"
    # with no choice saved, the first finding opens on the patch
    fresh = KspmApp(Target("demo"), config=Config())
    async with fresh.run_test(size=(130, 50)) as pilot:
        await wait_scanned(pilot, fresh)
        await open_finding(pilot, fresh)
        assert fresh.screen.query_one("#fix").active == "tab-patch"


@run_async
async def test_esc_after_a_failed_context_scan_lands_on_the_picker(live_demo: ApiServer) -> None:
    app = KspmApp()
    async with app.run_test(size=(130, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ContextsScreen)
        await move_to(pilot, app.screen.table, lambda row: row.name == "prod-eu")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorScreen))
        assert "Cannot scan prod-eu" in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ContextsScreen))
        assert "prod-eu" in screen_text(app) and "demo-live" in screen_text(app)
        assert app.target is None and len(app.screen_stack) == 2
        await pilot.press("escape")  # Esc on the picker stays there (never a blank screen)
        await pilot.pause()
        assert isinstance(app.screen, ContextsScreen)
        # the picker still works: the live context scans and Esc from its overview keeps it
        await move_to(pilot, app.screen.table, lambda row: row.name == "demo-live")
        await pilot.press("enter")
        await wait_scanned(pilot, app)
        assert isinstance(app.screen, OverviewScreen) and app.scanned.result.cluster.context == "demo-live"

        # `:ctx NAME` to the unreachable context from a scan: the error's dismissal goes to the picker too
        await pilot.press("colon", *"ctx prod-eu", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorScreen))
        await pilot.press("enter")  # the dialog's other key
        await wait_for(pilot, lambda: isinstance(app.screen, ContextsScreen))


@run_async
async def test_a_failed_rescan_keeps_the_last_result_on_screen(live_demo: ApiServer) -> None:
    app = KspmApp(Target("context", context="demo-live"))
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_scanned(pilot, app)
        live_demo.stop()
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen))
        assert app.scanned is not None and "demo-live" in screen_text(app)
