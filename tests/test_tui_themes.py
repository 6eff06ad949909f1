"""Themes are data: built-ins load, user themes add or replace, the choice persists."""

from __future__ import annotations

from textual.color import Color

from kspm_tui.config import load_config
from kspm_tui.locations import builtin_dir, user_themes_dir
from kspm_tui.target import Target
from kspm_tui.tui.app import KspmApp
from kspm_tui.tui.themes import load_themes
from tests.tui_helpers import FIXTURE_CLUSTER, run_async, wait_scanned


def luminance(hex_color: str) -> float:
    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = Color.parse(hex_color).rgb
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_builtin_themes_load_with_severity_variables() -> None:
    themes, warnings = load_themes([builtin_dir("themes")])
    assert warnings == []
    by_name = {t.name: t for t in themes}
    assert {"kspm-dark", "kspm-light", "kspm-high-contrast"} <= set(by_name)
    assert by_name["kspm-light"].dark is False
    for theme in themes:
        assert set(theme.variables) >= {f"severity-{s}" for s in ("critical", "high", "medium", "low", "info")}


def test_high_contrast_theme_is_readable() -> None:
    """Every severity colour reaches WCAG AA (4.5:1) on the background, and all five differ."""
    theme = next(t for t in load_themes([builtin_dir("themes")])[0] if t.name == "kspm-high-contrast")
    colours = [theme.variables[f"severity-{s}"] for s in ("critical", "high", "medium", "low", "info")]
    assert len(set(colours)) == 5
    for colour in colours:
        assert contrast(colour, theme.background) >= 4.5, colour


def test_user_theme_added_and_broken_one_reported() -> None:
    user = user_themes_dir()
    user.mkdir(parents=True)
    (user / "solar.yaml").write_text("name: solar\ndark: true\ncolors: {primary: '#b58900'}\n"
                                     "severity: {critical: '#dc322f'}\n")
    (user / "broken.yaml").write_text("name: Not Valid\ncolors: {}\n")
    themes, warnings = load_themes()
    solar = next(t for t in themes if t.name == "solar")
    assert solar.variables["severity-critical"] == "#dc322f"
    assert solar.variables["severity-low"]  # defaults fill what the file leaves out
    skipped = [w for w in warnings if w.endswith("skipped")]
    assert len(skipped) == 1 and "broken.yaml" in skipped[0]


@run_async
async def test_theme_flag_and_choice_persisted() -> None:
    app = KspmApp(Target("paths", paths=(str(FIXTURE_CLUSTER),)), theme="kspm-light")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_scanned(pilot, app)
        assert app.theme == "kspm-light"
        assert app.theme_variables["severity-critical"] == "#b3003b"
        app.set_theme("kspm-high-contrast")
        await pilot.pause()
    assert load_config()[0].theme == "kspm-high-contrast"


@run_async
async def test_unknown_theme_falls_back_with_a_warning() -> None:
    app = KspmApp(Target("paths", paths=(str(FIXTURE_CLUSTER),)), theme="nope")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert app.theme == "kspm-dark"
        assert any("unknown theme 'nope'" in n.message for n in app._notifications)

