"""Scan history: every scan saved per target in the user data dir, for drift and score trends.

Layout: `<data dir>/history/<target>/<UTC start time>-<random>.json.gz`, one gzip'd JSON
`ScanRecord` per scan (version 2: findings as rows of `COLUMNS`, each rule's title and category
once in `ruleText`; version 1 records, a dict per finding, are still read), and `index.json`, a cache of their headers (score, counts) so listings
and the score trend do not decompress every scan. A target is the cluster id (UID of kube-system, stable across context
renames) or, for manifest scans, a stable id of the scanned paths, so re-scanning the same
folder builds its history too. Writes are atomic (temp file + rename); retention keeps the
newest `Config.history_keep` records per target; a corrupted or truncated record is reported
and skipped, never fatal.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import secrets
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from operator import attrgetter
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, model_validator

from kspm_tui.atomic_write import atomic_write
from kspm_tui.locations import data_dir
from kspm_tui.model import (
    ON_USE,
    Category,
    ClusterInfo,
    Finding,
    Inventory,
    ScanResult,
    Severity,
    Status,
    Summary,
)
from kspm_tui.yamlio import dump_json, load_json

RECORD_VERSION = 2
# A finding's row in a version-2 record; title and category are the rule's, kept once per rule.
COLUMNS = ("fingerprint", "rule", "severity", "status", "kind", "namespace", "name", "container", "message")
_ROWS_PER_CHUNK = 2000
SUFFIX = ".json.gz"
INDEX = "index.json"
_STAMP = "%Y%m%dT%H%M%S.%fZ"
_NAME = re.compile(r"^(\d{8}T\d{6}\.\d{6}Z)-[0-9a-f]+\.json\.gz$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class FindingRecord(BaseModel):
    """The part of a finding drift needs; the full finding is in the JSON report."""

    model_config = ON_USE  # built when a record is read back (`diff`, `history`)

    fingerprint: str
    rule: str
    title: str
    severity: Severity
    status: Status
    category: Category
    kind: str
    namespace: str | None = None
    name: str
    container: str | None = None
    message: str = ""

    @classmethod
    def of(cls, finding: Finding) -> FindingRecord:
        """The finding's fields, shared not copied (they are already of their types)."""
        return cls.model_construct(**{name: getattr(finding, name) for name in cls.model_fields})


class ScanHeader(BaseModel):
    """A record without its findings: enough for listings and the score trend, fast to read."""

    version: int = RECORD_VERSION
    target: str
    label: str = Field(default="", description="what was scanned, for people (paths or context)")
    cluster: ClusterInfo
    started: datetime
    summary: Summary


class ScanRecord(ScanHeader):
    model_config = ON_USE

    rules: list[str] = Field(default_factory=list, description="rule ids evaluated in this scan")
    findings: list[FindingRecord] = Field(default_factory=list)
    inventory: Inventory = Field(default_factory=Inventory)

    @classmethod
    def of(cls, result: ScanResult, target: str, label: str = "") -> ScanRecord:
        return cls(target=target, label=label or result.cluster.context or result.cluster.name,
                   cluster=result.cluster, started=result.started, summary=result.summary,
                   rules=_rules_of(result), findings=[FindingRecord.of(f) for f in result.findings],
                   inventory=result.inventory)

    @model_validator(mode="before")
    @classmethod
    def _from_rows(cls, data: Any) -> Any:
        """A version-2 record's rows back into findings (title and category from `ruleText`)."""
        if not isinstance(data, dict) or not isinstance(data.get("columns"), list):
            return data
        columns, text = data["columns"], data.get("ruleText") or {}
        findings = []
        for row in data.get("findings") or ():
            finding = dict(zip(columns, row, strict=False)) if isinstance(row, list) else row
            if isinstance(finding, dict):
                finding = {**(text.get(finding.get("rule")) or {}), **finding}
            findings.append(finding)
        return {**data, "findings": findings}


def _rules_of(result: ScanResult) -> list[str]:
    return [st.rule for st in result.rule_stats if not st.not_assessable]


@dataclass(slots=True)
class TargetInfo:
    target: str
    scans: int
    last: datetime


def history_dir() -> Path:
    return data_dir() / "history"


def target_for(result: ScanResult, paths: list[str] | None = None) -> str:
    """The history key: the cluster id, else a stable id of the scanned manifest paths."""
    if result.cluster.id != "local" or not paths:
        return _UNSAFE.sub("_", result.cluster.id)[:100]
    resolved = sorted({str(Path(p).resolve()) for p in paths})
    return "manifests-" + hashlib.sha256("\0".join(resolved).encode()).hexdigest()[:16]


