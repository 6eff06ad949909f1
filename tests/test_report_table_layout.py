"""`kspm-tui scan` in a terminal: the default table fits the width, one line per finding, worst
first, the rest counted with the way to see them; `-o wide` lists everything in full."""

from __future__ import annotations

import json

import pytest

from kspm_tui.model import Severity

SEVERITIES = [s.value for s in Severity]


@pytest.mark.parametrize("width", [80, 120, 200])
def test_default_table_fits_the_terminal_with_whole_rule_ids(run_cli, width: int) -> None:
    res = run_cli("scan", "--demo", env={"COLUMNS": str(width)})
    assert res.code == 0, res.stderr
    lines = res.stdout.splitlines()
    assert all(len(line) <= width for line in lines), max(lines, key=len)
    assert len(lines) < 60  # a summary, not a dump
    doc = json.loads(run_cli("scan", "--demo", "-o", "json").stdout)
    failing = [f for f in doc["findings"] if f["status"] == "fail"]
    rows = [line.split() for line in lines if line.split()[:1] and line.split()[0] in SEVERITIES]
    assert len(rows) == 25
    shown_rules = [r[1] for r in rows]
    assert all(rule in {f["rule"] for f in failing} for rule in shown_rules)  # whole ids, never split
    ranks = [SEVERITIES.index(r[0]) for r in rows]
    assert ranks == sorted(ranks)  # grouped by severity, worst first
    assert f"{len(failing) - 25} more failing findings" in res.stdout
    assert "see all with full messages: add -o wide" in res.stdout


def test_wide_lists_every_finding_with_its_full_message(run_cli) -> None:
    res = run_cli("scan", "--demo", "-o", "wide", env={"COLUMNS": "80"})
    assert res.code == 0, res.stderr
    doc = json.loads(run_cli("scan", "--demo", "-o", "json").stdout)
    failing = [f for f in doc["findings"] if f["status"] == "fail"]
    rows = [line for line in res.stdout.splitlines() if line.split()[:1] and line.split()[0] in SEVERITIES]
    assert len(rows) == len(failing)
    flat = "".join(res.stdout.split())  # wrapped lines joined back
    longest = max(failing, key=lambda f: len(f["message"]))
    assert "".join(longest["message"].split()) in flat
    assert "more failing findings" not in res.stdout
