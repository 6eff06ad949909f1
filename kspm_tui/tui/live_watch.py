"""Watch mode on a live context: the scan service's watch keeps the explorer's scan current.

The service re-evaluates only what changed and hands over each batch's delta (the failing
findings added, replaced and gone); the deltas since the last refresh are merged here, and when
the explorer takes them (in a worker, at most once per refresh) they are applied to the index
it shows (`ResultIndex.applied`: only the rows they touch are rebuilt) next to the service's
`Scanned` of the same moment, so the UI thread only swaps in a ready pair. A full re-evaluation
or re-judging (exceptions edited) builds the index again. Nothing is queued (events go to a
callback). `+` marks what is new since watching began. The watch's health is kept for the header: the API server lost, kinds failing, or the
watch stopped for good (credentials rejected, access revoked), when the last results stay on
screen marked stale.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from kspm_tui.model import Finding, Status
from kspm_tui.tui.index import ResultIndex, index_scanned, listed_workloads

if TYPE_CHECKING:
    from kspm_tui.scan import Scanned, ScanSettings
    from kspm_tui.watch_publish import Delta
    from kspm_tui.watch_scan import FindingEvent, Heartbeat, WatchService


@dataclass(slots=True)
class Pending:
    """The deltas of the batches since the explorer last took one, merged."""

    added: dict[str, Finding] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)
    whole: bool = False

    def merge(self, delta: Delta) -> None:
        self.whole = self.whole or delta.whole
        if self.whole:
            self.added, self.removed = {}, set()
            return
        for fp in delta.removed:
            self.added.pop(fp, None)
            self.removed.add(fp)
        self.added.update((f.fingerprint, f) for f in delta.added)


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
        self._pending: Pending | None = None  # deltas not taken yet (None: nothing new)
        self._index: ResultIndex | None = None  # the index last taken, the next deltas apply to it
        self._baseline: set[str] = set()
        self._lock = threading.Lock()

    def start(self, scanned: Scanned, settings: ScanSettings, on_change: Callable[[], None],
              on_notice: Callable[[str], None], on_failure: Callable[[str], None]) -> None:
        """Connect, list once, start the watch streams (blocking: call it in a worker)."""
        from kspm_tui.watch_scan import open_watch

        self.stale, self.opened, self.resolved = None, 0, 0
        self._baseline = {f.fingerprint for f in scanned.result.findings if f.status is Status.fail}
        self._index = None

        def changed(delta: Delta) -> None:
            """On the watch's thread, holding its lock: merge only (never wait for the UI here)."""
            if self.service is not service:
                return  # a watch stopped meanwhile (another target opened)
            with self._lock:
                if self._pending is None:
                    self._pending = Pending()
                self._pending.merge(delta)

        def beat(_: Heartbeat) -> None:
            """After each batch, the lock released: tell the explorer when there is something new."""
            if self.service is service and self._pending is not None:
                on_change()

        service = self.service = open_watch(scanned.target, settings, scanned.ruleset, on_event=self._count,
                                            on_delta=changed, on_beat=beat, on_notice=on_notice,
                                            on_failure=on_failure)
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
        """The watch's Scanned as of now and its index, the deltas since the last take applied
        to the last index (`+` marks what is new since watching began); None: nothing new.
        The Scanned is built whole (sorted findings, summary): call it off the UI thread."""
        service = self.service
        if service is None:
            return None
        with service.lock:  # no batch applies meanwhile: the scan and the deltas are of one moment
            with self._lock:
                pending, self._pending = self._pending, None
            if pending is None:
                return None
            scanned = service.scanned
            if scanned is None:
                return None
            if pending.whole or self._index is None:
                index = index_scanned(scanned, self._baseline)
            else:
                index = self._index.applied(list(pending.added.values()), pending.removed,
                                            listed_workloads(scanned))
        self._index = index
        return scanned, index

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
            self._pending = None
        self._index = None
