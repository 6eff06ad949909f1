"""Watching a live target: the scan service kept current from watch streams.

`sources.watch.Watcher` hands over batches of changes; here they are applied to the snapshot
and only what they can affect is re-evaluated (`incremental.py`, `graph/delta.py`): a workload
object its top-level owner and that owner's Namespace; a binding, role, ServiceAccount,
Service, Ingress or NetworkPolicy the subjects and workloads whose graph facts it feeds;
changed namespace facts everything in that namespace; changed cluster facts everything.
Cluster and control-plane rules run whole on every batch.
Each batch gives a new `Scanned` (accepted risks judged again, exception files re-read, so
an edited file applies while watching); failing findings are diffed by fingerprint into
finding opened/resolved events. The CLI prints the events; the explorer shows each Scanned.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from kspm_tui.engine.evaluate import Evaluation
from kspm_tui.engine.loader import RuleSet
from kspm_tui.incremental import Incremental, Relisted
from kspm_tui.inventory import build_inventory
from kspm_tui.model import Finding, ScanResult, SourceRef, Status
from kspm_tui.perf import paused_gc
from kspm_tui.results import resummarize, sort_findings
from kspm_tui.scan import Scanned, ScanSettings, collect_live, options_for, result_of
from kspm_tui.snapshot import Key, Snapshot
from kspm_tui.sources.watch import Batch, Relist, Watcher
from kspm_tui.target import Progress, Target, connect
from kspm_tui.triage.acceptance import accept_risks

if TYPE_CHECKING:
    from kspm_tui.sources.kubeconfig import Connection
    from kspm_tui.sources.live import LiveCollected


@dataclass(slots=True)
class FindingEvent:
    event: Literal["finding opened", "finding resolved"]
    time: datetime
    finding: Finding

    def to_json(self) -> dict[str, Any]:
        return {"event": self.event, "time": self.time.isoformat(), "finding": self.finding.model_dump(mode="json")}


@dataclass(slots=True)
class EvaluationStats:
    """How much each batch re-evaluated; for tests and troubleshooting."""

    evaluations: int = 0
    evaluated_units: list[int] = field(default_factory=list)  # units per batch (everything → -1)


class WatchService:
    """Keeps one live target's Scanned current and reports findings as they open and resolve."""

    def __init__(self, connection: Connection, settings: ScanSettings, ruleset: RuleSet, initial: LiveCollected,
                 *, target: Target | None = None, on_event: Callable[[FindingEvent], None] | None = None,
                 on_update: Callable[[Scanned], None] | None = None, batch_seconds: float = 0.3,
                 backoff: tuple[float, float] = (0.5, 30.0),
                 on_notice: Callable[[str], None] | None = None) -> None:
        self.connection = connection
        self.settings = settings
        self.ruleset = ruleset
        self.initial = initial
        self.target = target or Target("context", context=connection.context.name)
        self.on_event = on_event
        self.on_update = on_update
        self.watcher = Watcher(connection, initial, batch_seconds=batch_seconds, backoff=backoff,
                               on_notice=on_notice)
        self.snapshot = Snapshot(initial.collected.objects, cluster_id=initial.collected.cluster_id)
        self.stats = EvaluationStats()
        self.scanned: Scanned | None = None
        self.findings: dict[str, Finding] = {}  # open (failing, not accepted) findings by fingerprint
        self._failing: dict[str, Finding] = {}  # failing before accepted risks are judged
        self._base: ScanResult | None = None  # the first scan's report (not-assessable findings, stats)
        self._source = {r.kind: SourceRef(file=f"{connection.context.name}:{r.plural}") for r in initial.resources}
        self._events: queue.Queue[FindingEvent | None] = queue.Queue()
        self._stopped = threading.Event()

    @property
    def exception_errors(self) -> list[Any]:
        return self.scanned.result.exception_errors if self.scanned else []

    # -- public surface --------------------------------------------------------------------
    def start(self) -> list[FindingEvent]:
        """Evaluate the initial snapshot, start watching; the initial failures as opened events."""
        started, t0 = datetime.now(UTC), time.perf_counter()
        with paused_gc():
            evaluation = self._evaluate(None)
            self._failing = {f.fingerprint: f.model_copy() for f in evaluation.findings if f.status is Status.fail}
            result = result_of(self.snapshot, evaluation, self.initial.collected, self.settings, self.ruleset,
                               started, t0)
        self._base = result
        opened = self._update(result, evaluation, publish=False)
        self.watcher.start()
        threading.Thread(target=self._apply_loop, daemon=True, name="kspm-watch-apply").start()
        return opened

    def events(self) -> Iterator[FindingEvent]:
        """Blocking iterator over events until `stop()`."""
        while True:
            event = self._events.get()
            if event is None:
                return
            yield event

    def stop(self) -> None:
        self._stopped.set()
        self.watcher.stop()
        self._events.put(None)

    def close(self) -> None:
        """Stop and close the connection (for a service `open_watch` made)."""
        self.stop()
        self.connection.close()

    # -- applying and re-evaluating ---------------------------------------------------------
    def _apply_loop(self) -> None:
        for batch in self.watcher.batches():
            if self._stopped.is_set():
                return
            only = self._apply(batch)
            self._reevaluate(only)

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
            Relisted(c.kind, c.items) if isinstance(c, Relist) else (c.type, c.obj) for c in batch)

    def _evaluate(self, only: frozenset[Key] | None) -> Evaluation:
        self.stats.evaluations += 1
        self.stats.evaluated_units.append(-1 if only is None else len(only))
        return self._incremental.evaluate(only)

    def _reevaluate(self, only: frozenset[Key] | None) -> None:
        evaluation = self._evaluate(only)
        self._failing = self._incremental.merge(self._failing, evaluation, only)
        self._update(self._result(), evaluation)

    def _result(self) -> ScanResult:
        """The first scan's report with today's failing findings, judged and counted again."""
        base = self._base
        assert base is not None, "start() builds the first report"
        failing = [f.model_copy() for f in self._failing.values()]
        kept = [f for f in base.findings if f.status is Status.not_assessable]
        result = base.model_copy(update={"findings": sort_findings(kept + failing),
                                         "inventory": build_inventory(self.snapshot)})
        counts = Counter(f.rule for f in failing)
        result.rule_stats = [st.model_copy(update={"failed": counts.get(st.rule, 0), "accepted": 0})
                             for st in base.rule_stats]
        result.summary = resummarize(result)
        accept_risks(result, self.settings)
        return result

    def _update(self, result: ScanResult, evaluation: Evaluation, *, publish: bool = True) -> list[FindingEvent]:
        """Publish the new Scanned and the events between the previous open findings and these."""
        self.scanned = Scanned(self.target, self.initial.collected, self.snapshot, result, self.ruleset,
                               self.settings, evaluation.analysis)
        current = {f.fingerprint: f for f in result.findings if f.status is Status.fail}
        now = datetime.now(UTC)
        events = [FindingEvent("finding resolved", now, f) for fp, f in self.findings.items() if fp not in current]
        events += [FindingEvent("finding opened", now, f) for fp, f in current.items() if fp not in self.findings]
        self.findings = current
        if self.on_update:
            self.on_update(self.scanned)
        if publish:
            for event in events:
                if self.on_event:
                    self.on_event(event)
                self._events.put(event)
        return events


def open_watch(target: Target, settings: ScanSettings, ruleset: RuleSet, *, progress: Progress | None = None,
               on_event: Callable[[FindingEvent], None] | None = None,
               on_update: Callable[[Scanned], None] | None = None,
               on_notice: Callable[[str], None] | None = None) -> WatchService:
    """Connect to the target's context, list it once, and return its (not yet started) watch.

    Raises SourceUnavailable (one sentence) when the cluster cannot be read.
    """
    settings = replace(settings)
    connection = connect(target)
    try:
        initial = collect_live(connection, target, settings, progress)
    except BaseException:
        connection.close()
        raise
    return WatchService(connection, settings, ruleset, initial, target=target, on_event=on_event,
                        on_update=on_update, on_notice=on_notice)
