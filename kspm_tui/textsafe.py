"""Text from clusters and files made safe for a terminal, and for the report syntaxes we write.

Anyone who can create an object chooses its names, labels and annotations. Before such text
reaches a terminal (table, errors, explorer, clipboard) every character that is not printable
is shown as an escape: C0/C1 controls and escape sequences (`\\x1b]52;...` becomes the visible
text `\\x1b]52;...`), DEL, bidi controls (`\\u202e`), zero-width and other format characters,
line/paragraph separators and non-ASCII spaces, unassigned and private-use code points. That is
Python's own `str.isprintable()`, so it follows the running Unicode database. Backslashes are
left as they are (paths stay readable); a literal `\\x1b` in a name reads the same as an escaped
ESC, harmless to the terminal.

`markdown_cell` and `csv_cell` also escape what their formats would interpret. JSON, SARIF and
PolicyReport output keep the exact values: they are data, encoded by their serialisers (which
escape C0 controls; bidi characters stay, as JSON readers expect).
"""

from __future__ import annotations

import re
import sys
from typing import Any, TextIO

_KEPT_IN_BLOCKS = frozenset("\n\t")


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def has_hidden(text: str) -> bool:
    """True when some character would not show as itself (newlines and tabs included)."""
    return not text.isprintable()


def visible(text: str, *, keep_lines: bool = False) -> str:
    """`text` with every non-printable character shown as an escape. `keep_lines` keeps line
    breaks and tabs (for multi-line detail text); otherwise they are escaped too (one-line cells)."""
    if text.isprintable():
        return text
    kept = _KEPT_IN_BLOCKS if keep_lines else frozenset()
    return "".join(c if c.isprintable() or c in kept else _escape(c) for c in text)


_MARKDOWN_SPECIAL = re.compile(r"[\\`*\[\]<>|~]|^#|^[+-](?=\s|$)|(?<=^\d)\.(?=\s|$)|(?<=^\d\d)\.(?=\s|$)")


def markdown_cell(value: object) -> str:
    """One line of Markdown text that renders as the value's visible characters: emphasis, code,
    links, inline HTML, table pipes and a leading heading/quote/list marker backslash-escaped,
    line breaks escaped. (Underscores stay: GitHub does not emphasise inside words.)"""
    return _MARKDOWN_SPECIAL.sub(lambda m: "\\" + m.group(), visible(str(value)).lstrip())


def markdown_code(value: object) -> str:
    """An inline code span holding the value exactly (visible), fenced by more backticks than
    it contains; pipes still escaped, since GitHub splits table cells before code spans."""
    text = visible(str(value))
    fence = "`" * (max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text.replace('|', chr(92) + '|')}{pad}{fence}"


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A spreadsheet cell that is never a formula (OWASP CSV injection: a leading `= + - @`, tab
    or CR gets a `'`), and shows hidden characters as escapes. Numbers stay numbers."""
    if not isinstance(value, str):
        return value
    prefixed = "'" + value if value.startswith(_FORMULA_START) else value
    return visible(prefixed)


class VisibleStream:
    """A text stream (stderr) whose writes show hidden characters as escapes; `raw` is the stream
    itself, for the one writer that draws with escape sequences on purpose (the progress bar)."""

    def __init__(self, raw: TextIO) -> None:
        self.raw = raw

    def write(self, text: str) -> int:
        self.raw.write(visible(text, keep_lines=True))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


def raw_stderr() -> TextIO:
    """The real stderr under a `VisibleStream`."""
    return getattr(sys.stderr, "raw", sys.stderr)
