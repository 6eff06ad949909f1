"""The `:` jumps are one table (tui/jumps.py): the prompt, the palette and `?` show the same."""

from __future__ import annotations

from kspm_tui.tui.jumps import JUMPS, parse, words
from kspm_tui.tui.screens.by_rule import ByRuleScreen
from kspm_tui.tui.screens.modals import HelpScreen
from kspm_tui.tui.screens.overview import OverviewScreen
from kspm_tui.tui.screens.rules import RulesScreen
from tests.test_tui_explore import fixture_app
from tests.tui_helpers import run_async, screen_text, wait_for, wait_scanned


def test_every_word_finds_its_jump() -> None:
    assert len(JUMPS) >= 10
    for jump in JUMPS:
        for word in (jump.name, *jump.aliases):
            assert parse(f"{word.upper()}  some arg")[0] is jump
            assert word in words()
    assert parse("K8S-PRIVILEGED") == (parse("rule")[0], "K8S-PRIVILEGED", "k8s-privileged")
    assert parse("nonsense")[0] is None


@run_async
async def test_help_lists_every_jump_and_jumps_open_their_views() -> None:
    app = fixture_app()
    async with app.run_test(size=(140, 60)) as pilot:
        await wait_scanned(pilot, app)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = screen_text(app)
        for jump in JUMPS:
            assert f":{jump.name}" in text and jump.help.split("(")[0].strip()[:20] in text, jump.name
        await pilot.press("escape")
        app.jump("rules priv")
        await wait_for(pilot, lambda: isinstance(app.screen, RulesScreen))
        app.jump("K8S-PRIVILEGED")  # a rule id alone: back to the overview, then that rule's findings
        await wait_for(pilot, lambda: isinstance(app.screen, ByRuleScreen))
        assert [type(s) for s in app.screen_stack[-2:]] == [OverviewScreen, ByRuleScreen]
        app.jump("home")
        await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen))