def _stamp_of(path: Path) -> datetime | None:
    match = _NAME.match(path.name)
    return datetime.strptime(match.group(1), _STAMP).replace(tzinfo=UTC) if match else None


def record_files(target: str) -> list[Path]:
    """A target's record files, oldest first (file names start with the scan's start time)."""
    folder = history_dir() / target
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if _NAME.match(p.name))


def save(record: ScanRecord, keep: int = 50) -> Path:
    """Write one record atomically, then drop the oldest beyond `keep` for its target."""
    header = ScanHeader.model_validate(record.model_dump(include=set(ScanHeader.model_fields)))
    return _store(header, record.rules, record.findings, record.inventory, keep)


def save_result(result: ScanResult, target: str, label: str = "", keep: int = 50) -> Path:
    """Save a scan straight from its findings, streamed: no record object, no JSON tree of
    100k findings (what `save(ScanRecord.of(result))` would build first), the same file."""
    header = ScanHeader(target=target, label=label or result.cluster.context or result.cluster.name,
                        cluster=result.cluster, started=result.started, summary=result.summary)
    return _store(header, _rules_of(result), result.findings, result.inventory, keep)


def _store(header: ScanHeader, rules: list[str], findings: Iterable[Finding | FindingRecord],
           inventory: Inventory, keep: int) -> Path:
    started = header.started.astimezone(UTC)
    name = f"{started.strftime(_STAMP)}-{secrets.token_hex(4)}{SUFFIX}"
    path = history_dir() / header.target / name
    size = 0

    def counted(pieces: Iterator[bytes]) -> Iterator[bytes]:
        nonlocal size
        for piece in pieces:
            size += len(piece)
            yield piece

    head = dump_json({**header.model_dump(mode="json"), "version": RECORD_VERSION, "rules": rules,
                      "columns": COLUMNS})
    atomic_write(path, counted(_gzip(_record_json(head, findings, inventory))))
    for old in record_files(header.target)[: -max(keep, 1)]:
        old.unlink(missing_ok=True)
    index = _load_index(header.target)
    index[name] = {"size": size, "header": header.model_dump(mode="json")}
    _write_index(header.target, index)
    return path


def _record_json(head: bytes, findings: Iterable[Finding | FindingRecord], inventory: Inventory) -> Iterator[bytes]:
    """A version-2 record in pieces: `head` (an object) extended by the findings as rows, a few
    thousand at a time, each rule's text once, and the inventory. A row is the tuple of its
    `COLUMNS` read in C (`attrgetter`); orjson writes enums as their values."""
    text: dict[str, dict[str, str]] = {}
    row_of = attrgetter(*COLUMNS)
    yield head[:-1] + b',"findings":['
    first, rest = True, iter(findings)
    while chunk := list(islice(rest, _ROWS_PER_CHUNK)):
        for f in chunk:
            if f.rule not in text:
                text[f.rule] = {"title": f.title, "category": f.category.value}
        yield (b"" if first else b",") + dump_json(list(map(row_of, chunk)))[1:-1]
        first = False
    yield b'],"ruleText":' + dump_json(text) + b',"inventory":' + dump_json(inventory.model_dump(mode="json")) + b"}"


