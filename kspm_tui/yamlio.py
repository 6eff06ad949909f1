"""The one place that turns YAML/JSON text into Python objects (and back).

Uses the libyaml C loader when PyYAML was built with it (10× the pure-Python speed) and
orjson for JSON. Multi-document streams are split on `---` lines *before* parsing, so one
malformed document cannot stop the others from being read, and every document knows its
index and first line.
"""

from __future__ import annotations

import io
import math
import re
import struct
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import orjson
import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

try:
    _BaseLoader: type = yaml.CSafeLoader
    _Dumper: type = yaml.CSafeDumper
except AttributeError:  # PyYAML without libyaml: correct, just slower
    _BaseLoader = yaml.SafeLoader
    _Dumper = yaml.SafeDumper

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_FLOAT = "tag:yaml.org,2002:float"
INTERN_MAX = 32  # short values repeat (`TCP`, `IfNotPresent`); long ones (uids) rarely do
_RESOLVE_CACHE_MAX = 200_000
# Alias bounds ("billion laughs"): a document may reuse nodes through aliases, but what it
# expands to when written out (hashing, JSON, the explorer's YAML) must stay near its own size.
MAX_ALIASES = 10_000  # alias references in one document
MAX_EXPANSION = 10_000_000  # expanded weight (≈ characters) allowed whatever the document's size ...
EXPANSION_RATIO = 10  # ... or this many times its own weight, whichever is larger


class AliasLimitError(yaml.YAMLError):
    """A document whose aliases expand past the bounds, or refer to themselves."""

    def __init__(self, problem: str, node: Node) -> None:
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = node.start_mark


class _Fallback(Exception):
    """The fast constructor met something it leaves to PyYAML (tags, merge keys, timestamps)."""


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """The libyaml safe loader with a lean constructor for what manifests are made of.

    PyYAML's parser is C, but resolving and constructing every scalar runs generic Python
    (regexes per scalar, generators per mapping): most of the load time. Here plain scalars'
    tags are cached by value, and documents made of str/int/bool/null/float, mappings and
    sequences are built directly. Anything else (explicit tags, merge keys, timestamps,
    binary, sets) falls back to PyYAML's own constructor for the whole document, so the
    result is always what `yaml.CSafeLoader` gives. Mapping keys and short strings are
    interned: 40k objects repeat the same few hundred keys, and sharing them saves memory.
    """

    _resolved: ClassVar[dict[str, str]] = {}  # plain scalar → tag, shared by every load

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        # Aliases need an anchor (`&`) and a reference (`*`): text without both skips the check.
        self._anchored = not isinstance(stream, str) or ("&" in stream and "*" in stream)

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode and not self.yaml_path_resolvers:
            if not implicit[0]:
                return _STR
            tag = self._resolved.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(self._resolved) < _RESOLVE_CACHE_MAX:
                    self._resolved[value] = tag
            return tag
        return super().resolve(kind, value, implicit)

    def construct_document(self, node: Node) -> Any:
        if self._anchored:
            check_aliases(node)
        try:
            return self._build(node, {})
        except (_Fallback, RecursionError):
            return self._construct_slowly(node)

    def _construct_slowly(self, node: Node) -> Any:
        return super().construct_document(node)

    def _key(self, node: ScalarNode) -> Any:
        return self._scalar(node)

    def _build(self, node: Node, memo: dict[int, Any]) -> Any:
        cls = node.__class__
        if cls is ScalarNode:
            return self._scalar(node)
        built = memo.get(id(node))
        if built is not None:  # an alias: the same object, as PyYAML gives it
            return built
        if cls is MappingNode:
            if node.tag != _MAP:
                raise _Fallback
            mapping: dict[Any, Any] = {}
            memo[id(node)] = mapping
            for key_node, value_node in node.value:
                if key_node.__class__ is not ScalarNode or key_node.tag not in (_STR, _INT, _BOOL, _NULL):
                    raise _Fallback  # merge keys, complex keys: PyYAML's rules and errors
                key = sys.intern(key_node.value) if key_node.tag == _STR else self._key(key_node)
                mapping[key] = self._build(value_node, memo)
            return mapping
        if cls is SequenceNode and node.tag == _SEQ:
            items: list[Any] = []
            memo[id(node)] = items
            items.extend(self._build(item, memo) for item in node.value)
            return items
        raise _Fallback

    def _scalar(self, node: ScalarNode) -> Any:
        tag, value = node.tag, node.value
        if tag == _STR:
            return sys.intern(value) if len(value) <= INTERN_MAX else value
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return self.bool_values[value.lower()]
        if tag == _INT:
            if value.isascii() and value.isdigit() and (value[0] != "0" or len(value) == 1):
                return int(value)
            return self.construct_yaml_int(node)
        if tag == _FLOAT:
            return self.construct_yaml_float(node)
        raise _Fallback


