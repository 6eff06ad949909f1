"""Reports are written in pieces (JSON, SARIF, PolicyReport, CSV): joined, the pieces are the
document built whole, byte for byte; a large scan gives many bounded pieces; and SARIF finds
the offending line of an object inside a `kind: List` file (what `kubectl get -o yaml` writes)."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import pytest
import yaml

from kspm_tui.model import Status
from kspm_tui.report import csv as report_csv
from kspm_tui.report import json as report_json
from kspm_tui.report import policyreport, sarif
from kspm_tui.scan import ScanSettings, run_scan, scan_paths
from kspm_tui.target import Target
from kspm_tui.yamlio import dump_json, dump_yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import generate  # noqa: E402


@pytest.fixture(scope="module")
def listed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """A generated cluster (120 workloads) written as `kind: List` files, and its scan."""
    folder = tmp_path_factory.mktemp("listed")
    files, _ = generate.build(120, seed=11)
    for name, objects in files.items():
        (folder / f"{name}.yaml").write_text(generate.dump_list(objects))
    return folder, scan_paths([str(folder)], ScanSettings())


def test_pieces_join_to_the_whole_document(listed) -> None:
    _, result = listed
    demo = run_scan(Target(kind="demo"), ScanSettings()).result
    for scanned in (result, demo):
        assert b"".join(sarif.chunks(scanned)) == dump_json(sarif.build(scanned), indent=True) + b"\n"
        assert b"".join(policyreport.chunks(scanned)).decode() == "".join(
            "---\n" + dump_yaml(r) for r in policyreport.build(scanned))
        assert b"".join(report_json.chunks(scanned)) == report_json._SCAN_RESULT.dump_json(scanned, indent=2) + b"\n"
        rows = list(csv.reader(io.StringIO(b"".join(report_csv.chunks(scanned)).decode())))
        assert rows[0] == list(report_csv.COLUMNS)
        assert len(rows) - 1 == sum(f.status is not Status.passed for f in scanned.findings)
        assert [r[-1] for r in rows[1:]] == [f.fingerprint for f in scanned.findings if f.status is not Status.passed]


def test_a_large_report_comes_in_bounded_pieces(listed) -> None:
    _, result = listed
    n = len(result.findings)
    assert n > 1000
    for module, per_piece in ((sarif, 500), (report_json, 500), (report_csv, 1000)):
        pieces = list(module.chunks(result))
        assert len(pieces) >= n // per_piece, module.__name__
    reports = list(policyreport.chunks(result))
    assert len(reports) == len({f.namespace for f in result.findings if f.namespace}) + 1  # + cluster report
    assert all(yaml.safe_load(piece.decode().removeprefix("---\n"))["kind"].endswith("PolicyReport")
               for piece in reports)


def test_sarif_points_at_the_field_of_an_object_inside_a_list_file(listed) -> None:
    folder, result = listed
    doc = json.loads(sarif.render(result))
    checked = 0
    for res, finding in zip(doc["runs"][0]["results"],
                            [f for f in result.findings if f.status in (Status.fail, Status.accepted)], strict=True):
        if finding.rule != "K8S-PRIVILEGED" or finding.kind != "Deployment":
            continue
        region = res["locations"][0]["physicalLocation"]["region"]["startLine"]
        lines = (folder / f"{finding.namespace}.yaml").read_text().splitlines()
        assert lines[region - 1].strip() == "privileged: true", (finding.name, region)
        # ... inside this Deployment's own item: its name is the nearest `name:` under `metadata:` above
        item_start = max(i for i in range(region) if lines[i].startswith("- apiVersion:"))
        assert f"    name: {finding.name}" in lines[item_start:region]
        checked += 1
    assert checked >= 2
