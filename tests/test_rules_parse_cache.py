"""Rule files through the parse cache: the built-in pack read from the cache is the pack parsed
(every rule, field for field), a changed rule file is parsed again, a broken one still reports
its error, and `scan --no-cache` neither reads nor writes the cache."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kspm_tui.engine.loader import load_rules
from kspm_tui.locations import builtin_dir
from kspm_tui.sources.parse_cache import SUFFIX, ParseCache
from tests.conftest import ROOT

RULE = """\
id: K8S-LOCAL-NO-LATEST
title: Image tag is not latest
severity: {severity}
category: Image hygiene
scope: container
why: A moving tag runs whatever was pushed last.
check: "!container.image.endsWith(':latest')"
remediation:
  guidance: Pin the image to a version or digest.
"""


def pack(ruleset) -> list[tuple]:
    return [(r.id, r.rule.model_dump(), r.check.source, r.template_only, sorted(r.variables), r.check_reads,
             r.detail_reads) for r in ruleset.rules]


def test_the_builtin_pack_reads_the_same_from_the_cache(tmp_path: Path) -> None:
    cache = ParseCache(root=tmp_path / "cache")
    parsed = load_rules([builtin_dir("rules")])
    filled = load_rules([builtin_dir("rules")], read=cache.yaml_documents)
    files = sorted(p for p in builtin_dir("rules").rglob("*") if p.suffix in (".yaml", ".yml"))
    assert len(list(cache.root.glob(f"*{SUFFIX}"))) == len(files)
    cache.written = 0
    cached = load_rules([builtin_dir("rules")], read=cache.yaml_documents)
    assert cache.written == 0  # every file came from the cache
    assert parsed.errors == filled.errors == cached.errors == []
    assert pack(cached) == pack(filled) == pack(parsed)


def test_a_changed_rule_file_is_parsed_again(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "latest.yaml").write_text(RULE.format(severity="low"))
    cache = ParseCache(root=tmp_path / "cache")
    assert load_rules([rules], read=cache.yaml_documents).rules[0].rule.severity == "low"
    (rules / "latest.yaml").write_text(RULE.format(severity="high"))
    assert load_rules([rules], read=cache.yaml_documents).rules[0].rule.severity == "high"


def test_a_broken_rule_file_reports_its_error_and_is_not_cached(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "broken.yaml").write_text("id: X\ncheck: [unclosed\n")
    cache = ParseCache(root=tmp_path / "cache")
    for _ in range(2):
        ruleset = load_rules([rules], read=cache.yaml_documents)
        assert ruleset.rules == []
        assert [e.file for e in ruleset.errors] == [str(rules / "broken.yaml")]
        assert ruleset.errors[0].message.startswith("invalid YAML")
    assert list(cache.root.glob(f"*{SUFFIX}")) == []


def test_scan_no_cache_leaves_the_cache_alone(tmp_path: Path) -> None:
    env = {"KSPM_TUI_CONFIG_DIR": str(tmp_path / "config"), "KSPM_TUI_DATA_DIR": str(tmp_path / "data"),
           "KSPM_TUI_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    scan = [sys.executable, "-m", "kspm_tui", "scan", "--demo", "-o", "json", "--no-history"]
    subprocess.run([*scan, "--no-cache"], cwd=ROOT, env=env, capture_output=True, check=True)
    assert not (tmp_path / "cache").exists()
    subprocess.run(scan, cwd=ROOT, env=env, capture_output=True, check=True)
    files = sorted(p for p in builtin_dir("rules").rglob("*") if p.suffix in (".yaml", ".yml"))
    assert len(list((tmp_path / "cache" / "parse").glob(f"*{SUFFIX}"))) > len(files)  # rules and demo files