def check_aliases(root: Node) -> None:
    """Refuse a node graph whose aliases would expand past the bounds or refer to themselves.

    Weighs, without building anything, what the document becomes once every alias is written
    out in full (a scalar weighs its length, a collection one plus its items): linear in the
    distinct nodes however large the expansion.
    """
    weights: dict[int, int] = {}  # id(node) → expanded weight; -1 while its items are walked
    distinct = aliases = 0
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, walked = stack.pop()
        if walked:
            weights[id(node)] = 1 + sum(weights[id(item)] for item in _items(node))
            distinct += 1
            continue
        seen = weights.get(id(node))
        if seen == -1:
            raise AliasLimitError("an alias refers to a node that contains it (recursive YAML)", node)
        if seen is not None:
            aliases += 1
            if aliases > MAX_ALIASES:
                raise AliasLimitError(f"more than {MAX_ALIASES:,} aliases in one document", node)
            continue
        if node.__class__ is ScalarNode:
            weights[id(node)] = 1 + len(node.value)
            distinct += weights[id(node)]
            continue
        weights[id(node)] = -1
        stack.append((node, True))
        stack.extend((item, False) for item in reversed(_items(node)))
    expanded, limit = weights[id(root)], max(MAX_EXPANSION, EXPANSION_RATIO * distinct)
    if expanded > limit:
        raise AliasLimitError(f"aliases expand the document {expanded // max(distinct, 1):,}-fold, to "
                              f"{expanded:,} characters (limit {limit:,}): refused as an alias bomb", root)


def _items(node: Node) -> list[Node]:
    """A collection node's children: a sequence's items, a mapping's keys and values."""
    return node.value if node.__class__ is SequenceNode else [n for pair in node.value for n in pair]


class _KubectlLoader(_Loader):
    """Manifests read the way `kubectl` reads them: go-yaml v2 (YAML 1.1) via sigs.k8s.io/yaml.

    kubectl resolves plain scalars with go-yaml v2's table, not PyYAML's: `y`/`n`/`yes`/`on`/`off`
    are booleans, `0755`/`0o17`/`0x1F`/`0b101`/`1_000` integers, `1e3` a number, `1:20` and
    timestamps stay strings, `=` is a string (libyaml's `value` tag is not a type). Then
    sigs.k8s.io/yaml turns the result into JSON: mapping keys become strings (`on:` → `"true"`, `1:` → `"1"`),
    a null or complex key, `.inf` and `.nan` are errors, and a whole-number float is a JSON
    integer (what the API server stores). `tests/test_yaml_kubectl.py` proves it against kubectl.
    """

    _resolved: ClassVar[dict[str, str]] = {}

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode and implicit[0]:
            tag = self._resolved.get(value)
            if tag is None:
                tag = go_tag(value)
                if len(self._resolved) < _RESOLVE_CACHE_MAX:
                    self._resolved[value] = tag
            return tag
        return super().resolve(kind, value, implicit)

    def _scalar(self, node: ScalarNode) -> Any:
        tag, value = node.tag, node.value
        if tag == _BOOL:
            return value in _GO_TRUE
        if tag == _INT:
            if not _GO_INT.match(value.replace("_", "")):  # `!!int yes`: kubectl cannot decode it either
                raise yaml.constructor.ConstructorError(
                    None, None, f"{value!r} is not an integer", node.start_mark)
            return _go_int(value)
        if tag == _FLOAT:
            if value not in _GO_SPECIAL_FLOAT and not _GO_FLOAT.match(value.replace("_", "")):
                raise yaml.constructor.ConstructorError(
                    None, None, f"{value!r} is not a number", node.start_mark)
            number = _go_float(value)
            if not math.isfinite(number):
                raise yaml.constructor.ConstructorError(
                    None, None, f"{value} has no JSON form (kubectl rejects it)", node.start_mark)
            return int(number) if number.is_integer() and abs(number) < 2**63 else number
        if tag == _TIMESTAMP:
            return value
        return super()._scalar(node)

    def _key(self, node: ScalarNode) -> str:
        return _go_key(self._scalar(node), node)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[str, Any]:
        """PyYAML's mapping (merge keys flattened), with keys made JSON strings as they are read."""
        self.flatten_mapping(node)
        return {_go_key(self.construct_object(key, deep=deep), key):
                self.construct_object(value, deep=deep) for key, value in node.value}


