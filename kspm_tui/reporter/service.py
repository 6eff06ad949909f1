"""The reporter's loop: watch the cluster (the scan service's watch), keep its PolicyReports current.

The watch hands over each batch's `Delta` (the findings it added and removed; after the first
evaluation, a full re-evaluation or changed exceptions: "whole"). The desired reports are
updated right there, while the snapshot is consistent: only the reports holding changed
findings are built again (`ReportIndex`), so a batch costs what it changed, not the cluster's
size. The latest set waits for the writer thread, which coalesces: while it is writing, newer
sets replace older ones, and a set whose writes partly failed is tried again after a pause.
`/metrics` builds the whole scan only when scraped.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from kspm_tui import exit_codes
from kspm_tui.engine.loader import RuleSet
from kspm_tui.reporter.metrics import Metrics
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from kspm_tui.reporter.reports import Desired, ReportIndex, ReportKey
from kspm_tui.reporter.writer import SyncStats, Writer
from kspm_tui.target import ScanSettings, Target

if TYPE_CHECKING:
    from kspm_tui.watch_publish import Delta
    from kspm_tui.watch_scan import WatchService

RETRY_SECONDS = 30.0  # pause before writing a set again whose writes partly failed


@dataclass(slots=True)
class WriteOptions:
    """How hard the reporter may write (a token bucket, as client-go's QPS and burst), retries per
    write and their backoff. 50/s writes a 10k-workload cluster's first reports in minutes."""

    qps: float = 50.0
    burst: int = 100
    retries: int = 5
    backoff: tuple[float, float] = (0.2, 10.0)
    retry_seconds: float = RETRY_SECONDS


class Reporter:
    """One reporter run against one cluster; `stop()` ends `run()` from any thread."""

    def __init__(self, target: Target, settings: ScanSettings, ruleset: RuleSet, metrics: Metrics, *,
                 writes: WriteOptions | None = None, log: Callable[[str], None] = lambda _: None) -> None:
        self.target = target
        self.settings = settings
        self.ruleset = ruleset
        self.metrics = metrics
        self.writes = writes or WriteOptions()
        self.log = log
        self.stopped = threading.Event()
        self.ready = threading.Event()  # the first full set of reports is written
        self.alive = True  # false once the loop ended on an error (healthz fails)
        self.failure = ""  # why the watch could not go on (credentials rejected, access revoked, ...)
        self.last_sync: SyncStats | None = None
        self.sync_count = 0
        self._pending: dict[ReportKey, Desired] | None = None
        self._wake = threading.Condition()
        self._service: WatchService | None = None
        self._index: ReportIndex | None = None

    def stop(self) -> None:
        self.stopped.set()
        with self._wake:
            self._wake.notify_all()

    def run(self, *, once: bool = False) -> int:
        """List, evaluate and write; then (without `once`) follow the watch until `stop()`.

        Raises SourceUnavailable when the cluster cannot be read or serves no PolicyReport API.
        """
        from kspm_tui.watch_scan import open_watch

        try:
            service = self._service = open_watch(self.target, self.settings, self.ruleset, on_delta=self._changed,
                                                 on_notice=self.log, on_failure=self._failed)
        except BaseException:
            self.alive = False
            raise
        try:
            for notice in service.initial.collected.notices:
                self.log(f"warning: {notice}")
            for gap in service.initial.collected.coverage:
                self.log(f"coverage: {gap.reason}")
            self.metrics.follow(lambda: scanned.result if (scanned := service.scanned) else None,
                                len(service.initial.collected.coverage))
            connection = service.connection
            writer = Writer(connection.client, connection.context.name, timeout=connection.timeout,
                            qps=self.writes.qps, burst=self.writes.burst,
                            retries=self.writes.retries, backoff=self.writes.backoff, stop=self.stopped,
                            on_error=self.metrics.api_error, on_write=self.metrics.write)
            writer.load()
            self.log(f"{len(writer.written)} reports of an earlier run found in context {connection.context.name}")
            service.start()  # evaluates the first snapshot: _changed has the first set waiting
            code = self._loop(writer, once)
            return exit_codes.UNAVAILABLE if self.failure else code
        except BaseException:
            self.alive = False
            raise
        finally:
            service.close()

    def _failed(self, why: str) -> None:
        """The watch ended for good (e.g. a 401/403 that persists): say it, fail healthz, stop; the
        process exits 3 so its supervisor restarts it rather than it serving stale reports as live."""
        self.failure = why
        self.alive = False
        self.log(f"error: {why}")
        self.stop()

    def _changed(self, delta: Delta) -> None:
        """On the watch's thread, holding its lock (the snapshot is consistent): the reports the
        cluster now wants, the batch's changes applied to the last set."""
        service = self._service
        assert service is not None
        index = self._index
        if delta.whole or index is None:
            scanned = service.scanned
            assert scanned is not None
            index = self._index = ReportIndex(scanned.result.cluster.id)
            index.rebuild(scanned.result.findings, scanned.snapshot, scanned.finished)
        else:
            index.apply(delta, service.not_assessable, service.snapshot, datetime.now(UTC))
        desired = index.desired()
        with self._wake:
            self._pending = desired
            self._wake.notify_all()

    def _loop(self, writer: Writer, once: bool) -> int:
        while not self.stopped.is_set():
            with self._wake:
                while self._pending is None and not self.stopped.is_set():
                    self._wake.wait(1.0)
                desired, self._pending = self._pending, None
            if desired is None:
                break
            stats = self._sync(writer, desired)
            if once:
                return exit_codes.OK if stats.complete else exit_codes.PARTIAL
            if not stats.complete:
                with self._wake:  # try the same set again later, unless a newer one comes first
                    if self._pending is None:
                        self._wake.wait(self.writes.retry_seconds)
                        self._pending = self._pending or desired
        return exit_codes.OK

    def _sync(self, writer: Writer, desired: dict[ReportKey, Desired]) -> SyncStats:
        t0 = time.perf_counter()
        stats = writer.sync(desired)
        self.metrics.sync_duration.set(time.perf_counter() - t0)
        self.metrics.reports.set(len(writer.written))
        self.last_sync = stats
        self.sync_count += 1
        if stats.complete:
            self.metrics.last_success.set(time.time())
            self.ready.set()
        self.log(f"reports: {stats.applied} applied, {stats.deleted} deleted, {stats.unchanged} unchanged"
                 + (f", {stats.failed} failed (retrying)" if stats.failed else ""))
        return stats
