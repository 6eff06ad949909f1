"""`kspm-tui scan` as a user runs it: exit codes, JSON document, stdin, input errors."""

from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
MANIFESTS = str(FIXTURES / "manifests")


def test_json_document_has_the_public_keys_and_one_finding_per_workload(run_cli) -> None:
    res = run_cli("scan", MANIFESTS, "-o", "json")
    assert res.code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert set(doc) >= {"tool", "cluster", "summary", "findings", "errors", "excluded"}
    priv = [f for f in doc["findings"] if f["rule"] == "K8S-PRIVILEGED"]
    assert sorted((f["kind"], f["name"], f["container"]) for f in priv) == [
        ("Deployment", "web", "debug"), ("Pod", "tool", "sh")]
    web = next(f for f in priv if f["name"] == "web")
    assert set(web) >= {"rule", "title", "severity", "status", "category", "cluster", "kind", "namespace",
                        "name", "container", "message", "evidence", "frameworks", "source", "remediation",
                        "fingerprint"}
    assert web["source"]["file"].endswith("web.yaml") and web["source"]["document"] == 1
    # The privileged finding also covers the escalation and capability checks the same fix resolves.
    assert web["covers"] == ["K8S-ALLOW-PRIVILEGE-ESCALATION", "K8S-CAPABILITIES-DROP-ALL"]
    assert web["evidence"][0] == {"path": "spec.template.spec.containers[debug].securityContext.privileged",
                                  "value": True}
    assert web["remediation"]["patch"] == {
        "spec": {"template": {"spec": {"containers": [{"name": "debug", "securityContext": {
            "privileged": False, "allowPrivilegeEscalation": False,
            "capabilities": {"add": None, "drop": ["ALL"]}}}]}}}}
    assert web["remediation"]["kubectl"].startswith("kubectl patch -n shop --type=strategic -p ")
    assert web["remediation"]["kubectl"].endswith("' -- deployment web")


def test_fail_on_sets_exit_code(run_cli) -> None:
    assert run_cli("scan", MANIFESTS, "--fail-on", "critical").code == 1
    assert run_cli("scan", MANIFESTS, "--fail-on", "none").code == 0
    bad = run_cli("scan", MANIFESTS, "--fail-on", "severe")
    assert bad.code == 2 and "invalid severity" in bad.stderr


def test_stdin_is_scanned(run_cli) -> None:
    text = (FIXTURES / "manifests" / "web.yaml").read_text()
    res = run_cli("scan", "-", "-o", "json", stdin=text)
    doc = json.loads(res.stdout)
    assert res.code == 0
    assert [f["source"]["file"] for f in doc["findings"] if f["rule"] == "K8S-PRIVILEGED"] == ["<stdin>"]


def test_input_errors_exit_2_and_everything_else_is_still_scanned(run_cli) -> None:
    res = run_cli("scan", str(FIXTURES / "bad-input"), "-o", "json", "--fail-on", "critical")
    assert res.code == 2
    doc = json.loads(res.stdout)
    assert [f["name"] for f in doc["findings"] if f["rule"] == "K8S-PRIVILEGED"] == ["priv"]
    assert {(Path(e["file"]).name, e["document"]) for e in doc["errors"]} >= {
        ("mixed.yaml", 2), ("mixed.yaml", 3), ("mixed.yaml", 4), ("empty.yaml", None), ("blob.yaml", None)}
    assert "mixed.yaml document 2" in res.stderr


def test_table_output_names_input_errors(run_cli) -> None:
    res = run_cli("scan", str(FIXTURES / "bad-input"))
    assert res.code == 2
    assert "input error:" in res.stdout and "unknown kind 'Deploymnet'" in res.stdout


def test_nothing_to_scan_is_a_usage_error(run_cli) -> None:
    res = run_cli("scan")
    assert res.code == 2 and "nothing to scan" in res.stderr


def test_version_and_help(run_cli) -> None:
    from kspm_tui import __version__

    assert run_cli("--version").stdout.strip() == f"kspm-tui {__version__}"
    help_text = run_cli("--help").stdout
    assert "kspm-tui scan --demo" in help_text and "exit codes" in help_text


def test_broken_rule_is_reported_and_other_rules_still_run(run_cli, tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text(
        "id: K8S-BROKEN\ntitle: t\nseverity: low\ncategory: Pod Security\nscope: container\n"
        "check: 'container.name ==' \nwhy: w\n")
    res = run_cli("scan", MANIFESTS, "--rules", str(tmp_path), "-o", "json")
    assert res.code == 2
    doc = json.loads(res.stdout)
    err = doc["rule_errors"][0]
    assert err["rule"] == "K8S-BROKEN" and err["file"].endswith("broken.yaml") and "check:" in err["message"]
    assert any(f["rule"] == "K8S-PRIVILEGED" for f in doc["findings"])


def test_manifest_scan_table_summarises_cluster_rules_in_one_line(run_cli) -> None:
    res = run_cli("scan", MANIFESTS)
    assert res.code == 0
    lines = [ln for ln in res.stdout.splitlines() if "not assessed" in ln or "not assessable" in ln]
    assert len(lines) == 1 and "cluster-level rules not assessed" in lines[0]
    assert "K8S-APISERVER" not in res.stdout