_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_GO_TRUE = frozenset("y Y yes Yes YES true True TRUE on On ON".split())
_GO_BOOL = _GO_TRUE | frozenset("n N no No NO false False FALSE off Off OFF".split())
_GO_NULL = frozenset(["", "~", "null", "Null", "NULL"])
_GO_SPECIAL_FLOAT = frozenset(
    f"{sign}.{word}" for sign in ("", "+", "-") for word in ("inf", "Inf", "INF")
) | {".nan", ".NaN", ".NAN"}
_GO_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_GO_INT = re.compile(r"^[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$")


def go_tag(value: str) -> str:
    """The tag go-yaml v2 gives a plain scalar (its `resolve`, for what JSON can hold)."""
    if value in _GO_BOOL:
        return _BOOL
    if value == "<<":
        return "tag:yaml.org,2002:merge"
    if value in _GO_NULL:
        return _NULL
    if value in _GO_SPECIAL_FLOAT:
        return _FLOAT
    first = value[0]
    if first == ".":
        return _FLOAT if _GO_FLOAT.match(value) else _STR
    if first not in "+-0123456789":
        return _STR
    plain = value.replace("_", "")
    if _GO_INT.match(plain) and -(2**63) <= _go_int(value) < 2**64:
        return _INT
    if _GO_FLOAT.match(plain):
        return _FLOAT
    return _STR


def _go_int(value: str) -> int:
    """Go's `strconv.ParseInt(s, 0, 64)` after go-yaml drops underscores: 0755 is octal."""
    plain = value.replace("_", "")
    sign = -1 if plain[0] == "-" else 1
    digits = plain.lstrip("+-")
    lower = digits[:2].lower()
    base = {"0x": 16, "0o": 8, "0b": 2}.get(lower)
    if base is not None:
        return sign * int(digits[2:], base)
    return sign * int(digits, 8 if len(digits) > 1 and digits[0] == "0" else 10)


def _go_float(value: str) -> float:
    if value in _GO_SPECIAL_FLOAT:
        return math.nan if "n" in value.lower() else (-math.inf if value[0] == "-" else math.inf)
    return float(value.replace("_", ""))


def _go_key(key: Any, node: Node) -> str:
    """A mapping key as sigs.k8s.io/yaml writes it into JSON (a float key as Go's `%g` of a float32)."""
    if key.__class__ is str:
        return key
    if key is True or key is False:
        return "true" if key else "false"
    if isinstance(key, int):
        return str(key)
    if isinstance(key, float):
        as32 = struct.unpack("f", struct.pack("f", key))[0]
        for digits in range(1, 10):
            text = f"{as32:.{digits}g}"
            if struct.unpack("f", struct.pack("f", float(text)))[0] == as32:
                return text.replace("e+0", "e+").replace("e-0", "e-")
    raise yaml.constructor.ConstructorError(
        None, None, f"unsupported map key {key!r} (kubectl rejects it)", node.start_mark)


for _tag in (_BOOL, _INT, _FLOAT, _TIMESTAMP):  # PyYAML's own constructor (merge keys, tags) agrees
    _KubectlLoader.add_constructor(_tag, lambda loader, node: loader._scalar(node))


_DOC_START = re.compile(r"^---(?=[ \t\r\n#]|$)", re.MULTILINE)
_BLANK = re.compile(r"^\s*(?:#.*)?$")


