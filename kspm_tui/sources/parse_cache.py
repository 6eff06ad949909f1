"""Parsed manifests kept on disk by the hash of their bytes, so re-opening an unchanged folder
reads JSON instead of parsing YAML again.

The key is a digest of a file's bytes and of the parser itself (yamlio.py's and yamlnative.py's
source, PyYAML's and ryaml's versions, this format): a changed file, or a changed parser,
misses. An entry holds each document's index, line and parsed value (or its parse error); what
is done with them after (kinds checked, lists unwrapped, file names) runs on every read, so it
can never be stale.
Entries are written atomically; each starts with a digest of its payload, so a truncated or
corrupt entry is ignored (and rebuilt by the read that misses). The directory is bounded:
after a read that wrote entries, the least recently used are removed until it fits.
Lives under the user cache directory (`KSPM_TUI_CACHE_DIR` moves it); `--no-cache` skips it.
"""

from __future__ import annotations

import hashlib
from importlib import metadata
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml
from platformdirs import user_cache_path

from kspm_tui import yamlio, yamlnative
from kspm_tui.atomic_write import atomic_write
from kspm_tui.locations import APP
from kspm_tui.yamlio import INTERN_MAX

FORMAT = b"kspm-tui parse cache 1\n"
DEFAULT_MAX_BYTES = 512 * 1024**2
SUFFIX = ".parsed"
_DIGEST = 32  # blake2b bytes: the payload check
# orjson would write these as something else (a date as a string); raising instead keeps the
# entry out of the cache, so what is read back is always exactly what was parsed.
_EXACT = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATACLASS


@dataclass(slots=True)
class Document:
    """One parsed document of a stream: its index, line, and value or parse error."""

    index: int
    line: int | None  # the object's first line; for an error, where the parser stopped
    value: Any = None
    error: str | None = None


def cache_dir() -> Path:
    return Path(os.environ.get("KSPM_TUI_CACHE_DIR") or user_cache_path(APP)) / "parse"


def _parser_digest() -> bytes:
    """What parsing depends on besides the bytes: the loaders' code and versions (ryaml's, or
    its absence: without it every document is read by yamlio)."""
    digest = hashlib.blake2b(FORMAT + yaml.__version__.encode(), digest_size=16)
    for module in (yamlio, yamlnative):
        try:
            digest.update(Path(module.__file__).read_bytes())
        except OSError:
            pass
    digest.update(_version("ryaml").encode() if yamlnative.available() else b"no ryaml")
    return digest.digest()


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclass
class ParseCache:
    """The on-disk cache; `max_bytes` bounds the directory (least recently used go first)."""

    root: Path = field(default_factory=cache_dir)
    max_bytes: int = DEFAULT_MAX_BYTES
    written: int = 0  # entries written since the last trim
    _salt: bytes = field(default_factory=_parser_digest, repr=False)

    def key(self, data: bytes) -> str:
        return hashlib.blake2b(data, digest_size=20, key=self._salt).hexdigest()

    def get(self, data: bytes) -> list[Document] | None:
        """The documents cached for these bytes; None on a miss or an entry that fails its check."""
        path = self.root / (self.key(data) + SUFFIX)
        try:
            blob = path.read_bytes()
        except OSError:
            return None
        head = len(FORMAT) + _DIGEST
        payload = blob[head:]
        if blob[:len(FORMAT)] != FORMAT or hashlib.blake2b(payload, digest_size=_DIGEST).digest() != blob[len(FORMAT):head]:
            return None
        try:
            rows = orjson.loads(payload)
            documents = [Document(index, line, interned(value), error) for index, line, value, error in rows]
        except (orjson.JSONDecodeError, TypeError, ValueError):
            return None
        try:
            os.utime(path)  # recently used: trimmed last
        except OSError:
            pass
        return documents

    def put(self, data: bytes, documents: list[Document]) -> None:
        """Store the documents parsed from these bytes, unless JSON cannot hold them exactly
        (an explicit `!!binary` or `!!timestamp` value) or the directory cannot be written."""
        try:
            payload = orjson.dumps([(d.index, d.line, d.value, d.error) for d in documents], option=_EXACT)
        except (orjson.JSONEncodeError, TypeError):
            return
        blob = FORMAT + hashlib.blake2b(payload, digest_size=_DIGEST).digest() + payload
        try:
            atomic_write(self.root / (self.key(data) + SUFFIX), blob)
        except OSError:
            return
        self.written += 1

    def yaml_documents(self, path: Path) -> list[Any]:
        """A YAML file's documents (rule files): from the cache when these bytes were parsed
        before; a file that does not parse raises as `load_yaml_all` does and is never cached."""
        data = path.read_bytes()
        cached = self.get(data)
        if cached is not None:
            return [doc.value for doc in cached]
        documents = yamlio.load_yaml_all(data.decode("utf-8"))
        self.put(data, [Document(index, None, value) for index, value in enumerate(documents, 1)])
        return documents

    def trim(self) -> None:
        """Remove least recently used entries until the directory holds at most `max_bytes`."""
        if not self.written:
            return
        self.written = 0
        entries = []
        try:
            with os.scandir(self.root) as found:
                for entry in found:
                    if entry.name.endswith(SUFFIX) and entry.is_file(follow_symlinks=False):
                        stat = entry.stat(follow_symlinks=False)
                        entries.append((stat.st_mtime, stat.st_size, entry.path))
        except OSError:
            return
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):
            if total <= self.max_bytes:
                break
            try:
                os.unlink(path)
            except OSError:
                continue
            total -= size


def interned(value: Any) -> Any:
    """Short strings shared as the YAML loader shares them (memory, not meaning), in place:
    orjson already shares the keys, and rebuilding every dict would briefly hold two copies.
    Also used on live list pages (sources/live.py), which orjson parses the same way."""
    if value.__class__ is str:
        return sys.intern(value) if len(value) <= INTERN_MAX else value
    if value.__class__ not in (dict, list):
        return value
    intern = sys.intern
    stack = [value]
    while stack:
        node = stack.pop()
        for key, item in (node.items() if node.__class__ is dict else enumerate(node)):
            cls = item.__class__
            if cls is str:
                if len(item) <= INTERN_MAX:
                    node[key] = intern(item)
            elif cls is dict or cls is list:
                stack.append(item)
    return value
