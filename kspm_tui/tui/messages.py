"""Messages the app broadcasts to its screens about scans (workers never touch widgets)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

from kspm_tui.target import Target

if TYPE_CHECKING:
    from kspm_tui.scan import Scanned


class ScanStarted(Message):
    def __init__(self, target: Target) -> None:
        super().__init__()
        self.target = target


class ScanProgress(Message):
    """`stage` is "collect" (objects read) or "evaluate" (workloads checked)."""

    def __init__(self, stage: str, done: int, total: int) -> None:
        super().__init__()
        self.stage, self.done, self.total = stage, done, total


class ScanPending(Message):
    """Provisional rows arrived (`app.pending`): `done` of `total` files read so far."""

    def __init__(self, done: int, total: int) -> None:
        super().__init__()
        self.done, self.total = done, total


class ScanCompleted(Message):
    def __init__(self, scanned: Scanned) -> None:
        super().__init__()
        self.scanned = scanned


class ScanFailedMessage(Message):
    def __init__(self, target: Target, message: str) -> None:
        super().__init__()
        self.target, self.message = target, message
