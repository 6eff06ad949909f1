"""Watch mode on a live context: the scan service's watch keeps the explorer's scan current.

The service re-evaluates only what changed and hands over a new `Scanned` per batch (accepted
risks judged again, exception files re-read); only the latest is kept, and its browsing index
is built when the explorer takes it (in a worker, at most once per refresh), so the UI thread
only swaps in a ready pair. Nothing is queued (events go to a callback). `+` marks what is new since watching
began. The watch's health is kept for the header: the API server lost, kinds failing, or the
watch stopped for good (credentials rejected, access revoked), when the last results stay on
screen marked stale.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from kspm_tui.model import Status
from kspm_tui.tui.index import ResultIndex, index_scanned

if TYPE_CHECKING:
    from kspm_tui.scan import Scanned, ScanSettings
    from kspm_tui.watch_scan import FindingEvent, WatchService


@dataclass(slots=True)
class Stale:
    """The watch ended: why, and the scan left on screen (stale from `since`)."""

    scanned: Scanned
    why: str
    since: datetime


class LiveWatch:
    def __init__(self) -> None:
        self.service: WatchService | None = None
        self.stale: Stale | None = None
        self.opened = self.resolved = 0  # finding events since watching began
        self._latest: Scanned | None = None
        self._baseline: set[str] = set()
        self._lock = threading.Lock()

    def start(self, scanned: Scanned, settings: ScanSettings, on_change: Callable[[], None],
              on_notice: Callable[[str], None], on_failure: Callable[[str], None]) -> None:
        """Connect, list once, start the watch streams (blocking: call it in a worker)."""
        from kspm_tui.watch_scan import open_watch

        self.stale, self.opened, self.resolved = None, 0, 0
        self._baseline = {f.fingerprint for f in scanned.result.findings if f.status is Status.fail}

        def updated(fresh: Scanned) -> None:
            if self.service is not service:
                return  # a watch stopped meanwhile (another target opened)
            with self._lock:
                self._latest = fresh
            on_change()

        service = self.service = open_watch(scanned.target, settings, scanned.ruleset, on_event=self._count,
                                            on_update=updated, on_notice=on_notice, on_failure=on_failure)
        service.start()

    def _count(self, event: FindingEvent) -> None:
        if event.event == "finding opened":
            self.opened += 1
        else:
            self.resolved += 1

    def mark_stale(self, shown: Scanned, why: str) -> None:
        """The watch ended for good: `shown` stays on screen, stale from now."""
        self.stale = Stale(shown, why, datetime.now(UTC))

    def take(self) -> tuple[Scanned, ResultIndex] | None:
        """The latest Scanned not shown yet and its index, `+` marking what is new since watching
        began (None: nothing new). Linear in findings: call it off the UI thread."""
        with self._lock:
            latest, self._latest = self._latest, None
        return None if latest is None else (latest, index_scanned(latest, self._baseline))

    def status(self, shown: Scanned | None) -> str:
        """The watch's state for the header ("" when there is nothing to say)."""
        if self.stale is not None and self.stale.scanned is shown:
            return f"⚠ stale since {self.stale.since.astimezone().strftime('%H:%M:%S')}: watch stopped"
        service = self.service
        if service is None:
            return ""
        watcher = service.watcher
        if watcher.server_lost:
            return "⚠ API server lost, reconnecting"
        if failing := watcher.failing:
            return f"⚠ watch failing: {', '.join(failing[:2])}{'…' if len(failing) > 2 else ''}"
        return ""

    def stop(self) -> None:
        if self.service is not None:
            self.service.close()
        self.service = None
        with self._lock:
            self._latest = None
