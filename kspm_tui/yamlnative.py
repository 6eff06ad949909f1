"""Manifest documents parsed by the native `ryaml` loader wherever it provably reads them as
`yamlio` (kubectl's reading) does, and by `yamlio` everywhere else.

ryaml (Rust: serde_yaml over unsafe-libyaml, a port of the libyaml parser PyYAML's C loader
uses) builds a document several times faster than yamlio, but resolves plain scalars by YAML
1.2: `yes`/`on`/`y` stay strings, `0755`/`08`/`1_000` strings, `1e3` a float, `.inf` accepted,
`<<` an ordinary key, tags ignored, aliases expanded, duplicate keys refused. A security
scanner must read `privileged: yes` as kubectl does, so a document is taken from ryaml only
when nothing in it can read otherwise:

- a text pre-check sends a document holding anything that may be a tag (`!`), an anchor (`&`)
  or a directive (`%`) to yamlio unparsed;
- the walk that interns keys and short strings (as yamlio does, for memory) checks every
  value: a string ryaml built is kept only if kubectl reads that spelling as a string even
  when plain, or if ryaml itself would not have read it as a string when plain (so it was
  quoted: a string for both); a key only if kubectl reads it as a string; non-string keys and
  non-finite floats are refused; whole floats become integers as kubectl stores them;
- any ryaml error sends the document to yamlio, so errors and their lines are yamlio's.

Where the ryaml wheel is missing (a platform without one), every document goes to yamlio.
`tests/test_yamlnative.py` proves both readings equal, value and type, on every YAML file of
the tests and on generated documents full of the constructs where YAML 1.1 and 1.2 differ.
"""

from __future__ import annotations

import math
import sys
from typing import Any

from kspm_tui.yamlio import INTERN_MAX, ParseFailure, RawDocument, go_tag, load_document as load_exactly

try:
    import ryaml
except ImportError:  # no wheel for this platform: yamlio reads everything, just slower
    ryaml = None  # type: ignore[assignment]

_STR = "tag:yaml.org,2002:str"  # what go_tag gives a plain scalar kubectl reads as a string
_CACHE_MAX = 200_000  # as yamlio's resolve cache: distinct keys and short values remembered
_NUMERIC_START = frozenset("+-.0123456789")  # what a long string kubectl reads as a number starts with
# A tag (`!`), an anchor (`&`) or a directive (`%`) starts where a node or line may start:
# after whitespace (any line break libyaml knows included) or a flow indicator. Conservative:
# `if ! x` in a script matches too, and only costs that document the slow path.
_MARKS = "!&%"
_BEFORE_NODE = frozenset("[{,:\ufeff")


class NotNative(Exception):
    """A document ryaml cannot read, or might read otherwise than yamlio: yamlio reads it."""


_keys: dict[str, str] = {}  # key → the interned key, for keys kubectl reads as strings
_shorts: dict[str, str] = {}  # short value → the interned value, for values both read alike


def available() -> bool:
    """Whether the native loader is installed (else every document is read by yamlio)."""
    return ryaml is not None


def load_document(doc: RawDocument) -> Any | ParseFailure:
    """One document, as `yamlio.load_document` reads it: through ryaml when provably the same."""
    try:
        return read_natively(doc.text)
    except NotNative:
        return load_exactly(doc)


def read_natively(text: str) -> Any:
    """The document read by ryaml, checked and interned; NotNative where yamlio must read it."""
    if ryaml is None or _risky(text):
        raise NotNative
    try:
        value = ryaml.loads(text)
    except Exception as exc:  # noqa: BLE001 - whatever ryaml refuses, yamlio reads and reports
        raise NotNative from exc
    return _checked(value)


def _risky(text: str) -> bool:
    """Whether the text may hold a tag, an anchor or a directive (str.find: no regex per byte)."""
    for mark in _MARKS:
        at = text.find(mark)
        while at != -1:
            if at == 0 or text[at - 1].isspace() or text[at - 1] in _BEFORE_NODE:
                return True
            at = text.find(mark, at + 1)
    return False


def _checked(value: Any) -> Any:
    """A top-level value, checked and interned (documents are mappings; a scalar is possible)."""
    cls = value.__class__
    if cls is dict:
        return _mapping(value)
    if cls is list:
        return _sequence(value)
    return _scalar(value)


def _mapping(value: dict[Any, Any]) -> dict[str, Any]:
    """A new mapping (keys are interned as they go in), each value checked."""
    out: dict[str, Any] = {}
    keys_get, shorts_get = _keys.get, _shorts.get
    for key, item in value.items():
        interned = keys_get(key)
        if interned is None:
            interned = _new_key(key)
        cls = item.__class__
        if cls is str and len(item) <= INTERN_MAX:
            short = shorts_get(item)
            item = short if short is not None else _short(item)
        elif cls is dict:
            item = _mapping(item)
        elif cls is list:
            _sequence(item)
        elif not (cls is int or cls is bool or item is None):
            item = _scalar(item)
        out[interned] = item
    return out


def _sequence(value: list[Any]) -> list[Any]:
    """The same list, each item checked (and replaced by its interned or converted form)."""
    shorts_get = _shorts.get
    for index, item in enumerate(value):
        cls = item.__class__
        if cls is str and len(item) <= INTERN_MAX:
            short = shorts_get(item)
            value[index] = short if short is not None else _short(item)
        elif cls is dict:
            value[index] = _mapping(item)
        elif cls is list:
            _sequence(item)
        elif not (cls is int or cls is bool or item is None):
            value[index] = _scalar(item)
    return value


def _scalar(value: Any) -> Any:
    """A scalar other than an int, bool or null (which both loaders read alike)."""
    cls = value.__class__
    if cls is str:
        if len(value) <= INTERN_MAX:
            short = _shorts.get(value)
            return short if short is not None else _short(value)
        if value[0] in _NUMERIC_START and not _same_reading(value):
            raise NotNative
        return value
    if cls is float:
        if not math.isfinite(value):
            raise NotNative  # kubectl refuses it: yamlio says so, with the line
        return int(value) if value.is_integer() and abs(value) < 2**63 else value
    if cls is int or cls is bool or value is None:
        return value
    raise NotNative


def _new_key(key: Any) -> str:
    if key.__class__ is not str or go_tag(key) != _STR:
        raise NotNative  # `1:`, `on:`, `<<:`, `"": ` — kubectl's key rules are yamlio's
    interned = sys.intern(key)
    if len(_keys) < _CACHE_MAX:
        _keys[interned] = interned
    return interned


def _short(value: str) -> str:
    if not _same_reading(value):
        raise NotNative
    interned = sys.intern(value)
    if len(_shorts) < _CACHE_MAX:
        _shorts[interned] = interned
    return interned


def _same_reading(value: str) -> bool:
    """True when a string ryaml built is a string for kubectl too, however it was written:
    kubectl reads it as a string even plain, or ryaml reads it plain as something else (so it
    was quoted here, and quoted it is a string for both)."""
    if go_tag(value) == _STR:
        return True
    try:
        return ryaml.loads(value).__class__ is not str
    except Exception:  # noqa: BLE001 - not a plain scalar ryaml reads: undecided, so yamlio
        return False