def _gzip(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """Pieces gzip-compressed as they come (level 6, no timestamp: like `gzip.compress(mtime=0)`)."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    for piece in pieces:
        out = compressor.compress(piece)
        if out:
            yield out
    yield compressor.flush()


def _index_path(target: str) -> Path:
    return history_dir() / target / INDEX


def _load_index(target: str) -> dict[str, Any]:
    """The headers cache (file name → size and header); empty if missing or unreadable."""
    try:
        data = load_json(_index_path(target).read_bytes())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_index(target: str, index: dict[str, Any]) -> None:
    """Keep only entries whose record still exists; atomic like the records themselves."""
    names = {p.name for p in record_files(target)}
    atomic_write(_index_path(target), dump_json({k: v for k, v in index.items() if k in names}))


def _read(path: Path, model: type[ScanHeader]) -> ScanHeader:
    try:
        data = load_json(gzip.decompress(path.read_bytes()))
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise ValueError(f"truncated or not gzip ({exc})") from None
    except ValueError as exc:  # orjson.JSONDecodeError, bad UTF-8
        raise ValueError(f"corrupted JSON ({exc})") from None
    if model is ScanHeader and isinstance(data, dict):
        data = {k: v for k, v in data.items() if k in ScanHeader.model_fields}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValueError(f"not a scan record ({exc.errors()[0]['msg']})") from None


def read_record(path: Path) -> ScanRecord:
    """One record; raises ValueError with a readable reason if it is corrupted or truncated."""
    record = _read(path, ScanRecord)
    assert isinstance(record, ScanRecord)
    return record


def load_records(target: str) -> tuple[list[ScanRecord], list[str]]:
    """Every readable record of a target, oldest first, and a warning per unreadable file."""
    records: list[ScanRecord] = []
    warnings: list[str] = []
    for path in record_files(target):
        try:
            records.append(read_record(path))
        except ValueError as exc:
            warnings.append(_skipped(path, exc))
    records.sort(key=lambda r: r.started)
    return records, warnings


def load_headers(target: str) -> tuple[list[ScanHeader], list[str]]:
    """Like `load_records` without the findings: for listings and the score trend.

    Served from the target's `index.json` when an entry matches the record's size; anything
    else (new, changed or truncated files, a damaged index) is read from the record itself,
    and the index is rewritten.
    """
    headers: list[ScanHeader] = []
    warnings: list[str] = []
    index = _load_index(target)
    fresh: dict[str, Any] = {}
    for path in record_files(target):
        entry = index.get(path.name)
        try:
            size = path.stat().st_size
            if isinstance(entry, dict) and entry.get("size") == size:
                header = ScanHeader.model_validate(entry.get("header"))
            else:
                header = _read(path, ScanHeader)
        except (OSError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
            warnings.append(_skipped(path, exc))
            continue
        headers.append(header)
        fresh[path.name] = {"size": size, "header": header.model_dump(mode="json")}
    if fresh != index:
        try:
            _write_index(target, fresh)
        except OSError:
            pass  # a cache: the next listing reads the records again
    headers.sort(key=lambda h: h.started)
    return headers, warnings


def load_pair(target: str, since: datetime | None = None
              ) -> tuple[tuple[ScanRecord, ScanRecord] | None, list[str]]:
    """The two records `diff` compares, reading only what it needs (file names carry the
    start time): the newest readable record and the one before it — or, with `since`, the
    newest readable record started before `since`, else the oldest readable one."""
    warnings: list[str] = []

    def first_readable(paths: list[Path]) -> tuple[Path, ScanRecord] | None:
        for path in paths:
            try:
                return path, read_record(path)
            except ValueError as exc:
                warnings.append(_skipped(path, exc))
        return None

    files = list(reversed(record_files(target)))  # newest first
    found = first_readable(files)
    if found is None:
        return None, warnings
    newest_path, newest = found
    older = files[files.index(newest_path) + 1:]
    if since is None:
        old = first_readable(older)
    else:
        before = [p for p in older if (_stamp_of(p) or since) < since]
        old = first_readable(before) or first_readable([p for p in reversed(older) if p not in before])
    return ((old[1], newest) if old is not None else None), warnings


def _skipped(path: Path, exc: Exception) -> str:
    return f"history file {path} skipped: {exc}"


def targets() -> list[TargetInfo]:
    """Targets with saved scans, most recently scanned first."""
    base = history_dir()
    out = []
    if base.is_dir():
        for folder in base.iterdir():
            files = record_files(folder.name) if folder.is_dir() else []
            if files:
                out.append(TargetInfo(folder.name, len(files), _stamp_of(files[-1]) or datetime.min))
    return sorted(out, key=lambda t: t.last, reverse=True)


def find_target(wanted: str | None) -> str | None:
    """The most recent target, or the one whose key (or key prefix) is `wanted`."""
    known = targets()
    if wanted is None:
        return known[0].target if known else None
    for info in known:
        if info.target == wanted:
            return info.target
    prefixed = [t.target for t in known if t.target.startswith(wanted)]
    return prefixed[0] if len(prefixed) == 1 else None


def score_trend(records: list[ScanHeader]) -> list[tuple[datetime, int]]:
    """(start time, posture score) per scan, oldest first: the overview's sparkline."""
    return [(r.started, r.summary.score) for r in records]


_BARS = "▁▂▃▄▅▆▇█"


def sparkline(scores: list[int]) -> str:
    """Scores as block characters, scaled between their minimum and maximum so that small
    moves show; a flat series is drawn at its absolute level (a flat 100 reads as full)."""
    if not scores:
        return ""
    lo, hi = min(scores), max(scores)
    top = len(_BARS) - 1
    if hi == lo:
        return _BARS[min(top, max(0, lo) * len(_BARS) // 101)] * len(scores)
    return "".join(_BARS[round((s - lo) / (hi - lo) * top)] for s in scores)
