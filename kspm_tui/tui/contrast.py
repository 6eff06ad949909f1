"""WCAG contrast of the text/background pairs a theme produces, as a terminal shows them.

Text must read at 3 a.m. on any terminal: every pair the stylesheet (`app.tcss`) can put on
screen must reach WCAG AA (4.5:1) in truecolor and after the terminal's downgrade to 256 and
16 colours (Rich, which Textual renders through, picks the nearest palette colour). `PAIRS`
mirrors the stylesheet; `tests/test_tui_contrast.py` checks it against what the real app renders.
"""

from __future__ import annotations

from rich.color import STANDARD_PALETTE, ColorSystem
from rich.color import Color as RichColor
from textual.color import Color
from textual.theme import Theme

AA = 4.5
SYSTEMS = ((None, "truecolor"), (ColorSystem.EIGHT_BIT, "256 colours"), (ColorSystem.STANDARD, "16 colours"))
SEVERITY_VARIABLES = tuple(f"severity-{s}" for s in ("critical", "high", "medium", "low", "info"))
# The tones a table row can take (lazy-table--<tone> in app.tcss), by the variable they use.
ROW_TONES = ("foreground", "text-muted", "success", "warning", "accent", "secondary", *SEVERITY_VARIABLES)
# Background name -> how it is made: a variable, optionally with another blended over it (alpha).
BACKGROUNDS: dict[str, tuple[str, str | None, float]] = {
    "background": ("background", None, 0),
    "surface": ("surface", None, 0),
    "panel": ("panel", None, 0),
    "odd row": ("surface", "background", 0.3),
}
# (foreground variable, background name): every text colour app.tcss puts on each background.
PAIRS: tuple[tuple[str, str], ...] = (
    *((tone, bg) for tone in ROW_TONES for bg in ("surface", "odd row")),
    *((tone, "background") for tone in ("foreground", "error", "success", "warning", *SEVERITY_VARIABLES)),
    *((tone, "block-cursor-blurred-background") for tone in ROW_TONES),
    *(("background", severity) for severity in SEVERITY_VARIABLES),  # severity badges (reversed)
    ("foreground", "panel"), ("primary", "panel"), ("text-muted", "background"), ("text-muted", "panel"),
    ("footer-key-foreground", "panel"), ("footer-foreground", "panel"),
    ("block-cursor-foreground", "block-cursor-background"),
    ("block-cursor-blurred-foreground", "block-cursor-blurred-background"),
)


def luminance(color: Color) -> float:
    """WCAG relative luminance of an opaque colour."""
    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.r) + 0.7152 * channel(color.g) + 0.0722 * channel(color.b)


def ratio(foreground: Color, background: Color) -> float:
    """WCAG contrast ratio (1 to 21) of two opaque colours."""
    hi, lo = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def downgrade(color: Color, system: ColorSystem | None) -> Color:
    """The colour a terminal limited to `system` shows for `color` (Rich's nearest palette colour)."""
    if system is None:
        return color
    rich = RichColor.from_rgb(color.r, color.g, color.b).downgrade(system)
    if rich.number is not None and rich.number < 16:
        r, g, b = STANDARD_PALETTE[rich.number]
    else:
        r, g, b = rich.get_truecolor()
    return Color(r, g, b)


def worst_ratio(foreground: Color, background: Color) -> tuple[float, str]:
    """The lowest contrast of the pair over truecolor, 256 and 16 colours, and where it happens."""
    return min((ratio(downgrade(foreground, s), downgrade(background, s)), name) for s, name in SYSTEMS)


def _resolve(variables: dict[str, str], name: str, over: Color) -> Color:
    """A theme variable as an opaque colour: alpha blended over `over`, `auto N%` as Textual does."""
    value = variables.get(name, "")
    if value.startswith("auto"):
        alpha = float(value.split()[1].rstrip("%")) / 100 if " " in value else 1.0
        return over + over.get_contrast_text(alpha)
    if value in ("", "transparent"):
        return over
    return over + Color.parse(value)


def theme_problems(theme: Theme) -> list[str]:
    """Every pair of `theme` below AA, named (`severity-info on panel: 3.9:1 in 16 colours`)."""
    variables = theme.to_color_system().generate()
    variables.update(theme.variables)
    screen = Color.parse(variables["background"])
    backgrounds = {name: _resolve(variables, base, screen) for name, (base, _, _) in BACKGROUNDS.items()}
    for name, (_, blend, alpha) in BACKGROUNDS.items():
        if blend:
            backgrounds[name] = backgrounds[name] + Color.parse(variables[blend]).with_alpha(alpha)
    problems = []
    for fg_name, bg_name in PAIRS:
        background = backgrounds.get(bg_name) or _resolve(variables, bg_name, backgrounds["surface"])
        foreground = _resolve(variables, fg_name, background)
        value, where = worst_ratio(foreground, background)
        if value < AA:
            problems.append(f"{fg_name} {foreground.hex} on {bg_name} {background.hex}: "
                            f"{value:.1f}:1 in {where} (needs {AA}:1)")
    return problems
