"""Themes are YAML data (`themes/*.yaml`, plus the user's themes dir) mapped to Textual themes.

Severity colours become theme variables (`$severity-critical`, ...) so the stylesheet, not
Python, decides how a critical finding looks. A broken user theme is reported and skipped; one
with text below WCAG AA contrast is loaded with a warning naming each pair (`contrast.py`).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from textual.color import Color
from textual.theme import Theme

from kspm_tui.locations import builtin_dir, user_themes_dir
from kspm_tui.model import Severity
from kspm_tui.tui.contrast import theme_problems, worst_ratio
from kspm_tui.yamlio import load_yaml

DEFAULT_THEME = "kspm-dark"
# Used when a non-kspm theme (e.g. Textual's own) is active, so $severity-* always resolve.
SEVERITY_DEFAULTS = {
    "critical": "#ff4f6d", "high": "#ff8c42", "medium": "#f2c94c", "low": "#6fb1ff", "info": "#9aa0ab",
}


class ThemeColors(BaseModel):
    model_config = ConfigDict(extra="forbid")

    primary: str
    secondary: str | None = None
    accent: str | None = None
    foreground: str | None = None
    background: str | None = None
    surface: str | None = None
    panel: str | None = None
    warning: str | None = None
    error: str | None = None
    success: str | None = None


class ThemeFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    dark: bool = True
    colors: ThemeColors
    severity: dict[Severity, str] = Field(default_factory=dict)

    def to_theme(self) -> Theme:
        severity = {**SEVERITY_DEFAULTS, **{s.value: c for s, c in self.severity.items()}}
        theme = Theme(
            name=self.name, dark=self.dark, **self.colors.model_dump(exclude_none=True),
            variables={f"severity-{s}": c for s, c in severity.items()},
        )
        theme.variables.update(derived_variables(theme))
        return theme


def derived_variables(theme: Theme) -> dict[str, str]:
    """Colours Textual would otherwise compute at render time, made concrete so they can be
    checked: the cursor row is solid $primary under whichever of the theme's text or background
    colour reads better on it (Textual's `auto 87%` fell to 1.5:1 with severity tones on top),
    the unfocused cursor $panel under plain text, and muted text 70% $foreground on $surface
    (`auto 60%` turned white in table cells, whose own background is transparent)."""
    generated = theme.to_color_system().generate()
    primary = Color.parse(generated["primary"])
    text = max((generated["background"], generated["foreground"]),
               key=lambda c: worst_ratio(Color.parse(c), primary)[0])
    muted = Color.parse(generated["surface"]) + Color.parse(generated["foreground"]).with_alpha(0.7)
    return {"block-cursor-background": generated["primary"], "block-cursor-foreground": text,
            "block-cursor-blurred-background": generated["panel"],
            "block-cursor-blurred-foreground": generated["foreground"], "text-muted": muted.hex}


def severity_variables() -> dict[str, str]:
    return {f"severity-{s}": c for s, c in SEVERITY_DEFAULTS.items()}


def load_theme_file(path: Path) -> Theme:
    data = load_yaml(path.read_text(encoding="utf-8"))
    return ThemeFile.model_validate(data).to_theme()


def load_themes(directories: list[Path] | None = None) -> tuple[list[Theme], list[str]]:
    """Built-in then user themes (a user theme with a built-in name replaces it) and warnings."""
    directories = directories if directories is not None else [builtin_dir("themes"), user_themes_dir()]
    themes: dict[str, Theme] = {}
    warnings: list[str] = []
    for directory in directories:
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.y*ml")):
            try:
                theme = load_theme_file(path)
            except ValidationError as exc:
                error = exc.errors()[0]
                where = ".".join(str(p) for p in error["loc"])
                warnings.append(f"theme {path}: {where}: {error['msg']}; skipped")
                continue
            except Exception as exc:  # unreadable file or invalid YAML  # noqa: BLE001
                warnings.append(f"theme {path}: {str(exc).splitlines()[0]}; skipped")
                continue
            themes[theme.name] = theme
            if problems := theme_problems(theme):
                more = f"; and {len(problems) - 3} more" if len(problems) > 3 else ""
                warnings.append(f"theme {path}: text below WCAG AA contrast: {'; '.join(problems[:3])}{more}")
    return list(themes.values()), warnings
