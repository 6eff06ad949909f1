"""Watch mode: a snapshot kept current from watch streams, and finding opened/resolved events.

One thread per kind holds a watch open from the list's resourceVersion (bookmarks keep it
fresh; a 410 Gone relists that kind; other failures reconnect with exponential backoff).
Changes are batched briefly, applied to the snapshot, and only what they can affect is
re-evaluated:

- a workload object (Pod, ReplicaSet, Deployment, ...): its top-level owner;
- a namespace-level object (Namespace, NetworkPolicy, ResourceQuota, LimitRange): every
  workload and object in that namespace, since namespace facts changed;
- anything else (RBAC, webhooks, Services, ...): everything, since graph facts may change.

Cluster, control-plane and graph (RBAC subject, attack path) rules run whole on every batch. Failing
findings are diffed by fingerprint into events. The CLI prints them; the TUI can consume the
same `WatchService` through `on_event` or `events()`.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from kspm_tui.engine.evaluate import Options, evaluate_snapshot
from kspm_tui.engine.loader import RuleSet
from kspm_tui.inventory import accept_annotations
from kspm_tui.kinds import WORKLOAD_KINDS
from kspm_tui.model import Finding, Scope, SourceRef, Status
from kspm_tui.scan import ScanSettings
from kspm_tui.snapshot import Key, Snapshot, key_of, namespace_of
from kspm_tui.sources import SourcedObject
from kspm_tui.sources.apiclient import METADATA_LIST, ApiError, ApiReader, ConnectionLost
from kspm_tui.sources.kubeconfig import Connection, LiveError
from kspm_tui.sources.live import Collector, LiveCollected, Resource, normalize
from kspm_tui.triage.acceptance import annotation_exceptions, cluster_names, judge, load_exceptions
from kspm_tui.yamlio import load_json

# Scopes the engine evaluates in full on every batch (cheap, or graph-wide: RBAC subjects and
# attack paths), so their findings are replaced wholesale rather than per unit.
ALWAYS_SCOPES = frozenset({Scope.cluster, Scope.control_plane, Scope.subject, Scope.path})
NAMESPACE_LEVEL = frozenset({"Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange"})
WATCH_SECONDS = 300  # server-side timeout of one watch request; we reconnect from the last version
METADATA = METADATA_LIST.replace("PartialObjectMetadataList", "PartialObjectMetadata")


@dataclass(slots=True)
class FindingEvent:
    event: Literal["finding opened", "finding resolved"]
    time: datetime
    finding: Finding

    def to_json(self) -> dict[str, Any]:
        return {"event": self.event, "time": self.time.isoformat(), "finding": self.finding.model_dump(mode="json")}


@dataclass(slots=True)
class _Change:
    type: str  # ADDED | MODIFIED | DELETED
    obj: dict[str, Any]


@dataclass(slots=True)
class _Relist:
    kind: str
    items: list[dict[str, Any]]


@dataclass(slots=True)
class WatchStats:
    """What the watchers did; for tests, the TUI status line and troubleshooting."""

    events: int = 0
    relists: int = 0
    reconnects: int = 0
    bookmarks: int = 0
    evaluations: int = 0
    evaluated_units: list[int] = field(default_factory=list)  # units per batch (None → full = -1)


class WatchService:
    """Keeps a snapshot of one cluster current and reports findings as they open and resolve."""

    def __init__(self, connection: Connection, settings: ScanSettings, ruleset: RuleSet, initial: LiveCollected,
                 *, on_event: Callable[[FindingEvent], None] | None = None, batch_seconds: float = 0.3,
                 backoff: tuple[float, float] = (0.5, 30.0)) -> None:
        self.connection = connection
        self.settings = settings
        self.ruleset = ruleset
        self.initial = initial
        self.on_event = on_event
        self.batch_seconds = batch_seconds
        self.backoff = backoff
        self.reader = ApiReader(connection, retries=1)
        self.collector = Collector(connection, reader=self.reader)
        collected = initial.collected
        self.snapshot = Snapshot(collected.objects, cluster_id=collected.cluster_id)
        self.stats = WatchStats()
        self._scopes = {r.id: r.rule.scope for r in ruleset.rules}
        self._changes: queue.Queue[_Change | _Relist] = queue.Queue()
        self._events: queue.Queue[FindingEvent | None] = queue.Queue()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.findings: dict[str, Finding] = {}
        self._source = {r.kind: SourceRef(file=f"{connection.context.name}:{r.plural}") for r in initial.resources}
        self._risks, self.exception_errors = load_exceptions(settings.exception_files,
                                                             user_file=settings.user_exceptions)

    # -- public surface --------------------------------------------------------------------
    def start(self) -> list[FindingEvent]:
        """Evaluate the initial snapshot, start watching; the initial failures as opened events."""
        self.findings = {f.fingerprint: f for f in self._evaluate(None) if f.status is Status.fail}
        now = datetime.now(UTC)
        opened = [FindingEvent("finding opened", now, f) for f in self.findings.values()]
        for resource in self.initial.resources:
            if resource.watchable:
                self._spawn(self._watch_kind, resource, self.initial.versions.get(resource.kind, ""))
        self._spawn(self._apply_loop)
        return opened

    def events(self) -> Iterator[FindingEvent]:
        """Blocking iterator over events until `stop()`."""
        while True:
            event = self._events.get()
            if event is None:
                return
            yield event

    def stop(self) -> None:
        self._stop.set()
        self._events.put(None)

    # -- watching ------------------------------------------------------------------------------
    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name=f"kspm-watch-{args[:1]}")
        thread.start()
        self._threads.append(thread)

    def _watch_kind(self, resource: Resource, version: str) -> None:
        delay = self.backoff[0]
        while not self._stop.is_set():
            try:
                if not version:
                    version = self._relist(resource)
                version = self._stream(resource, version)
                delay = self.backoff[0]
            except ApiError as exc:
                if exc.status == 410:
                    version = ""
                    continue
                self._pause(delay)
                delay = min(delay * 2, self.backoff[1])
            except (ConnectionLost, LiveError):
                self.stats.reconnects += 1
                self._pause(delay)
                delay = min(delay * 2, self.backoff[1])

    def _pause(self, seconds: float) -> None:
        self._stop.wait(seconds)

    def _relist(self, resource: Resource) -> str:
        items, version = self.collector.list_all(resource)
        self.stats.relists += 1
        self._changes.put(_Relist(resource.kind, items))
        return version

    def _stream(self, resource: Resource, version: str) -> str:
        """One watch request; returns the version to resume from ("" after 410: relist)."""
        query = [("watch", "true"), ("resourceVersion", version), ("allowWatchBookmarks", "true"),
                 ("timeoutSeconds", WATCH_SECONDS)]
        accept = METADATA if resource.metadata_only else "application/json"
        for line in self.reader.stream_lines(resource.list_path, query, WATCH_SECONDS + 30, accept):
            if self._stop.is_set():
                break
            event = load_json(line)
            kind, obj = event.get("type"), event.get("object") or {}
            if kind == "ERROR":
                code = obj.get("code")
                if code == 410:
                    return ""
                raise ApiError(code or 500, obj.get("reason", ""), obj.get("message", ""), resource.list_path)
            version = (obj.get("metadata") or {}).get("resourceVersion") or version
            if kind == "BOOKMARK":
                self.stats.bookmarks += 1
                continue
            self.stats.events += 1
            self._changes.put(_Change(kind, normalize(obj, resource)))
        return version

    # -- applying and re-evaluating ---------------------------------------------------------
    def _apply_loop(self) -> None:
        while not self._stop.is_set():
            try:
                first = self._changes.get(timeout=0.2)
            except queue.Empty:
                continue
            batch = [first]
            deadline = time.monotonic() + self.batch_seconds
            while (left := deadline - time.monotonic()) > 0:
                try:
                    batch.append(self._changes.get(timeout=left))
                except queue.Empty:
                    break
            only = self._apply(batch)
            self._reevaluate(only)

    def _apply(self, batch: list[_Change | _Relist]) -> frozenset[Key] | None:
        """Apply changes to the snapshot; the units to re-evaluate (None: everything)."""
        units: set[Key] | None = set()
        namespaces: set[str] = set()
        for change in batch:
            if isinstance(change, _Relist):
                units = None
                self._replace_kind(change.kind, change.items)
                continue
            obj = change.obj
            kind, key = obj["kind"], key_of(obj)
            if units is not None:
                if kind in WORKLOAD_KINDS:
                    units |= self._owner_units(key)
                elif kind in NAMESPACE_LEVEL:
                    namespaces.add(obj["metadata"]["name"] if kind == "Namespace" else namespace_of(obj) or "")
                else:
                    units = None
            if change.type == "DELETED":
                self.snapshot.remove(key)
            else:
                self.snapshot.add(SourcedObject(obj, self._source.get(kind, SourceRef())))
            if units is not None and kind in WORKLOAD_KINDS:
                units |= self._owner_units(key)
        if units is None:
            return None
        for namespace in namespaces:
            units.add(("Namespace", None, namespace))
            units.update(k for k in self.snapshot.index if k[1] == namespace)
        return frozenset(units)

    def _owner_units(self, key: Key) -> set[Key]:
        """The object itself and its top-level owner (what its findings attach to)."""
        item = self.snapshot.index.get(key)
        if item is None:
            return {key}
        return {key, key_of(self.snapshot.top_owner(item).obj)}

    def _replace_kind(self, kind: str, items: list[dict[str, Any]]) -> None:
        fresh = {key_of(obj): obj for obj in items}
        for item in list(self.snapshot.of_kind(kind)):
            key = key_of(item.obj)
            if key not in fresh:
                self.snapshot.remove(key)
        for obj in fresh.values():
            self.snapshot.add(SourcedObject(obj, self._source.get(kind, SourceRef())))

    def _evaluate(self, only: frozenset[Key] | None) -> list[Finding]:
        settings = self.settings
        options = Options(
            include_system=settings.include_system, system_namespaces=tuple(settings.config.system_namespaces),
            context=settings.context, cluster_name=settings.cluster_name,
            coverage=self.initial.collected.coverage, is_cluster=True, only=only,
        )
        self.stats.evaluations += 1
        self.stats.evaluated_units.append(-1 if only is None else len(only))
        findings = evaluate_snapshot(self.snapshot, self.ruleset, options).findings
        # Accepted risks are not open findings: exceptions from the files read at start, and
        # from the annotations the objects carry now.
        from_annotations, _ = annotation_exceptions(accept_annotations(self.snapshot))
        judge(findings, self._risks + from_annotations, cluster_names(settings.cluster_name, settings.context))
        return findings

    def _always(self, finding: Finding) -> bool:
        """Findings of rules that run whole on every batch (cluster, control-plane, graph scopes)."""
        return finding.kind == "Cluster" or self._scopes.get(finding.rule) in ALWAYS_SCOPES

    def _reevaluate(self, only: frozenset[Key] | None) -> None:
        fresh = {f.fingerprint: f for f in self._evaluate(only) if f.status is Status.fail}
        if only is None:
            kept: dict[str, Finding] = {}
        else:
            kept = {fp: f for fp, f in self.findings.items()
                    if not self._always(f) and (f.kind, f.namespace, f.name) not in only}
        current = {**kept, **fresh}
        now = datetime.now(UTC)
        events = [FindingEvent("finding resolved", now, f) for fp, f in self.findings.items() if fp not in current]
        events += [FindingEvent("finding opened", now, f) for fp, f in current.items() if fp not in self.findings]
        self.findings = current
        for event in events:
            if self.on_event:
                self.on_event(event)
            self._events.put(event)
