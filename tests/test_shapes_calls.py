"""Which call a variable is the argument of, found by walking back from it (engine/shapes.py):
`has()` reads presence only, the narrowing helpers their literal paths, and a method of the
same name (`x.has(...)`, `x.deletePatch(...)`) is no global function, so it keeps the value whole."""

from __future__ import annotations

from typing import Any

import pytest

from kspm_tui.engine.shapes import reads


@pytest.mark.parametrize(("source", "expected"), [
    ("has(podSpec.hostPID)", {"hostPID": {}}),
    ("has (\n  podSpec.hostPID )", {"hostPID": {}}),  # blanks and a newline between
    ("!has(podSpec.hostPID)", {"hostPID": {}}),
    ("x.has(podSpec.hostPID)", {"hostPID": None}),  # a method, not the macro
    ("rehas(podSpec.hostPID)", {"hostPID": None}),  # another function whose name ends in has
    ("has_(podSpec.hostPID)", {"hostPID": None}),
    ("f(has, podSpec.hostPID)", {"hostPID": None}),  # not directly after the parenthesis
    ("deletePatch( podSpec , ['hostIPC'])", {"hostIPC": None}),
    ("x.deletePatch(podSpec, ['hostIPC'])", None),  # a method: the value whole
    ("podSpec.hostPID || has(podSpec.hostNetwork)", {"hostPID": None, "hostNetwork": {}}),
    ("(podSpec.hostPID)", {"hostPID": None}),  # a bare parenthesis opens no call
])
def test_the_call_around_a_variable(source: str, expected: Any) -> None:
    assert reads([source], ["podSpec"]) == {"podSpec": expected}


def test_a_long_rule_reads_the_same_whatever_precedes_each_use() -> None:
    """Many uses after long text: each is judged by what is right before it alone."""
    uses = [f"has(podSpec.f{i})" if i % 2 else f"size(podSpec.f{i}) > 0" for i in range(200)]
    shape = reads([" && ".join(uses)], ["podSpec"])["podSpec"]
    assert shape == {f"f{i}": {} if i % 2 else None for i in range(200)}
