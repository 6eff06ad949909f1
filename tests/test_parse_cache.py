"""The parse cache: an unchanged file is read from it, a changed one parsed again, the directory
stays within its bound, a corrupt entry is ignored and rebuilt, and a scan reads the same
with and without it — values exact to the type over every YAML file in the tests."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from kspm_tui.sources.files import parse_documents, read_paths
from kspm_tui.sources.parse_cache import SUFFIX, Document, ParseCache
from tests.conftest import ROOT

MANIFEST = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {mode: "on", retries: "3"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 0x10
  template:
    spec:
      containers: [{name: web, image: nginx, securityContext: {privileged: yes}}]
"""


def entries(cache: ParseCache) -> list[Path]:
    return sorted(cache.root.glob(f"*{SUFFIX}"))


def objects(collected) -> list[tuple[str | None, int, int | None, Any]]:
    return [(o.source.file, o.source.document, o.source.line, o.obj) for o in collected.objects]


def strict(value: Any) -> Any:
    """A value with every scalar's type spelt out: True is not 1, 1.0 is not 1."""
    if isinstance(value, dict):
        return {"dict": [(strict(k), strict(v)) for k, v in value.items()]}
    if isinstance(value, list):
        return {"list": [strict(v) for v in value]}
    return (type(value).__name__, repr(value))


def test_an_unchanged_file_is_read_from_the_cache(tmp_path: Path) -> None:
    manifest = tmp_path / "app.yaml"
    manifest.write_text(MANIFEST)
    cache = ParseCache(root=tmp_path / "cache")
    first = read_paths([str(manifest)], cache=cache)
    assert [o.obj["spec"]["replicas"] for o in first.objects if o.obj["kind"] == "Deployment"] == [16]
    assert len(entries(cache)) == 1
    # Stand a different (well-formed) entry in for the file's bytes: a read that shows it was
    # served from the cache, not parsed.
    cache.put(manifest.read_bytes(), [Document(1, 7, {"apiVersion": "v1", "kind": "ConfigMap",
                                                      "metadata": {"name": "from-cache"}})])
    again = read_paths([str(manifest)], cache=cache)
    assert [o.obj["metadata"]["name"] for o in again.objects] == ["from-cache"]
    assert again.objects[0].source.line == 7


def test_changed_bytes_miss_and_are_parsed_again(tmp_path: Path) -> None:
    manifest = tmp_path / "app.yaml"
    manifest.write_text(MANIFEST)
    cache = ParseCache(root=tmp_path / "cache")
    read_paths([str(manifest)], cache=cache)
    manifest.write_text(MANIFEST.replace("replicas: 0x10", "replicas: 3"))
    changed = read_paths([str(manifest)], cache=cache)
    assert [o.obj["spec"]["replicas"] for o in changed.objects if o.obj["kind"] == "Deployment"] == [3]
    assert len(entries(cache)) == 2


def test_a_changed_parser_misses(tmp_path: Path) -> None:
    manifest = tmp_path / "app.yaml"
    manifest.write_text(MANIFEST)
    read_paths([str(manifest)], cache=ParseCache(root=tmp_path / "cache"))
    other = ParseCache(root=tmp_path / "cache", _salt=b"another parser")
    assert other.get(manifest.read_bytes()) is None


