"""Not only the findings: the whole report is the same from one process to the next.

A scan visits workloads kind by kind; that order came from a frozenset, so it changed with
each process's string hash seed, and with it what is counted in visiting order (the key order
of `excluded.by_severity` for system namespaces' hidden findings)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def report_of(path: Path) -> dict[str, Any]:
    doc = json.loads(path.read_text())
    del doc["started"], doc["duration_s"]  # when, and how long: the only fields allowed to differ
    return doc


def test_the_whole_report_and_its_key_order_do_not_depend_on_the_hash_seed(run_cli, tmp_path: Path) -> None:
    texts = []
    for seed in ("1", "2", "3", "4"):
        out = tmp_path / f"demo-{seed}.json"
        result = run_cli("scan", "--demo", "--no-history", "-o", "json", "--output", str(out),
                         env={"PYTHONHASHSEED": seed})
        assert result.code == 0, result.stderr
        texts.append(json.dumps(report_of(out)))  # dict key order kept, as written
    assert len(set(texts)) == 1
    excluded = json.loads(texts[0])["excluded"]
    assert excluded["workloads"] > 1 and len(excluded["by_severity"]) > 1  # the demo shows the order
