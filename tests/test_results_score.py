"""The posture score a person can trust: a weighted pass rate, capped while what matters most is
open, with the cap's reason in every output."""

from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


def test_an_open_internet_to_cluster_admin_path_caps_the_score(run_cli) -> None:
    res = run_cli("scan", "--demo", "-o", "json")
    summary = json.loads(res.stdout)["summary"]
    cap = summary["score_cap"]
    assert cap["uncapped"] >= 80  # the pass rate alone would look fine
    assert summary["score"] == cap["max"] == 20
    assert cap["reason"].startswith("open critical attack path: K8S-PATH-INTERNET-CLUSTER-ADMIN on "
                                    "StatefulSet/ci/jenkins")


def test_the_cap_and_its_reason_are_in_table_markdown_and_html(run_cli) -> None:
    line = "capped at 20 (pass rate 90): open critical attack path: K8S-PATH-INTERNET-CLUSTER-ADMIN"
    table = run_cli("scan", "--demo", env={"COLUMNS": "200"}).stdout
    assert "Posture score 20/100" in table and line in table
    assert line in run_cli("scan", "--demo", "-o", "markdown").stdout
    assert line in run_cli("scan", "--demo", "-o", "html").stdout


def test_accepting_the_path_lifts_the_cap_to_the_next_open_problem(run_cli, tmp_path: Path) -> None:
    exceptions = tmp_path / "exceptions.yaml"
    exceptions.write_text("exceptions:\n- rule: K8S-PATH-*\n  reason: tracked in SEC-1\n  owner: sec\n"
                          "  expires: 2099-01-01\n")
    res = run_cli("scan", "--demo", "-o", "json", "--exceptions", str(exceptions))
    cap = json.loads(res.stdout)["summary"]["score_cap"]
    assert cap["max"] == 40 and cap["reason"].startswith("open critical finding: ")


def test_a_hardened_cluster_has_no_cap(run_cli) -> None:
    res = run_cli("scan", str(FIXTURES / "hardened"), "-o", "json")
    summary = json.loads(res.stdout)["summary"]
    assert summary["score_cap"] is None and summary["score"] >= 90
