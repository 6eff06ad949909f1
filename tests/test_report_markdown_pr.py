"""The Markdown report as a pull-request comment: new findings against the baseline first, the
whole text under GitHub's comment limit, what does not fit summarised with counts that add up."""

from __future__ import annotations

import json
import re
from pathlib import Path

from kspm_tui.report.markdown import MAX_CHARS

GITHUB_COMMENT_LIMIT = 65_536


def finding_rows(section: str) -> list[str]:
    """Table rows of failing findings (severity in the first cell) in a Markdown section."""
    return [line for line in section.splitlines()
            if re.match(r"^\| (critical|high|medium|low|info) \| K8S-", line)]


def test_the_demo_report_fits_a_comment_and_counts_what_it_leaves_out(run_cli) -> None:
    total = json.loads(run_cli("scan", "--demo", "-o", "json", "--no-history").stdout)["summary"]["total"]
    text = run_cli("scan", "--demo", "-o", "markdown", "--no-history").stdout
    assert len(text) <= MAX_CHARS < GITHUB_COMMENT_LIMIT
    listed = finding_rows(text.split("## Failing findings")[1].split("\n## ")[0])
    more = re.search(r"… and (\d+) more not listed here \((.*?); by rule: ", text)
    assert more, "the findings that do not fit are summarised"
    assert len(listed) + int(more.group(1)) == total  # nothing silently dropped
    by_severity = {sev: int(n) for n, sev in re.findall(r"(\d+) (critical|high|medium|low|info)", more.group(2))}
    assert sum(by_severity.values()) == int(more.group(1))
    assert "# kspm-tui report: demo" in text and "Posture score: 20/100" in text  # the summary is never cut
    assert "### CIS Kubernetes Benchmark" in text  # every framework keeps at least its line of counts


def test_new_findings_against_the_baseline_come_first_and_known_ones_are_counted(run_cli, tmp_path: Path) -> None:
    """A baseline taken from a scan without the objects named ci/jenkins: their findings are the new ones."""
    demo = json.loads(run_cli("scan", "--demo", "-o", "json", "--no-history").stdout)
    new_ones = [f for f in demo["findings"] if f["namespace"] == "ci" and f["name"] == "jenkins"]
    assert new_ones
    baseline = dict(demo, findings=[f for f in demo["findings"] if f not in new_ones])
    path = tmp_path / "main.json"
    path.write_text(json.dumps(baseline))
    res = run_cli("scan", "--demo", "-o", "markdown", "--no-history", "--baseline", str(path))
    assert res.code == 0, res.stderr
    text = res.stdout
    assert len(text) <= MAX_CHARS
    new_head = f"## New findings since the baseline ({path}): {len(new_ones)}"
    known_head = f"## Already in the baseline: {demo['summary']['total'] - len(new_ones)}"
    assert new_head in text and known_head in text
    assert text.index(new_head) < text.index(known_head) < text.index("## Frameworks")
    rows = finding_rows(text.split(new_head)[1].split("\n## ")[0])
    assert len(rows) == len(new_ones) and all("/ci/jenkins`" in row for row in rows)
    assert rows[0].startswith("| critical | K8S-PATH-INTERNET-CLUSTER-ADMIN |")  # worst first
    known = text.split(known_head)[1].split("\n## ")[0]
    assert not finding_rows(known) and "Not listed: " in known
