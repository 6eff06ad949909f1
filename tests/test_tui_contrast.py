"""Every text the explorer puts on screen reads at WCAG AA (4.5:1), on every built-in theme,
in truecolor and after a terminal's downgrade to 256 and 16 colours.

The pairs are measured from what the real app renders (every character's colour and background,
cursor row and selected tab included), not from the theme file, so a stylesheet change that
puts text on a new background is caught. User themes are checked from their variables when
they load (`contrast.theme_problems`).
"""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from rich.segment import Segment
from textual.color import Color

from kspm_tui.locations import builtin_dir, user_themes_dir
from kspm_tui.target import Target
from kspm_tui.tui.app import KspmApp
from kspm_tui.tui.contrast import AA, SYSTEMS, downgrade, ratio
from kspm_tui.tui.screens.overview import OverviewScreen
from kspm_tui.tui.themes import load_themes
from tests.test_tui_snapshots import SCREENS
from tests.tui_helpers import run_async, wait_for, wait_scanned

BUILTIN = ("kspm-dark", "kspm-light", "kspm-high-contrast")
SIZE = (120, 30)


def _graphic(ch: str) -> bool:
    """Box drawing and block elements (borders, scrollbars, bars) are not text."""
    return "\u2500" <= ch <= "\u259f" or ch.isspace()


def rendered_pairs(app: KspmApp) -> list[tuple[str, Color, Color]]:
    """(text, colour, background) of every run of text on the current screen, as rendered.

    """
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens,
                                                  simplify=True)
    console = Console(width=app.size.width, height=app.size.height, file=io.StringIO(),
                      force_terminal=True, color_system="truecolor")
    out = []
    for line in Segment.split_lines(console.render(update)):
        for segment in line:
            text = "".join(ch for ch in segment.text if not _graphic(ch))
            if not text or segment.style is None:
                continue
            style = segment.style
            fg, bg = (style.bgcolor, style.color) if style.reverse else (style.color, style.bgcolor)
            assert fg is not None and bg is not None, f"{text!r} has no explicit colours"
            foreground, background = Color(*fg.get_truecolor()), Color(*bg.get_truecolor())
            if style.dim:  # terminals draw dim text at about half intensity
                foreground = background.blend(foreground, 0.5)
            out.append((text, foreground, background))
    return out


def failures(app: KspmApp, where: str) -> list[str]:
    bad = []
    for text, fg, bg in rendered_pairs(app):
        for system, name in SYSTEMS:
            value = ratio(downgrade(fg, system), downgrade(bg, system))
            if value < AA:
                bad.append(f"{where}: {text[:24]!r} {fg.hex} on {bg.hex}: {value:.2f}:1 in {name}")
    return bad


@pytest.mark.parametrize("theme", BUILTIN)
@run_async
async def test_every_screen_reads_at_aa_in_every_colour_depth(theme: str) -> None:
    app = KspmApp(Target("demo"), theme=theme)
    bad: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        await wait_scanned(pilot, app)
        for screen, keys in SCREENS.items():
            while not isinstance(app.screen, OverviewScreen):
                app.pop_screen()
                await pilot.pause()
            app.screen.set_focus(app.screen.table)
            await pilot.pause()
            for key in keys:
                await pilot.press(key)
                await pilot.pause()
            await wait_for(pilot, lambda: getattr(app.screen, "analysis", True) is not None)
            bad += failures(app, f"{theme} {screen}")
            app.screen.set_focus(None)  # the unfocused cursor row and tabs
            await pilot.pause()
            bad += failures(app, f"{theme} {screen} (unfocused)")
    assert not bad, "\n".join(sorted(set(bad))[:40])


def test_builtin_themes_pass_the_load_time_check() -> None:
    themes, warnings = load_themes([builtin_dir("themes")])
    assert {t.name for t in themes} >= set(BUILTIN)
    assert warnings == []


def test_a_user_theme_below_aa_loads_with_a_warning_naming_the_pair() -> None:
    user = user_themes_dir()
    user.mkdir(parents=True)
    (user / "murky.yaml").write_text("name: murky\ndark: true\n"
                                     "colors: {primary: '#5fafff', background: '#14161b', surface: '#1c1f26'}\n"
                                     "severity: {low: '#1f3a80'}\n")
    themes, warnings = load_themes()
    assert "murky" in {t.name for t in themes}  # still usable
    [warning] = [w for w in warnings if "murky.yaml" in w]
    assert "below WCAG AA contrast" in warning
    assert "severity-low #1F3A80 on surface #1C1F26: " in warning and "(needs 4.5:1)" in warning, warning
