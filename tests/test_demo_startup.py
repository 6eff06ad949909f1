"""Start-up of `scan --demo` (the 0.4 s CPU target): in a fresh interpreter the table scan
imports no other report writer, no explorer and no graph library, and builds no pydantic
validator for the models it never validates on its own (built on first use instead) — while
the same models still validate, serialise and reject bad input when a command does use them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from pydantic import ValidationError

from tests.conftest import ROOT

PROBE = """
import contextlib, io, json, sys
import pydantic
from kspm_tui.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main(sys.argv[1:])
def models(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from models(sub)
built = sorted(f"{m.__module__}.{m.__qualname__}" for m in set(models(pydantic.BaseModel))
               if m.__module__.startswith("kspm_tui") and m.__pydantic_complete__)
print(json.dumps({"code": code, "out": out.getvalue(), "modules": sorted(sys.modules), "built": built}))
"""
ON_FIRST_USE = ("kspm_tui.model.Finding", "kspm_tui.model.Evidence", "kspm_tui.model.ComplianceReport",
                "kspm_tui.model.ControlResult", "kspm_tui.model.Exception_", "kspm_tui.model.RuleTests",
                "kspm_tui.model.Remediation", "kspm_tui.triage.history.ScanRecord",
                "kspm_tui.triage.history.FindingRecord", "kspm_tui.triage.acceptance.AcceptedRisk")


@pytest.fixture(scope="module")
def demo_scan() -> dict:
    """One `kspm-tui scan --demo` (history saved, as a user runs it) in a fresh interpreter."""
    proc = subprocess.run([sys.executable, "-c", PROBE, "scan", "--demo"], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    return json.loads(proc.stdout)


def test_the_demo_table_is_printed(demo_scan: dict) -> None:
    assert demo_scan["code"] == 0
    assert "kspm-tui scan" in demo_scan["out"] and "Top findings" in demo_scan["out"]


def test_the_table_scan_imports_no_other_writer_explorer_or_graph_library(demo_scan: dict) -> None:
    reports = {m for m in demo_scan["modules"] if m.startswith("kspm_tui.report.")}
    assert reports == {"kspm_tui.report.table"}
    assert not [m for m in demo_scan["modules"]
                if m.split(".")[0] in ("textual", "networkx") or m.startswith("kspm_tui.tui")]


def test_models_a_table_scan_never_validates_are_not_built(demo_scan: dict) -> None:
    assert "kspm_tui.model.ScanResult" in demo_scan["built"]  # the result itself is validated
    assert not set(ON_FIRST_USE) & set(demo_scan["built"])


def test_models_built_on_first_use_still_validate_and_serialise() -> None:
    from kspm_tui.model import Evidence, Finding, RuleTests
    from kspm_tui.triage.acceptance import AcceptedRisk

    assert RuleTests.model_validate({"pass": [{"kind": "Pod"}]}).pass_ == [{"kind": "Pod"}]
    with pytest.raises(ValidationError, match="rules"):
        AcceptedRisk.model_validate({"rules": [], "reason": "x"})
    with pytest.raises(ValidationError, match="extra"):
        RuleTests.model_validate({"fail": [], "unknown": 1})
    assert Evidence(path="spec.x", value=1).model_dump() == {"path": "spec.x", "value": 1}
    assert "rule" in Finding.model_json_schema()["properties"]


def test_at_a_terminal_the_demo_sets_up_no_progress_bar() -> None:
    """stderr a terminal (where the bar would show): the demo still imports no rich.progress."""
    import os
    import pty

    main_fd, terminal = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-c", PROBE, "scan", "--demo"], stdout=subprocess.PIPE,
                                stderr=terminal, text=True, cwd=ROOT)
        os.close(terminal)
        out, _ = proc.communicate()
    finally:
        os.close(main_fd)
    seen = json.loads(out)
    assert seen["code"] == 0 and "Top findings" in seen["out"]
    assert "rich.progress" not in seen["modules"]
