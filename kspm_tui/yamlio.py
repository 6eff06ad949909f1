"""The one place that turns YAML/JSON text into Python objects (and back).

Uses the libyaml C loader when PyYAML was built with it (10× the pure-Python speed) and
orjson for JSON. Multi-document streams are split on `---` lines *before* parsing, so one
malformed document cannot stop the others from being read, and every document knows its
index and first line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import yaml

try:
    _Loader: type = yaml.CSafeLoader
    _Dumper: type = yaml.CSafeDumper
except AttributeError:  # PyYAML without libyaml: correct, just slower
    _Loader = yaml.SafeLoader
    _Dumper = yaml.SafeDumper

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
    """True for a chunk holding only a separator, comments or whitespace."""
    lines = chunk.splitlines()
    if lines and lines[0].startswith("---"):
        head = lines[0][3:].strip()
        if head and not head.startswith("#"):
            return False
        lines = lines[1:]
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
