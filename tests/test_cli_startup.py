"""Start-up: `--version` and `--help` answer without importing the engine, the pydantic models,
YAML or rich (each checked in a fresh interpreter's `sys.modules`), and still say everything."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kspm_tui import __version__
from kspm_tui.cli import SUBCOMMANDS, SUMMARIES
from tests.conftest import ROOT

PROBE = """
import contextlib, io, json, sys
from kspm_tui.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
print(json.dumps({"code": code, "out": out.getvalue(), "modules": sorted(sys.modules)}))
"""
HEAVY = ("pydantic", "pydantic_core", "kspm_tui.model", "kspm_tui.scan", "kspm_tui.engine", "kspm_tui.sources",
         "yaml", "rich", "networkx", "cel", "textual")


def probe(*args: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=ROOT,
                          check=True)
    return json.loads(proc.stdout)


@pytest.mark.parametrize("flag", ["--version", "--help", "-h"])
def test_version_and_help_import_no_model_engine_or_parser(flag: str) -> None:
    seen = probe(flag)
    assert seen["code"] == 0
    loaded = [m for m in seen["modules"] if any(m == h or m.startswith(f"{h}.") for h in HEAVY)]
    assert loaded == []


def test_version_prints_the_version() -> None:
    assert probe("--version")["out"] == f"kspm-tui {__version__}\n"


def test_help_lists_every_subcommand_with_its_summary() -> None:
    text = " ".join(probe("--help")["out"].split())  # argparse wraps long summaries
    assert set(SUMMARIES) <= set(SUBCOMMANDS)
    for name in SUBCOMMANDS:
        assert f" {name} " in text
        assert " ".join(SUMMARIES[name].split()) in text


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_each_subcommand_help_still_shows_its_own_options(name: str) -> None:
    seen = probe(name, "--help")
    assert seen["code"] == 0
    assert seen["out"].startswith(f"usage: kspm-tui {name} ")
    assert "-h, --help" in seen["out"]


def test_a_subcommand_imports_only_its_own_module() -> None:
    cli_modules = {m for m in probe("history", "--help")["modules"] if m.startswith("kspm_tui.cli.")}
    assert "kspm_tui.cli.history" in cli_modules
    assert not cli_modules & {f"kspm_tui.cli.{n}" for n in ("scan", "rbac", "policy", "fix")}


def test_the_attack_path_graph_needs_no_networkx() -> None:
    code = "import sys, kspm_tui.scan; print('networkx' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          check=True).stdout.strip() == "False"
