"""Which parts of a variable a rule's CEL reads, and values cut down to just those parts.

The `cel` package converts every node of a Python value into a CEL value (about 1 µs a node),
and its list macros (`all`, `exists`, `map`, ...) cost in proportion to the size of each
element they visit. A pod template is thousands of nodes, of which the rules read a few dozen
(`podSpec.securityContext`, each container's `securityContext` and `name`), so each variable
is converted cut down to the shape its rules read.

A shape is found from the expression text alone, conservatively: only plain field selection
(`podSpec.securityContext.runAsUser`, also inside `has()`), list macros over a selected list
(`allContainers.all(c, has(c.securityContext))`: each element cut to what the body reads of
`c`) and the helpers in HELPER_ARGUMENTS narrow it; any other use — indexing, `.?field`, a
method or function call, the variable on its own — keeps that value whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Union

# None: the whole value. A dict: only these fields (each with its own shape). Items: each
# element of a list cut to a shape (a map — whose macro variables are its keys — stays whole).
Shape = Union[None, "Items", dict[str, "Shape"]]


@dataclass(frozen=True, slots=True)
class Items:
    of: Shape


MACROS = frozenset({"all", "exists", "exists_one", "existsOne", "map", "filter"})

_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_SELECT = re.compile(r"\s*\.\s*([A-Za-z_]\w*)")
_OPEN = re.compile(r"\s*\(")
_CLOSE = re.compile(r"\s*\)")
_MACRO_VARIABLE = re.compile(r"\s*([A-Za-z_]\w*)\s*,")
_LITERAL_LIST = re.compile(r"\s*,\s*\[\s*(?:(?:'\s*'|\"\s*\")\s*,?\s*)*\]\s*$")
_UNUSED = object()


@dataclass(frozen=True, slots=True)
class _Source:
    """A CEL source and the same text with string literals blanked (offsets unchanged)."""

    original: str
    code: str

    @classmethod
    def of(cls, source: str) -> _Source:
        blank = _STRING.sub(lambda m: m.group()[0] + " " * (len(m.group()) - 2) + m.group()[0], source)
        return cls(source, blank)

    def literals(self, start: int, end: int) -> list[str]:
        return [self.original[m.start() + 1:m.end() - 1] for m in _STRING.finditer(self.code, start, end)]


def _paths_shape(paths: list[str]) -> Shape:
    shape: Shape = {}
    for path in paths:
        nested: Shape = None
        for key in reversed(path.split(".")):
            nested = {key: nested}
        shape = merge(shape, nested)
    return shape


def _pod_spec_patch(src: _Source, args_end: int, close: int) -> Shape:
    """podSpecPatch(podSpec, ...) only looks up which container list holds each name."""
    return {key: Items({"name": None}) for key in ("initContainers", "containers", "ephemeralContainers")}


def _delete_patch(src: _Source, args_end: int, close: int) -> Shape:
    """deletePatch(obj, ['a.b', ...]) reads only those paths, when they are literals."""
    if not _LITERAL_LIST.match(src.code[args_end:close]):
        return None
    return _paths_shape(src.literals(args_end, close))


# Helpers that read only part of their first argument: the shape, from the call's text.
HELPER_ARGUMENTS: dict[str, Callable[[_Source, int, int], Shape]] = {
    "podSpecPatch": _pod_spec_patch,
    "deletePatch": _delete_patch,
}


def reads(sources: list[str], names: Iterable[str]) -> dict[str, Shape]:
    """What `sources` read of each variable in `names` (variables they do not use are left out)."""
    parsed = [_Source.of(source) for source in sources]
    out: dict[str, Shape] = {}
    for name in names:
        shape: Shape | object = _UNUSED
        for src in parsed:
            shape = _union(shape, _shape_in(src, name, 0, len(src.code)))
        if shape is not _UNUSED:
            out[name] = shape  # type: ignore[assignment]
    return out


def merge_reads(all_reads: Iterable[dict[str, Shape]]) -> dict[str, Shape]:
    """What several rules read, together."""
    merged: dict[str, Shape] = {}
    for one in all_reads:
        for name, shape in one.items():
            merged[name] = merge(merged[name], shape) if name in merged else shape
    return merged


def merge(a: Shape, b: Shape) -> Shape:
    if a is None or b is None:
        return None
    if a == {} or b == {}:  # only presence (`has()`): any shape keeps a field that is there
        return b if a == {} else a
    if isinstance(a, Items) and isinstance(b, Items):
        return Items(merge(a.of, b.of))
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for key, shape in b.items():
            out[key] = merge(out[key], shape) if key in out else shape
        return out
    return None  # read as a list in one place and as a map in another


def projector(shape: Shape) -> Callable[[Any], Any]:
    """A function cutting a value down to `shape`, without null-valued map entries (a new
    value; the input is not changed). Made once per shape: it runs for every object.

    Kubernetes treats `field: null` as unset (a manifest's empty `securityContext:`, a pod
    template's `creationTimestamp: null`), but CEL's `has()` is true for it, so every rule
    reading below it would fail to evaluate instead of seeing "not set".
    """
    if isinstance(shape, dict):
        fields = [(key, projector(sub)) for key, sub in shape.items()]

        def fields_of(value: Any) -> Any:
            if type(value) is not dict:
                return without_nulls(value)
            return {key: cut(v) for key, cut in fields if (v := value.get(key)) is not None}
        return fields_of
    if isinstance(shape, Items):
        cut_item = projector(shape.of)

        def items_of(value: Any) -> Any:
            return [cut_item(v) for v in value] if type(value) is list else without_nulls(value)
        return items_of
    return without_nulls


def without_nulls(value: Any) -> Any:
    """A copy without null-valued map entries (see `projector`)."""
    kind = type(value)
    if kind is dict:
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if kind is list:
        return [without_nulls(v) for v in value]
    return value


def _union(known: Shape | object, more: Shape | object) -> Shape | object:
    if known is _UNUSED:
        return more
    return known if more is _UNUSED else merge(known, more)  # type: ignore[arg-type]


def _shape_in(src: _Source, name: str, start: int, end: int) -> Shape | object:
    """What src.code[start:end] reads of `name`, or _UNUSED."""
    shape: Shape | object = _UNUSED
    for match in re.compile(rf"(?<![\w.]){re.escape(name)}\b").finditer(src.code, start, end):
        shape = _union(shape, _use(src, match.start(), match.end(), end))
        if shape is None:
            break
    return shape


def _use(src: _Source, start: int, pos: int, end: int) -> Shape:
    """The shape one occurrence of a variable (at start:pos) reads."""
    function, opening = _call_before(src.code, start)
    if function in HELPER_ARGUMENTS and re.match(r"\s*,", src.code[pos:end]):
        close = _closing(src.code, opening)
        if close > 0:
            return HELPER_ARGUMENTS[function](src, pos, close)
    return _chain(src, pos, end, presence=function == "has")


def _call_before(code: str, start: int) -> tuple[str, int]:
    """The global function whose argument list opens just before `start` (only blanks between)
    and the index of its "(", or ("", -1); a method (`x.has(`) is no global function. Walks
    back from `start`: a regex anchored there would scan the whole text before it, for every
    occurrence of every variable."""
    i = start
    while i and code[i - 1].isspace():
        i -= 1
    if not i or code[i - 1] != "(":
        return "", -1
    opening = end = i - 1
    while end and code[end - 1].isspace():
        end -= 1
    begin = end
    while begin and (code[begin - 1].isalnum() or code[begin - 1] == "_"):
        begin -= 1
    if begin and code[begin - 1] == ".":
        return "", -1
    return code[begin:end], opening


def _chain(src: _Source, pos: int, end: int, presence: bool = False) -> Shape:
    """The shape read by the selections and macros that follow position `pos`.

    `presence`: the chain is the argument of `has()`, which reads whether its last field is
    there, not its value (`has(c.livenessProbe)` needs no probe details).
    """
    text = src.code
    select = _SELECT.match(text, pos, end)
    if select is None:
        return {} if presence and _CLOSE.match(text, pos, end) else None
    opening = _OPEN.match(text, select.end(), end)
    if opening is None:
        return {select.group(1): _chain(src, select.end(), end, presence)}
    if select.group(1) not in MACROS:
        return None  # a method on the value: it is used whole
    close = _closing(text, opening.end() - 1)
    variable = _MACRO_VARIABLE.match(text, opening.end(), max(close, 0))
    if variable is None or _MACRO_VARIABLE.match(text, variable.end(), close):
        return None  # unbalanced, or a two-variable macro (`all(i, v, ...)`): keep it whole
    body = _shape_in(src, variable.group(1), variable.end(), close)
    elements = Items({} if body is _UNUSED else body)  # type: ignore[arg-type]
    if select.group(1) == "filter":  # the result holds the same elements: follow its use too
        return merge(elements, _chain(src, close + 1, end))
    return elements


def _closing(text: str, opening: int) -> int:
    """The index of the bracket closing the one at `opening` (-1 if unbalanced)."""
    depth = 0
    for i in range(opening, len(text)):
        if text[i] in "([{":
            depth += 1
        elif text[i] in ")]}":
            depth -= 1
            if depth == 0:
                return i
    return -1
