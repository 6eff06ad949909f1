"""Manifests from files, directories and stdin: YAML streams, JSON, `kind: List` wrappers.

Bad input never stops a scan: each problem becomes an `InputError` naming the file,
document (1-based) and line, and every other document is still read.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from kspm_tui.kinds import check_kind
from kspm_tui.model import InputError, SourceRef
from kspm_tui.perf import paused_gc
from kspm_tui.sources import Collected, SourcedObject
from kspm_tui.sources.render import Renderable, render, walk
from kspm_tui.yamlio import ParseFailure, load_document, split_documents

SUFFIXES = frozenset({".yaml", ".yml", ".json"})
STDIN = "-"


def iter_manifest_files(paths: Iterable[str]) -> Iterator[Path | str | Renderable]:
    """Expand directories recursively (sorted, so output order is stable); a Helm chart or a
    kustomization comes as one Renderable, not as its files."""
    for raw in paths:
        if raw == STDIN:
            yield STDIN
            continue
        path = Path(raw)
        if path.is_dir():
            yield from walk(path, SUFFIXES)
        else:
            yield path


def read_paths(paths: Iterable[str]) -> Collected:
    """Read every manifest under `paths` ("-" is stdin)."""
    with paused_gc():
        return _read_paths(paths)


def _read_paths(paths: Iterable[str]) -> Collected:
    result = Collected(manifests=True)
    for item in iter_manifest_files(paths):
        if item == STDIN:
            result.extend(read_text(sys.stdin.buffer.read(), "<stdin>"))
            continue
        if isinstance(item, Renderable):
            result.extend(render(item))
            continue
        assert isinstance(item, Path)
        try:
            data = item.read_bytes()
        except OSError as exc:
            result.errors.append(InputError(file=str(item), message=f"cannot read: {exc.strerror}"))
            continue
        result.extend(read_text(data, str(item)))
    return result


def read_text(data: bytes, name: str) -> Collected:
    """Parse one file's bytes: JSON if it looks like JSON, else a YAML stream."""
    result = Collected()
    if b"\x00" in data[:8192]:
        result.errors.append(InputError(file=name, message="binary file, not a YAML or JSON manifest"))
        return result
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        result.errors.append(
            InputError(file=name, message=f"not UTF-8 text (byte {exc.start}): not a manifest")
        )
        return result
    if not text.strip():
        result.errors.append(InputError(file=name, message="empty file: no Kubernetes objects"))
        return result
    if text.lstrip()[:1] in "{[":
        try:
            _add(result, orjson.loads(data), SourceRef(file=name, document=1, line=1))
            return result
        except orjson.JSONDecodeError:
            pass  # YAML flow style also starts with `{`; let the YAML parser judge
    for doc in split_documents(text):
        parsed = load_document(doc)
        if isinstance(parsed, ParseFailure):
            result.errors.append(
                InputError(file=name, document=doc.index, line=parsed.line,
                           message=f"invalid YAML: {parsed.message}")
            )
            continue
        _add(result, parsed, SourceRef(file=name, document=doc.index, line=doc.object_line))
    return result


def _add(result: Collected, parsed: Any, source: SourceRef) -> None:
    """Validate one parsed document and append its object(s); unwrap `*List` kinds.

    Every object of a document shares the document's one SourceRef (read-only), which for
    a 40k-item `kind: List` is 40k fewer models in memory.
    """
    def error(message: str) -> None:
        assert source.file is not None
        result.errors.append(InputError(file=source.file, document=source.document, line=source.line,
                                        message=message))

    if parsed is None:
        return
    if isinstance(parsed, list):  # a JSON array of objects
        for item in parsed:
            _add(result, item, source)
        return
    if not isinstance(parsed, dict):
        error(f"expected a Kubernetes object (a mapping), got {type(parsed).__name__}")
        return
    kind, api_version = parsed.get("kind"), parsed.get("apiVersion")
    if not isinstance(kind, str) or not kind:
        error("missing 'kind': not a Kubernetes object")
        return
    if not isinstance(api_version, str) or not api_version:
        error(f"{kind}: missing 'apiVersion'")
        return
    if kind == "List" or (kind.endswith("List") and isinstance(parsed.get("items"), list)):
        items = parsed.get("items") or []
        if not isinstance(items, list):
            error(f"{kind}: 'items' is not a list")
            return
        for item in items:
            if isinstance(item, dict) and "apiVersion" not in item and kind != "List":
                item = {"apiVersion": api_version, "kind": kind[: -len("List")], **item}
            _add(result, item, source)
        return
    if problem := check_kind(api_version, kind):
        error(problem)
        return
    meta = parsed.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str) or not meta["name"]:
        error(f"{kind}: missing metadata.name")
        return
    result.objects.append(SourcedObject(parsed, source))
