"""Find the line of an offending field in a manifest, for SARIF regions.

Done lazily, only for failing findings of manifest scans: the document is re-read and
composed (YAML nodes keep their positions), then the evidence path is walked —
`spec.template.spec.containers[app].securityContext.privileged`, where `[app]` picks the
list item named `app`. When the field itself is absent (e.g. a missing securityContext),
the deepest part that exists is the line to look at.
"""

from __future__ import annotations

import re
from functools import lru_cache

import yaml

from kspm_tui.yamlio import split_documents

_PART = re.compile(r"([^.\[\]]+)|\[([^\]]*)\]")
try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:
    _Loader = yaml.SafeLoader


@lru_cache(maxsize=64)
def _documents(file: str) -> dict[int, tuple[int, str]]:
    try:
        text = open(file, encoding="utf-8-sig").read()  # noqa: SIM115 - small, read once
    except (OSError, UnicodeDecodeError):
        return {}
    return {doc.index: (doc.line, doc.text) for doc in split_documents(text)}


@lru_cache(maxsize=512)
def _node(file: str, document: int) -> tuple[int, yaml.Node | None]:
    line, text = _documents(file).get(document, (0, ""))
    try:
        return line, yaml.compose(text, Loader=_Loader) if text else None
    except yaml.YAMLError:
        return line, None


def _child(node: yaml.Node, key: str, bracket: bool) -> tuple[yaml.Node, int] | None:
    """(child node, line of its key/item) for a mapping key, list index, or list item by name."""
    if isinstance(node, yaml.MappingNode) and not bracket:
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return v, k.start_mark.line
    if isinstance(node, yaml.SequenceNode) and bracket:
        if key.isdigit():
            items = node.value
            return (items[int(key)], items[int(key)].start_mark.line) if int(key) < len(items) else None
        for item in node.value:
            if isinstance(item, yaml.MappingNode) and any(
                    isinstance(k, yaml.ScalarNode) and k.value == "name" and getattr(v, "value", None) == key
                    for k, v in item.value):
                return item, item.start_mark.line
    return None


def field_line(file: str, document: int, path: str) -> int | None:
    """1-based line of `path` (or its deepest existing parent) in document `document` of `file`."""
    start, node = _node(file, document)
    if node is None:
        return None
    line = node.start_mark.line
    for name, key in ((m.group(1), m.group(2)) for m in _PART.finditer(path)):
        if key == "*":
            break
        found = _child(node, key if name is None else name, name is None)
        if found is None:
            break
        node, line = found
    return start + line
