"""Manifests from files, directories and stdin: YAML streams, JSON, `kind: List` wrappers.

Bad input never stops a scan: each problem becomes an `InputError` naming the file,
document (1-based) and line, and every other document is still read. Input is bounded:
only regular files are opened (a FIFO or `/dev/zero` would hang or grow without end), and
no file or stdin is read past `max_bytes`.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from kspm_tui.kinds import check_kind
from kspm_tui.model import InputError, SourceRef
from kspm_tui.perf import paused_gc
from kspm_tui.sources import Collected, SourcedObject
from kspm_tui.sources.parse_cache import Document, ParseCache
from kspm_tui.sources.render import Renderable, render, walk
from kspm_tui.yamlio import ParseFailure, split_documents
from kspm_tui.yamlnative import load_document

SUFFIXES = frozenset({".yaml", ".yml", ".json"})
STDIN = "-"
DEFAULT_MAX_FILE_SIZE = 128 * 1024**2  # `--max-file-size`: far above any real manifest set
_UNITS = {"": 1, "k": 1000, "m": 1000**2, "g": 1000**3, "ki": 1024, "mi": 1024**2, "gi": 1024**3}
_FILE_TYPES = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
               (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def parse_size(text: str) -> int:
    """`64MiB`, `500M`, `1Gi`, `1048576`: bytes, with Kubernetes-quantity and IEC suffixes."""
    number = text.strip().rstrip("Bb")
    digits = number.rstrip("KkMmGgIi")
    unit = number[len(digits):].lower()
    if not digits.isdigit() or unit not in _UNITS:
        raise ValueError(f"invalid size {text!r}: use bytes or a suffix such as 64MiB, 500M, 1Gi")
    return int(digits) * _UNITS[unit]


def format_size(size: int) -> str:
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"


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


# Called with what each file (chart, kustomization, stdin) added, its number and how many there are.
FileRead = Callable[[Collected, int, int], None]


def read_paths(paths: Iterable[str], max_bytes: int = DEFAULT_MAX_FILE_SIZE,
               cache: ParseCache | None = None, on_file: FileRead | None = None) -> Collected:
    """Read every manifest under `paths` ("-" is stdin), none past `max_bytes`; YAML already
    parsed once is taken from `cache` when given; `on_file` sees each file's objects as soon as
    it is read (the explorer lists them before the rest is read)."""
    with paused_gc():
        result = _read_paths(paths, max_bytes, cache, on_file)
    if cache is not None:
        cache.trim()
    return result


def _read_paths(paths: Iterable[str], max_bytes: int, cache: ParseCache | None,
                on_file: FileRead | None) -> Collected:
    result = Collected(manifests=True)
    items = list(iter_manifest_files(paths))
    for done, item in enumerate(items, 1):
        piece = _read_item(item, max_bytes, cache)
        result.extend(piece)
        if on_file is not None:
            on_file(piece, done, len(items))
    return result


def _read_item(item: Path | str | Renderable, max_bytes: int, cache: ParseCache | None) -> Collected:
    if isinstance(item, Renderable):
        return render(item)
    name = "<stdin>" if item == STDIN else str(item)
    try:
        data = _read_stdin(max_bytes) if item == STDIN else _read_file(Path(item), max_bytes)
    except _Refused as exc:
        return Collected(errors=[InputError(file=name, message=str(exc))])
    except OSError as exc:
        return Collected(errors=[InputError(file=name, message=f"cannot read: {exc.strerror or exc}")])
    return read_text(data, name, cache)


class _Refused(Exception):
    """An input not read at all; str() says why and what to do instead."""


def _too_large(max_bytes: int) -> _Refused:
    return _Refused(f"larger than {format_size(max_bytes)}: not read (raise the limit with --max-file-size)")


def _read_file(path: Path, max_bytes: int) -> bytes:
    """A regular file's bytes, up to `max_bytes`.

    Opened non-blocking and checked on the open descriptor, so a FIFO without a writer
    cannot hang the scan and a file swapped for a device after a check is still caught.
    """
    _refuse_unless_regular(os.stat(path).st_mode)  # sockets cannot even be opened
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as handle:
        _refuse_unless_regular(os.fstat(fd).st_mode)
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _too_large(max_bytes)
    return data


def _refuse_unless_regular(mode: int) -> None:
    if not stat.S_ISREG(mode):
        what = next((label for test, label in _FILE_TYPES if test(mode)), "not a regular file")
        raise _Refused(f"{what}, not a regular file: not read (pipe a stream to `-` for stdin)")


def _read_stdin(max_bytes: int) -> bytes:
    data = sys.stdin.buffer.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _too_large(max_bytes)
    return data


def read_text(data: bytes, name: str, cache: ParseCache | None = None) -> Collected:
    """Parse one file's bytes: JSON if it looks like JSON, else a YAML stream (from `cache`
    when these bytes were parsed before)."""
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
    documents = cache.get(data) if cache is not None else None
    if documents is None:
        documents = parse_documents(text)
        if cache is not None:
            cache.put(data, documents)
    for doc in documents:
        if doc.error is not None:
            result.errors.append(InputError(file=name, document=doc.index, line=doc.line,
                                            message=f"invalid YAML: {doc.error}"))
            continue
        _add(result, doc.value, SourceRef(file=name, document=doc.index, line=doc.line))
    return result


def parse_documents(text: str) -> list[Document]:
    """Every document of a YAML stream, parsed (or its error), with the line a finding points at."""
    documents = []
    for doc in split_documents(text):
        parsed = load_document(doc)
        if isinstance(parsed, ParseFailure):
            documents.append(Document(doc.index, parsed.line, error=parsed.message))
        else:
            documents.append(Document(doc.index, doc.object_line, parsed))
    return documents


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
