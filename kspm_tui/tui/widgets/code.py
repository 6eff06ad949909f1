"""Highlighted code (YAML patches, CEL checks) in the active theme's own colours.

Pygments styles are not made for every background (monokai and friendly drop to 1.9–3.3:1 on
some tokens, lower in 16 colours); tokens coloured from theme variables are covered by the
theme's contrast check (`contrast.py`).
"""

from __future__ import annotations

from pygments.token import Comment, Keyword, Literal, Name, Number, String, Token
from rich.style import Style
from rich.syntax import ANSISyntaxTheme, Syntax


def code_block(text: str, lexer: str, variables: dict[str, str]) -> Syntax:
    """`text` highlighted with the theme's colours (`variables`: the app's theme variables)."""
    def colour(name: str, **attrs: bool) -> Style:
        return Style(color=variables.get(name), **attrs)

    theme = ANSISyntaxTheme({
        Token: colour("foreground"),
        Comment: colour("text-muted", italic=True),
        Keyword: colour("primary", bold=True),
        Name.Tag: colour("primary"),
        Name.Builtin: colour("secondary"),
        String: colour("success"),
        Number: colour("accent"),
        Literal: colour("accent"),
    })
    return Syntax(text, lexer, theme=theme, background_color="default", word_wrap=True)
