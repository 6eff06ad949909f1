"""`kspm-tui scan` as a command exits without freeing its snapshot and findings one by one
(`cli.entry`): everything it printed or wrote must still be there, whole, with its exit code."""

from __future__ import annotations

import json
from pathlib import Path

from kspm_tui.scan import ScanSettings, scan
from kspm_tui.sources.demo import read_demo


def test_a_json_report_on_stdout_is_written_whole_before_the_exit(run_cli) -> None:
    result = run_cli("scan", "--demo", "--no-history", "-o", "json", "--fail-on", "critical")
    expected = scan(read_demo(), ScanSettings(cluster_name="demo"))
    report = json.loads(result.stdout)  # the whole document, up to its last byte
    assert len(report["findings"]) == len(expected.findings) > 100
    assert result.code == 1  # the demo has critical findings: --fail-on still decides the exit code


def test_a_report_file_and_the_history_entry_are_complete(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = run_cli("scan", "--demo", "-o", "json", "--output", str(out))
    assert result.code == 0, result.stderr
    assert "wrote json report" in result.stderr
    assert json.loads(out.read_text())["findings"]
    listed = run_cli("history", "-o", "json")  # the entry the scan saved reads back
    assert listed.code == 0, listed.stderr
    assert "demo" in listed.stdout


def test_the_table_is_printed_to_its_last_line(run_cli) -> None:
    result = run_cli("scan", "--demo", "--no-history")
    assert result.code == 0, result.stderr
    assert result.stdout.rstrip().endswith("--include-system lists them")  # the table's last words