@dataclass(slots=True)
class RawDocument:
    """One document of a stream: its text, index in the stream and first line (1-based)."""

    index: int
    line: int
    text: str

    @property
    def object_line(self) -> int:
        """The line the object itself starts on: past a bare `---`, blank lines and comments
        (what a finding points at; `line` stays the chunk's start, for parse-error offsets)."""
        for offset, text in enumerate(io.StringIO(self.text)):
            if offset == 0 and text.startswith("---"):
                rest = text[3:].strip()
                if rest and not rest.startswith("#"):
                    return self.line
            elif not _BLANK.match(text) and text.strip() != "...":
                return self.line + offset
        return self.line


@dataclass(slots=True)
class ParseFailure:
    message: str
    line: int | None


def split_documents(text: str) -> Iterator[RawDocument]:
    """Yield the non-empty documents of a YAML stream, unparsed, numbered from 1.

    Each chunk keeps its own `---` line so the parser sees a normal document start and
    reported lines stay exact.
    """
    cuts = [m.start() for m in _DOC_START.finditer(text)]
    if not cuts or cuts[0] != 0:
        cuts.insert(0, 0)
    cuts.append(len(text))
    index = 0
    line = 1
    for begin, end in zip(cuts, cuts[1:]):
        chunk = text[begin:end]
        if not _is_blank(chunk):
            index += 1
            yield RawDocument(index, line, chunk)
        line += chunk.count("\n")


def _is_blank(chunk: str) -> bool:
    """True for a chunk holding only a separator, comments or whitespace.

    Reads lines lazily: a real document answers at its first line, however long it is.
    """
    lines = io.StringIO(chunk)
    first = lines.readline()
    if first.startswith("---"):
        head = first[3:].strip()
        if head and not head.startswith("#"):
            return False
    elif not (_BLANK.match(first) or first.strip() == "..."):
        return False
    return all(_BLANK.match(ln) or ln.strip() == "..." for ln in lines)


def load_document(doc: RawDocument) -> Any | ParseFailure:
    """Parse one document; a syntax error becomes a ParseFailure with an absolute line."""
    try:
        return yaml.load(doc.text, Loader=_KubectlLoader)  # noqa: S506 - safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = doc.line + mark.line if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return ParseFailure(str(problem), line)


def load_yaml(text: str) -> Any:
    """Parse a single-document YAML string (config, rule and theme files)."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506


def load_yaml_all(text: str) -> list[Any]:
    return list(yaml.load_all(text, Loader=_Loader))  # noqa: S506


def dump_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False)


class _KubectlDumper(_Dumper):
    """Strings styled as `kubectl get -o yaml` prints them (see `dump_kubectl_yaml`)."""


_RESOLVER = yaml.resolver.Resolver()
_STR_TAG = "tag:yaml.org,2002:str"
_TYPED = {f"tag:yaml.org,2002:{t}" for t in ("bool", "int", "float", "null", "timestamp")}


def _kubectl_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    """`|` for multi-line text, `"..."` for what would otherwise read back as another type
    (or is empty); anything else as the emitter sees fit (plain, or `'*'`), like go-yaml."""
    style = None
    if "\n" in value:
        style = "|"
    elif not value or _RESOLVER.resolve(yaml.ScalarNode, value, (True, False)) in _TYPED:
        style = '"'
    return dumper.represent_scalar(_STR_TAG, value, style=style)


_KubectlDumper.add_representer(str, _kubectl_str)


def dump_kubectl_yaml(data: Any) -> str:
    """YAML the way kubectl writes objects: keys sorted, `"..."` where a plain scalar would
    change type (`"true"`, `"3"`, timestamps), `|` blocks for multi-line strings."""
    return yaml.dump(data, Dumper=_KubectlDumper, sort_keys=True, default_flow_style=False)


def load_json(data: bytes | str) -> Any:
    return orjson.loads(data)


def dump_json(data: Any, *, indent: bool = False) -> bytes:
    option = orjson.OPT_INDENT_2 if indent else 0
    return orjson.dumps(data, option=option | orjson.OPT_NON_STR_KEYS)
