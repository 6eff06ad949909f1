"""The one place that turns YAML/JSON text into Python objects (and back).

Uses the libyaml C loader when PyYAML was built with it (10× the pure-Python speed) and
orjson for JSON. Multi-document streams are split on `---` lines *before* parsing, so one
malformed document cannot stop the others from being read, and every document knows its
index and first line.
"""

from __future__ import annotations

import io
import re
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
_INTERN_MAX = 32  # short values repeat (`TCP`, `IfNotPresent`); long ones (uids) rarely do
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
            return super().construct_document(node)

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
                key = self._scalar(key_node)
                if key.__class__ is str:
                    key = sys.intern(key)
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
            return sys.intern(value) if len(value) <= _INTERN_MAX else value
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


_DOC_START = re.compile(r"^---(?=[ \t\r\n#]|$)", re.MULTILINE)
_BLANK = re.compile(r"^\s*(?:#.*)?$")


@dataclass(slots=True)
class RawDocument:
    """One document of a stream: its text, index in the stream and first line (1-based)."""

    index: int
    line: int
    text: str


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
        return yaml.load(doc.text, Loader=_Loader)  # noqa: S506 - safe loader
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
