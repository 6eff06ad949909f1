"""`kspm-tui scan --watch` as a user runs it: its own process, stderr read line by line."""
from __future__ import annotations

import json
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import ROOT


class WatchProcess:
    """The CLI watch with `args` after `scan --watch`; stdout (the events) is collected in
    `out`, stderr lines are matched in order by `wait_line` and kept in `seen`."""

    def __init__(self, kubeconfig: Path, *args: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "kspm_tui", "scan", "--watch",
                                      "--kubeconfig", str(kubeconfig), *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        self.out: list[str] = []
        self.seen: list[str] = []
        self._lines: queue.Queue[str] = queue.Queue()
        # Readers, as pipes need: a full pipe would stall the watch.
        self._readers = [
            threading.Thread(target=lambda: [self._lines.put(line) for line in self.proc.stderr or ()], daemon=True),
            threading.Thread(target=lambda: self.out.extend(self.proc.stdout or ()), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def wait_line(self, pattern: str, timeout: float = 60) -> str:
        """The next stderr line matching `pattern`. The timeout is a safety net for a hung
        watch, not a speed requirement."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no line matching {pattern!r} in:\n{''.join(self.seen)}") from None
            self.seen.append(line)
            if re.search(pattern, line):
                return line

    def wait_event(self, matches: Callable[[dict[str, Any]], bool], timeout: float = 60) -> dict[str, Any]:
        """The first event printed on stdout (a JSON line) that `matches`. The timeout is a
        safety net for a hung watch, not a speed requirement."""
        deadline = time.monotonic() + timeout
        while True:
            for line in list(self.out):
                if matches(event := json.loads(line)):
                    return event
            if time.monotonic() > deadline:
                raise AssertionError(f"no matching event in:\n{''.join(self.out)}")
            time.sleep(0.05)

    def stderr_text(self) -> str:
        """Every stderr line read so far and what is still queued (all of it after `stop`)."""
        while True:
            try:
                self.seen.append(self._lines.get_nowait())
            except queue.Empty:
                return "".join(self.seen)

    def stop(self) -> None:
        """Ctrl-C's equivalent if it still runs (killed if it does not end); then every line
        it wrote is in `out` and `stderr_text()`."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for reader in self._readers:
            reader.join(30)
