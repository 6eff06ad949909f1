"""Watching a live target: the scan service kept current from watch streams.

`sources.watch.Watcher` hands over batches of changes; here they are applied to the snapshot
and only what they can affect is re-evaluated (`incremental.py`, `graph/delta.py`): a workload
object its top-level owner and that owner's Namespace; a binding, role, ServiceAccount,
Service, Ingress or NetworkPolicy the subjects and workloads whose graph facts it feeds;
changed namespace facts everything in that namespace; changed cluster facts everything.
Cluster and control-plane rules run whole on every batch.
Each batch is published by difference (`watch_publish.py`): the re-evaluated units' failing
findings replace theirs, are judged against accepted risks (exception files re-read, so an
edited file applies while watching; everything re-judged when the exceptions or the day
change), counted and diffed by fingerprint into finding opened/resolved events. The whole
`Scanned` is built only when asked for (`scanned`, `on_update`); the CLI prints the events,
the explorer applies each batch's `Delta` to what it shows.

Built to run for weeks: events go to `on_event` when given (nothing is queued), else into a
bounded queue that `events()` drains (a slow reader holds the apply thread back while the
watcher coalesces changes, rather than memory growing; with no reader the oldest give way); batches run with the collector paused
but never frozen (`paused_gc(freeze=False)`); the initial list is released once indexed;
glibc's heap is bounded and trimmed after the initial list and each relist (`heap.py`). An
unexpected error while applying a batch is reported and everything re-evaluated; what cannot
heal (credentials rejected, access revoked, repeated crashes) ends the watch: `failure` says
why, `on_failure` hears it and `events()` ends. `heartbeat()` counts what happened, for the
CLI's `--heartbeat`/`--liveness-file`, the explorer's header and the reporter's probes.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from kspm_tui import heap
from kspm_tui.engine.evaluate import Evaluation
from kspm_tui.engine.loader import RuleSet
from kspm_tui.incremental import Incremental, Relisted
from kspm_tui.model import Finding, RuleError, ScanResult, SourceRef, Status
from kspm_tui.perf import paused_gc
from kspm_tui.scan import Scanned, ScanSettings, collect_live, options_for, result_of
from kspm_tui.snapshot import Key, Snapshot
from kspm_tui.sources.watch import Batch, Relist, Watcher
from kspm_tui.target import Progress, Target, connect
from kspm_tui.triage.acceptance import cluster_names
from kspm_tui.watch_publish import Delta, FailingFindings, Published, rebased

if TYPE_CHECKING:
    from kspm_tui.graph.analysis import Analysis
    from kspm_tui.sources.kubeconfig import Connection
    from kspm_tui.sources.live import LiveCollected


@dataclass(slots=True)
class FindingEvent:
    event: Literal["finding opened", "finding resolved"]
    time: datetime
    finding: Finding

    def to_json(self) -> dict[str, Any]:
        return {"event": self.event, "time": self.time.isoformat(), "finding": self.finding.model_dump(mode="json")}


EVENT_BUFFER = 1024  # finding events waiting for `events()`; beyond it the apply thread waits
CRASH_BATCHES = 3  # batches in a row that fail to apply before the watch gives up
STATS_KEPT = 1000  # batches whose evaluated units `EvaluationStats` remembers (a watch lives for weeks)


@dataclass(slots=True)
class Heartbeat:
    """Where a watch stands: what supervisors, the heartbeat line and the explorer show."""

    objects: int
    open: int  # open (failing, not accepted) findings
    batches: int
    events: int  # watch events received
    relists: int
    reconnects: int
    errors: int  # failed watch requests and unexpected errors, reported as they happened
    pending: int  # changes waiting to be applied
    failing: list[str]  # kinds whose watch is failing right now
    server_lost: bool
    failure: str  # why the watch ended ("" while it runs)
    score: int | None = None  # the posture score as a full scan would give it (None before `start`)

    def line(self) -> str:
        failing = ", ".join(self.failing[:3]) + (f" and {len(self.failing) - 3} more" if len(self.failing) > 3 else "")
        state = ("stopped: " + self.failure if self.failure else "API server lost" if self.server_lost
                 else f"failing: {failing}" if self.failing else "ok")
        return (f"{state}; {self.objects} objects, {self.open} open findings; {self.batches} batches, "
                f"{self.events} events, {self.relists} relists, {self.reconnects} reconnects, "
                f"{self.errors} errors, {self.pending} pending" + ("" if self.score is None else f"; score {self.score}"))


@dataclass(slots=True)
class EvaluationStats:
    """How much each batch re-evaluated; for tests and troubleshooting."""

    evaluations: int = 0
    # units of the last STATS_KEPT batches (everything → -1)
    evaluated_units: deque[int] = field(default_factory=lambda: deque(maxlen=STATS_KEPT))


class WatchService:
    """Keeps one live target's Scanned current and reports findings as they open and resolve."""

    def __init__(self, connection: Connection, settings: ScanSettings, ruleset: RuleSet, initial: LiveCollected,
                 *, target: Target | None = None, on_event: Callable[[FindingEvent], None] | None = None,
                 on_update: Callable[[Scanned], None] | None = None,
                 on_delta: Callable[[Delta], None] | None = None, batch_seconds: float = 0.3,
                 backoff: tuple[float, float] = (0.5, 30.0),
                 on_notice: Callable[[str], None] | None = None,
                 on_failure: Callable[[str], None] | None = None,
                 on_beat: Callable[[Heartbeat], None] | None = None, beat_seconds: float = 5.0) -> None:
        self.connection = connection
        self.settings = settings
        self.ruleset = ruleset
        self.initial = initial
        self.target = target or Target("context", context=connection.context.name)
        self.on_event = on_event
        self.on_update = on_update
        self.on_delta = on_delta
        self.on_notice = on_notice
        self.on_failure = on_failure
        self.on_beat = on_beat
        self.beat_seconds = beat_seconds
        self.failure = ""
        self.batches = 0
        self.watcher = Watcher(connection, initial, batch_seconds=batch_seconds, backoff=backoff,
                               on_notice=on_notice, on_fatal=self._fail)
        self.snapshot = Snapshot(initial.collected.objects, cluster_id=initial.collected.cluster_id)
        # The snapshot holds the objects now; the list would keep every replaced one alive.
        initial.collected.objects = []
        self.stats = EvaluationStats()
        self._failing = FailingFindings(settings, cluster_names(settings.cluster_name, settings.context),
                                        lambda finding: self._incremental.always(finding))
        self._base: ScanResult | None = None  # the first scan's report (not-assessable findings, stats)
        self._analysis: Analysis | None = None  # the graph of the last evaluation
        self._scanned: Scanned | None = None  # built when asked for, until the next batch
        # Held while a batch applies and while `scanned` builds: a report is of one snapshot.
        # Hold it to read `scanned` and the deltas handed on so far as of one moment.
        self.lock = threading.RLock()
        self._source = {r.kind: SourceRef(file=f"{connection.context.name}:{r.plural}") for r in initial.resources}
        self._events: queue.Queue[FindingEvent] | None = None if on_event else queue.Queue(EVENT_BUFFER)
        self._stopped = threading.Event()
        self._crashes = 0  # batches in a row that failed to apply
        self._crash_total = 0
        self._reading = False  # events() has been called: a full queue waits for its reader
        self.dropped_events = 0  # oldest events dropped while nobody read events()
        self._exception_problems: set[str] = set()  # those said so far (the first scan's: by the caller)

    @property
    def exception_errors(self) -> list[Any]:
        scanned = self.scanned
        return scanned.result.exception_errors if scanned else []

    @property
    def not_assessable(self) -> list[Finding]:
        """The rules not assessable as of the last batch, as findings (the cluster's)."""
        return self._base.findings if self._base is not None else []

    @property
    def rule_errors(self) -> list[RuleError]:
        """Rules that could not be loaded or broke on an object, as of the last batch."""
        return self._base.rule_errors if self._base is not None else []

    @property
    def findings(self) -> dict[str, Finding]:
        """Open (failing, not accepted) findings by fingerprint: a copy, as the last batch left them
        (the watch's own set changes in place while the next batch publishes)."""
        with self.lock:
            return dict(self._failing.open)

    @property
    def scanned(self) -> Scanned | None:
        """The whole scan as the last batch left it (None before `start`); built on first use
        after each batch, linear in findings: the CLI never asks, the explorer once per refresh."""
        with self.lock:
            if self._scanned is None and self._base is not None:
                self._scanned = Scanned(self.target, self.initial.collected, self.snapshot,
                                        self._failing.result(self._base, self.snapshot, self.initial.collected), self.ruleset,
                                        self.settings, self._analysis)
            return self._scanned

    # -- public surface --------------------------------------------------------------------
    def start(self) -> list[FindingEvent]:
        """Evaluate the initial snapshot, start watching; the initial failures as opened events."""
        started, t0 = datetime.now(UTC), time.perf_counter()
        with self.lock, paused_gc(freeze=False):  # a watch lives on: nothing frozen (see perf.py)
            evaluation = self._evaluate(None)
            result = result_of(self.snapshot, evaluation, self.initial.collected, self.settings, self.ruleset,
                               started, t0)
            # Kept for its not-assessable findings and stats only: the failing ones live in _failing.
            self._base = result.model_copy(update={"findings": [f for f in result.findings
                                                                if f.status is Status.not_assessable]})
            opened = self._reevaluated(None, evaluation, publish=False)
        heap.bound()  # before the watch's threads start: they share capped arenas
        heap.trim()  # the initial list's pages, parsed and indexed
        self.watcher.start()
        threading.Thread(target=self._apply_loop, daemon=True, name="kspm-watch-apply").start()
        return opened

    def events(self) -> Iterator[FindingEvent]:
        """Blocking iterator over events until `stop()` or a failure (then `failure` says why)."""
        if self._events is None:
            raise RuntimeError("this watch delivers its events to on_event")
        self._reading = True
        while True:
            try:
                yield self._events.get(timeout=0.2)
            except queue.Empty:
                if self._stopped.is_set():
                    return

    def stop(self) -> None:
        self._stopped.set()
        self.watcher.stop()

    def heartbeat(self) -> Heartbeat:
        stats = self.watcher.stats
        with self.lock:  # the score's counts, as of one batch
            score = None if self._base is None else self._failing.score(self._base)
        return Heartbeat(objects=len(self.snapshot.index), open=len(self._failing.open), batches=self.batches,
                         events=stats.events, relists=stats.relists, reconnects=stats.reconnects,
                         errors=stats.errors + stats.crashes + self._crash_total, pending=len(self.watcher.pending),
                         failing=self.watcher.failing, server_lost=self.watcher.server_lost, failure=self.failure,
                         score=score)

    def close(self) -> None:
        """Stop and close the connection (for a service `open_watch` made)."""
        self.stop()
        self.connection.close()

    def _fail(self, why: str) -> None:
        """The watch cannot go on: say why once, stop, end `events()`."""
        if self.failure:
            return
        self.failure = why
        self.stop()
        if self.on_failure:
            self.on_failure(why)

    def _say(self, text: str) -> None:
        if self.on_notice and not self._stopped.is_set():
            self.on_notice(f"context {self.connection.context.name!r}: {text}")

    # -- applying and re-evaluating ---------------------------------------------------------
    def _apply_loop(self) -> None:
        """Apply batches as they come, beating at least every `beat_seconds`; never half-alive:
        anything escaping here ends the watch with `failure` set."""
        try:
            for batch in self.watcher.batches(idle=self.beat_seconds):
                if self._stopped.is_set():
                    return
                if batch:
                    self._apply_batch(batch)
                if self.on_beat and not self._stopped.is_set():
                    self.on_beat(self.heartbeat())
        except Exception as exc:  # noqa: BLE001 - reported as the watch's failure, never swallowed
            self._fail(f"the watch stopped: {type(exc).__name__}: {exc}")

    def _apply_batch(self, batch: Batch) -> None:
        """One batch with the collector paused (not frozen: this process lives on). An error is
        reported and everything re-evaluated at once; `CRASH_BATCHES` failures in a row end the watch."""
        with self.lock, paused_gc(freeze=False):
            try:
                only = self._apply(batch)
                for change in batch:  # applied: a relisted object it did not change duplicates the snapshot's
                    if isinstance(change, Relist):
                        change.items = []  # so the page is not alive during the re-evaluation
                self._reevaluate(None if self._crashes else only)
            except Exception as exc:
                self._crashed(f"applying {len(batch)} changes failed ({type(exc).__name__}: {exc}); "
                              "re-evaluating everything")
                try:
                    self._reevaluate(None)
                except Exception as again:
                    self._crashed(f"re-evaluating everything failed too ({type(again).__name__}: {again}); "
                                  "trying again with the next changes")
                    return
                self._say("recovered: every finding re-evaluated")
            self._crashes = 0
        if any(isinstance(change, Relist) for change in batch):
            heap.trim()  # a relist's pages, parsed and applied
        self.batches += 1

    def _crashed(self, text: str) -> None:
        self._crashes += 1
        self._crash_total += 1
        if self._crashes >= CRASH_BATCHES:
            raise RuntimeError(f"{text}; {self._crashes} times in a row")
        self._say(text)

    @cached_property
    def _incremental(self) -> Incremental:
        return Incremental(
            self.snapshot, self.ruleset,
            lambda only: options_for(self.settings, self.initial.collected, self.snapshot, is_cluster=True,
                                     only=only),
            lambda kind: self._source.get(kind, SourceRef()))

    def _apply(self, batch: Batch) -> frozenset[Key] | None:
        """Apply changes to the snapshot; the units to re-evaluate (None: everything)."""
        return self._incremental.apply(
            Relisted(c.kind, c.items, c.first, c.last) if isinstance(c, Relist) else (c.type, c.obj)
            for c in batch)

    def _evaluate(self, only: frozenset[Key] | None) -> Evaluation:
        self.stats.evaluations += 1
        self.stats.evaluated_units.append(-1 if only is None else len(only))
        return self._incremental.evaluate(only)

    def _reevaluate(self, only: frozenset[Key] | None) -> None:
        self._reevaluated(only, self._evaluate(only))

    def _reevaluated(self, only: frozenset[Key] | None, evaluation: Evaluation, *,
                     publish: bool = True) -> list[FindingEvent]:
        """Publish a run over `only` by difference: its units' findings replace theirs, judged,
        counted and diffed into events; the whole Scanned is left to be built when asked for."""
        self._failing.annotate(self.snapshot, None if only is None else self._incremental.changed)
        # failing or, at start, already judged by the first report (judged here again)
        published = self._failing.replace(only, [f for f in evaluation.findings
                                                 if f.status in (Status.fail, Status.accepted)],
                                          evaluation.units or {})
        self._analysis, self._scanned = evaluation.analysis, None
        self._say_exception_problems(publish)
        if self._base is not None:
            listed = len(self._base.rule_errors)
            self._base = rebased(self._base, evaluation)
            for error in self._base.rule_errors[listed:]:
                self._say(f"{error.line()} (met while watching; the other rules still run)")
        return self._update(published, publish=publish)

    def _say_exception_problems(self, say: bool) -> None:
        """Each new problem reading the exceptions (a file edited into bad YAML, a bad accept
        annotation), once: the findings it accepted open again, and the user must know why."""
        now = {error.exceptions_line() for error in self._failing.errors}
        if say:
            for problem in sorted(now - self._exception_problems):
                self._say(f"{problem} (accepted risks it held no longer apply)")
        self._exception_problems = now

    def _update(self, published: Published, *, publish: bool = True) -> list[FindingEvent]:
        """Hand the batch's delta and events on (and the whole Scanned to `on_update`)."""
        now = datetime.now(UTC)
        events = [FindingEvent("finding resolved", now, f) for f in published.resolved]
        events += [FindingEvent("finding opened", now, f) for f in published.opened]
        if self.on_delta:
            self.on_delta(published.delta)
        if self.on_update and (scanned := self.scanned) is not None:
            self.on_update(scanned)
        if publish:
            for event in events:
                self._publish(event)
        return events

    def _publish(self, event: FindingEvent) -> None:
        """To `on_event`, or into the bounded queue: once `events()` reads it, a full queue waits
        for room (a slow reader slows applying); until then the oldest event makes room (a
        caller that only wants `on_update`, like the reporter, never blocks the watch)."""
        if self.on_event:
            self.on_event(event)
            return
        assert self._events is not None
        while not self._stopped.is_set():
            try:
                self._events.put(event, timeout=0.2 if self._reading else 0)
                return
            except queue.Full:
                if not self._reading:
                    with contextlib.suppress(queue.Empty):
                        self._events.get_nowait()
                        self.dropped_events += 1


def open_watch(target: Target, settings: ScanSettings, ruleset: RuleSet, *, progress: Progress | None = None,
               on_event: Callable[[FindingEvent], None] | None = None,
               on_update: Callable[[Scanned], None] | None = None,
               on_delta: Callable[[Delta], None] | None = None,
               on_notice: Callable[[str], None] | None = None,
               on_failure: Callable[[str], None] | None = None,
               on_beat: Callable[[Heartbeat], None] | None = None, beat_seconds: float = 5.0) -> WatchService:
    """Connect to the target's context, list it once, and return its (not yet started) watch.

    Raises SourceUnavailable (one sentence) when the cluster cannot be read.
    """
    settings = replace(settings)
    heap.bound()  # so the initial list's large pages are mmapped and unmapped when freed
    connection = connect(target)
    try:
        initial = collect_live(connection, target, settings, progress)
    except BaseException:
        connection.close()
        raise
    return WatchService(connection, settings, ruleset, initial, target=target, on_event=on_event,
                        on_update=on_update, on_delta=on_delta, on_notice=on_notice, on_failure=on_failure, on_beat=on_beat,
                        beat_seconds=beat_seconds)
