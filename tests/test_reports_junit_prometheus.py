"""`-o junit` and `-o prometheus` as CI systems and Prometheus read them: the JUnit XML validated
against the Jenkins xUnit schema, the metrics parsed by the Prometheus client's own parser."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import xmlschema
import yaml
from prometheus_client.parser import text_string_to_metric_families

from kspm_tui.model import Severity
from tests.test_hostile_output import NS, RAW, assert_safe, scan_args, write_inputs

SCHEMA = xmlschema.XMLSchema(str(Path(__file__).parent / "schemas" / "junit" / "junit-10.xsd"))
EXCEPTIONS = """\
exceptions:
  - rule: K8S-RUN-AS-USER-ROOT
    reason: legacy image runs as root until rebuilt
    owner: team-obs
    expires: 2099-12-31
"""


def scan_json(run_cli: Any, *args: str) -> dict[str, Any]:
    return json.loads(run_cli("scan", *args, "-o", "json").stdout)


def test_junit_is_one_testcase_per_rule_and_object_and_valid(run_cli: Any, tmp_path: Path) -> None:
    exceptions = tmp_path / "exceptions.yaml"
    exceptions.write_text(EXCEPTIONS)
    args = ("--demo", "--exceptions", str(exceptions))
    out = run_cli("scan", *args, "-o", "junit", "--fail-on", "critical")
    assert out.code == 1  # the gate is the scan's, whatever the format
    SCHEMA.validate(out.stdout)
    result = scan_json(run_cli, *args)
    root = ET.fromstring(out.stdout)
    cases = {(c.get("classname"), c.get("name")): c for c in root.iter("testcase")}
    failing = [f for f in result["findings"] if f["status"] == "fail"]
    assert int(root.get("failures")) == len(failing) == result["summary"]["total"]
    for f in failing:
        where = f"{f['kind']}/{f['namespace']}/{f['name']}" if f["namespace"] else f"{f['kind']}/{f['name']}"
        case = cases[(f["rule"], where + (f" [{f['container']}]" if f["container"] else ""))]
        failure = case.find("failure")
        assert failure is not None and failure.get("type") == f["severity"] and failure.get("message") == f["message"]
        if f["remediation"]["kubectl"]:
            assert f"fix: {f['remediation']['kubectl']}" in failure.text
    accepted = [c for c in root.iter("testcase") if c.find("skipped") is not None]
    assert accepted and all(c.get("classname") == "K8S-RUN-AS-USER-ROOT" for c in accepted)
    assert accepted[0].find("skipped").get("message") == (
        "accepted by team-obs until 2099-12-31: legacy image runs as root until rebuilt")
    suites = {s.get("name").split()[0]: s for s in root.iter("testsuite")}
    assert len(suites["K8S-PRIVILEGED"].findall("testcase")) == int(suites["K8S-PRIVILEGED"].get("tests"))
    passing = [s for s in suites.values() if s.get("failures") == "0" and s.get("errors") == "0"
               and s.get("skipped") == "0"]
    assert passing and all(s.find("testcase").get("name").startswith("all ") for s in passing)


def test_junit_and_prometheus_quote_hostile_names_safely(run_cli: Any, tmp_path: Path) -> None:
    inputs = write_inputs(tmp_path)
    junit = run_cli(*scan_args(inputs, "-o", "junit"))
    assert junit.code == 2, junit.stderr  # the broken rule and the bad file are input errors, as in every format
    assert_safe(junit.stdout, "scan -o junit", shown=3)
    SCHEMA.validate(junit.stdout)
    metrics = run_cli(*scan_args(inputs, "-o", "prometheus"))
    assert not RAW.findall(metrics.stdout)
    namespaces = {s.labels["namespace"] for fam in text_string_to_metric_families(metrics.stdout)
                  for s in fam.samples if "namespace" in s.labels}
    assert NS not in namespaces and "ops\\x1b]0;pwned\\x07" in namespaces  # shown as escapes, never raw


def test_prometheus_textfile_metrics_parse_and_add_up(run_cli: Any, tmp_path: Path) -> None:
    odd = {"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "web", "namespace": 'team "a" \\ b'},
           "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}},
                    "spec": {"containers": [{"name": "c", "image": "nginx:1",
                                             "securityContext": {"privileged": True}}]}}}}
    (tmp_path / "odd.yaml").write_text(yaml.safe_dump(odd))
    prom = tmp_path / "kspm.prom"
    for args in (("--demo",), (str(tmp_path / "odd.yaml"),)):
        out = run_cli("scan", *args, "-o", "prometheus", "--output", str(prom))
        assert out.code == 0, out.stderr
        result = scan_json(run_cli, *args)
        families = {f.name: f for f in text_string_to_metric_families(prom.read_text())}
        assert {"kspm_findings", "kspm_score", "kspm_scan_timestamp_seconds", "kspm_findings_by_severity",
                "kspm_findings_accepted", "kspm_scan_duration_seconds"} <= set(families)
        assert all(f.type == "gauge" and f.documentation for f in families.values())
        assert families["kspm_score"].samples[0].value == result["summary"]["score"]
        by_severity = {s.value: 0.0 for s in Severity}
        for sample in families["kspm_findings"].samples:
            by_severity[sample.labels["severity"]] += sample.value
            assert sample.labels["cluster"] == result["cluster"]["name"]
        assert by_severity == {s.value: float(result["summary"]["by_severity"].get(s.value, 0)) for s in Severity}
        assert {s.labels["severity"]: s.value for s in families["kspm_findings_by_severity"].samples} == by_severity
    namespaces = {s.labels["namespace"] for s in families["kspm_findings"].samples}
    assert 'team "a" \\ b' in namespaces  # escaped in the file, exact once parsed
    assert 'namespace="team \\"a\\" \\\\ b"' in prom.read_text()
