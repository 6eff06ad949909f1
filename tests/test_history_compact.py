"""History records written straight from a scan's findings (version 2: rows, rule text once)
read back as the same records as before, and version-1 files still read."""

from __future__ import annotations

import gzip
import json

from kspm_tui.scan import ScanSettings, run_scan
from kspm_tui.target import Target
from kspm_tui.triage import history
from kspm_tui.triage.history import RECORD_VERSION, ScanRecord
from kspm_tui.yamlio import dump_json


def demo_result():
    return run_scan(Target(kind="demo"), ScanSettings()).result


def test_a_streamed_record_reads_back_as_every_field_of_every_finding() -> None:
    result = demo_result()
    assert len(result.findings) > 100
    path = history.save_result(result, "demo-cluster", label="demo", keep=5)
    raw = json.loads(gzip.decompress(path.read_bytes()))
    assert raw["version"] == RECORD_VERSION == 2
    assert raw["columns"] == list(history.COLUMNS)
    assert all(isinstance(row, list) for row in raw["findings"])
    # each rule's title once, not once per finding
    assert set(raw["ruleText"]) == {f.rule for f in result.findings}
    assert raw["findings"][0][1] in raw["ruleText"]

    [loaded], warnings = history.load_records("demo-cluster")
    expected = ScanRecord.of(result, "demo-cluster", label="demo")
    assert warnings == []
    assert loaded.model_dump(mode="json") == expected.model_dump(mode="json")
    headers, _ = history.load_headers("demo-cluster")
    assert headers[0].summary == result.summary and headers[0].label == "demo"


def test_save_of_a_built_record_writes_the_same_file_shape() -> None:
    result = demo_result()
    record = ScanRecord.of(result, "built")
    path = history.save(record, keep=5)
    assert isinstance(json.loads(gzip.decompress(path.read_bytes()))["findings"][0], list)
    assert history.read_record(path).model_dump(mode="json") == record.model_dump(mode="json")


def test_version_1_records_still_read() -> None:
    result = demo_result()
    record = ScanRecord.of(result, "old")
    data = {**record.model_dump(mode="json"), "version": 1}  # a dict per finding, title in each
    folder = history.history_dir() / "old"
    folder.mkdir(parents=True)
    (folder / "20260101T000000.000000Z-abcd.json.gz").write_bytes(gzip.compress(dump_json(data), mtime=0))
    [loaded], warnings = history.load_records("old")
    assert warnings == []
    assert loaded.findings == record.findings
    assert loaded.summary == record.summary
