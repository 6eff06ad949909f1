"""Filter-as-you-type: every space-separated term must appear in order (fuzzy subsequence)."""

from __future__ import annotations

import re
from collections.abc import Callable


def matcher(query: str) -> Callable[[str], bool]:
    """A predicate over lower-cased haystacks; compiled once per keystroke, C-speed per row."""
    terms = query.lower().split()
    if not terms:
        return lambda _: True
    patterns = [re.compile(".*?".join(map(re.escape, term))).search for term in terms]
    if len(patterns) == 1:
        only = patterns[0]
        return lambda hay: only(hay) is not None
    return lambda hay: all(p(hay) is not None for p in patterns)
