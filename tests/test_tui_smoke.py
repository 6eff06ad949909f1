"""The installed explorer in a real pseudo-terminal: starts, paints, takes keys, quits cleanly."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pexpect

ROOT = Path(__file__).resolve().parent.parent


def spawn(*args: str) -> pexpect.spawn:
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "36",
           "KSPM_TUI_CLIPBOARD": "osc52"}
    script = Path(sys.executable).parent / "kspm-tui"  # the installed entry point, as a user runs it
    command, argv = (str(script), list(args)) if script.exists() else (sys.executable, ["-m", "kspm_tui", *args])
    return pexpect.spawn(command, argv, cwd=str(ROOT), env=env,
                         dimensions=(36, 120), timeout=60, encoding="utf-8", codec_errors="replace")


def esc(child: pexpect.spawn) -> None:
    """A lone Esc: pause so the terminal parser does not read Esc+next key as Alt+key."""
    child.send("\x1b")
    time.sleep(0.3)


def test_explorer_in_a_pty_drills_and_quits_with_q() -> None:
    child = spawn("--demo")
    child.expect("Posture")
    child.expect("monitoring")
    child.send("\r")  # Enter on "(all namespaces)"
    child.expect("all workloads")
    esc(child)  # back
    child.send("?")
    child.expect("Jumps")
    esc(child)
    child.send("q")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before


def test_missing_path_is_one_clear_sentence() -> None:
    child = spawn("/no/such/folder")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    assert "/no/such/folder: no such file or directory" in child.before
    assert "Traceback" not in child.before


def test_explorer_refuses_two_targets_in_one_sentence() -> None:
    child = spawn("--demo", "--context", "prod")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    assert "open one thing: PATHs, --demo or --context NAME" in child.before