@pytest.mark.parametrize("damage", ["truncated", "flipped byte", "empty", "not an entry"])
def test_a_corrupt_entry_is_ignored_and_rebuilt(tmp_path: Path, damage: str) -> None:
    manifest = tmp_path / "app.yaml"
    manifest.write_text(MANIFEST)
    cache = ParseCache(root=tmp_path / "cache")
    fresh = objects(read_paths([str(manifest)], cache=cache))
    [entry] = entries(cache)
    blob = entry.read_bytes()
    entry.write_bytes({"truncated": blob[: len(blob) // 2],
                       "flipped byte": blob[:-20] + bytes([blob[-20] ^ 0x01]) + blob[-19:],
                       "empty": b"",
                       "not an entry": b'[[1, 1, {"kind": "Secret"}, null]]'}[damage])
    assert cache.get(manifest.read_bytes()) is None
    assert objects(read_paths([str(manifest)], cache=cache)) == fresh
    assert entry.read_bytes() == blob  # rebuilt


def test_the_directory_stays_within_its_bound_least_recently_used_first(tmp_path: Path) -> None:
    files = []
    for n in range(6):
        path = tmp_path / "in" / f"m{n}.yaml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(MANIFEST.replace("name: web", f"name: web-{n}"))
        files.append(path)
    probe = ParseCache(root=tmp_path / "probe")
    read_paths([str(files[0])], cache=probe)
    size = entries(probe)[0].stat().st_size
    cache = ParseCache(root=tmp_path / "cache", max_bytes=3 * size)
    for n, path in enumerate(files[:3]):
        read_paths([str(path)], cache=cache)
        os.utime(cache.root / (cache.key(path.read_bytes()) + SUFFIX), (1_000_000 + n, 1_000_000 + n))
    read_paths([str(files[0])], cache=cache)  # a hit: m0 becomes the most recently used
    read_paths([str(files[3])], cache=cache)  # a fourth entry: the oldest (m1) goes
    kept = {p.name for p in entries(cache)}
    assert sum(p.stat().st_size for p in entries(cache)) <= 3 * size
    assert kept == {cache.key(files[n].read_bytes()) + SUFFIX for n in (0, 2, 3)}


def test_values_json_cannot_hold_exactly_are_not_cached(tmp_path: Path) -> None:
    manifest = tmp_path / "binary.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\nbinaryData: {x: !!binary aGk=}\n")
    cache = ParseCache(root=tmp_path / "cache")
    first = objects(read_paths([str(manifest)], cache=cache))
    assert entries(cache) == []
    assert objects(read_paths([str(manifest)], cache=cache)) == first


def yaml_files() -> list[Path]:
    return sorted(p for p in (ROOT / "tests").rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def test_every_yaml_file_in_the_tests_reads_back_exactly(tmp_path: Path) -> None:
    """Types and values as parsed (bools, octal ints, floats, strings that look like numbers),
    errors and lines too, for every YAML file of the tests and corpus."""
    cache = ParseCache(root=tmp_path / "cache")
    checked = 0
    for path in yaml_files():
        data = path.read_bytes()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            continue
        parsed = parse_documents(text)
        cache.put(data, parsed)
        cached = cache.get(data)
        if cached is None:  # not representable in JSON (e.g. !!binary): never cached
            continue
        assert [(d.index, d.line, d.error, strict(d.value)) for d in cached] == \
               [(d.index, d.line, d.error, strict(d.value)) for d in parsed], path
        checked += 1
    assert checked > 200


def test_a_scan_is_the_same_with_and_without_the_cache(run_cli, tmp_path: Path) -> None:
    corpus = str(ROOT / "tests" / "corpus" / "longhorn")
    cache_dir = tmp_path / "cache"
    env = {"KSPM_TUI_CACHE_DIR": str(cache_dir)}
    reports = []
    for flags in ([], [], ["--no-cache"]):  # cold, warm, without
        result = run_cli("scan", corpus, "-o", "json", *flags, env=env)
        assert result.code in (0, 1, 2), result.stderr
        report = json.loads(result.stdout)
        reports.append({k: report[k] for k in ("findings", "errors", "summary")})
        if not flags:
            assert list((cache_dir / "parse").glob(f"*{SUFFIX}"))
    assert reports[0] == reports[1] == reports[2]
    assert reports[0]["findings"]


def test_no_cache_writes_nothing(run_cli, tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    manifest = tmp_path / "app.yaml"
    manifest.write_text(MANIFEST)
    result = run_cli("scan", str(manifest), "--no-cache", env={"KSPM_TUI_CACHE_DIR": str(cache_dir)})
    assert result.code == 0, result.stderr
    assert not cache_dir.exists()


def test_short_strings_read_from_the_cache_are_shared_as_parsed_ones_are(tmp_path: Path) -> None:
    manifest = tmp_path / "app.yaml"
    manifest.write_text(MANIFEST)
    cache = ParseCache(root=tmp_path / "cache")
    read_paths([str(manifest)], cache=cache)
    [_, deployment] = [o.obj for o in read_paths([str(manifest)], cache=cache).objects]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] is sys.intern("nginx")
    assert deployment["metadata"]["namespace"] is sys.intern("shop")
