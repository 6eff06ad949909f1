"""Find the line of an offending field in a manifest, for SARIF regions.

Done lazily, only for failing findings of manifest scans: the document is re-read and
composed (YAML nodes keep their positions), then the evidence path is walked —
`spec.template.spec.containers[app].securityContext.privileged`, where `[app]` picks the
list item named `app`. When the field itself is absent (e.g. a missing securityContext),
the deepest part that exists is the line to look at. An object inside a `kind: List`
document is found among its `items` by kind, namespace and name.

`lines` answers for many findings at once, composing each document once and dropping it
before the next: a composed node tree is many times the size of its text, and a namespace's
`kubectl get -o yaml` List is one document of megabytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

import yaml

from kspm_tui.yamlio import split_documents

_PART = re.compile(r"([^.\[\]]+)|\[([^\]]*)\]")
try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:
    _Loader = yaml.SafeLoader


class Wanted(NamedTuple):
    """A field to locate: where the object was read, which object, and the evidence path."""

    file: str
    document: int
    kind: str
    namespace: str | None
    name: str
    path: str


@lru_cache(maxsize=8)
def _documents(file: str) -> dict[int, tuple[int, str]]:
    try:
        text = open(file, encoding="utf-8-sig").read()  # noqa: SIM115 - small, read once
    except (OSError, UnicodeDecodeError):
        return {}
    return {doc.index: (doc.line, doc.text) for doc in split_documents(text)}


def _compose(file: str, document: int) -> tuple[int, yaml.Node | None]:
    line, text = _documents(file).get(document, (0, ""))
    try:
        return line, yaml.compose(text, Loader=_Loader) if text else None
    except yaml.YAMLError:
        return line, None


_node = lru_cache(maxsize=8)(_compose)  # one finding at a time (`field_line`): its last few documents


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
    return None if node is None else _walk(start, node, path)


def lines(wanted: Iterable[Wanted]) -> list[int | None]:
    """`field_line` for each of `wanted` (in order), with objects inside `kind: List` documents
    found among the items; each document is composed once, and only one is held at a time."""
    todo = list(wanted)
    out: list[int | None] = [None] * len(todo)
    by_document: dict[tuple[str, int], list[int]] = {}
    for i, w in enumerate(todo):
        by_document.setdefault((w.file, w.document), []).append(i)
    for (file, document), positions in by_document.items():
        start, root = _compose(file, document)
        if root is None:
            continue
        items = _items(root)
        for i in positions:
            w = todo[i]
            node = root
            if items:  # the item of that namespace, else (a namespace given by `-n`) the one of that name
                candidates = items.get((w.kind, w.name), [])
                node = next((n for ns, n in candidates if ns == w.namespace), None) \
                    or next((n for _, n in candidates), root)
            out[i] = _walk(start, node, w.path)
    return out


def _items(root: yaml.Node) -> dict[tuple[str, str], list[tuple[str | None, yaml.Node]]]:
    """A List document's items by (kind, name), with their namespaces; empty for one object."""
    found = _child(root, "items", False)
    if found is None or not isinstance(found[0], yaml.SequenceNode):
        return {}
    out: dict[tuple[str, str], list[tuple[str | None, yaml.Node]]] = {}
    for item in found[0].value:
        kind, metadata = _scalar(item, "kind"), _child(item, "metadata", False)
        name = _scalar(metadata[0], "name") if metadata is not None else None
        if kind is not None and name is not None:
            assert metadata is not None
            out.setdefault((kind, name), []).append((_scalar(metadata[0], "namespace"), item))
    return out


def _scalar(node: yaml.Node, key: str) -> str | None:
    found = _child(node, key, False)
    return found[0].value if found is not None and isinstance(found[0], yaml.ScalarNode) else None


def _walk(start: int, node: yaml.Node, path: str) -> int:
    line = node.start_mark.line
    for name, key in ((m.group(1), m.group(2)) for m in _PART.finditer(path)):
        if key == "*":
            break
        found = _child(node, key if name is None else name, name is None)
        if found is None:
            break
        node, line = found
    return start + line
