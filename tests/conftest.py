"""Shared fixtures: run the real CLI as a user would, with private config/data dirs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# Live-cluster fixtures (test API servers whose request log is audited on teardown).
pytest_plugins = ["tests.apiserver.fixtures"]

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


@pytest.fixture(autouse=True)
def user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets empty user config/data directories (never the developer's own)."""
    base = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("KSPM_TUI_CONFIG_DIR", str(base / "config"))
    monkeypatch.setenv("KSPM_TUI_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("KSPM_TUI_CACHE_DIR", str(base / "cache"))
    return base


@pytest.fixture
def annotations_may_accept_critical(user_dirs: Path) -> None:
    """A config letting `kspm-tui.io/accept` annotations accept critical findings (off by
    default): for tests about triage whose fixtures waive K8S-PRIVILEGED on the object."""
    (user_dirs / "config").mkdir(parents=True, exist_ok=True)
    (user_dirs / "config" / "config.yaml").write_text("annotation_exceptions: {allow_critical: true}\n")


@pytest.fixture
def run_cli(user_dirs: Path):
    """Run `kspm-tui ARGS` in a subprocess (stdin optional) and capture what a user sees."""

    def run(*args: str, stdin: str | None = None, env: dict[str, str] | None = None,
            cwd: Path | None = None, timeout: float = 300) -> CliResult:
        full_env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **(env or {})}
        proc = subprocess.run(
            [sys.executable, "-m", "kspm_tui", *args], input=stdin, capture_output=True, text=True,
            env=full_env, cwd=cwd or ROOT, timeout=timeout,
        )
        return CliResult(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture
def live_demo(serve: Callable[..., Any], kubeconfig: Callable[..., Path], tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> Any:
    """KUBECONFIG with `demo-live` (the demo served over HTTPS) and two contexts pointing nowhere."""
    from kspm_tui.sources.demo import read_demo
    from tests.tui_helpers import write_kubeconfig

    server = serve([item.obj for item in read_demo().objects])
    live = kubeconfig(server, context="demo-live")
    dead = write_kubeconfig(tmp_path / "dead")
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(live), str(dead)]))
    return server
