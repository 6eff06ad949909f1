"""Watch streams: one cluster's changes since a list, in batches; nothing here evaluates.

One thread per kind holds a watch open from the list's resourceVersion (bookmarks keep it
fresh; a 410 Gone relists that kind; other failures reconnect with exponential backoff). When
the API server stops answering, `on_notice` hears it once (and once more when it is back).
Changes are queued and handed out in short batches (`batches()`); the scan service
(`kspm_tui.watch_scan`) applies them to its snapshot and re-evaluates what they can affect.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from kspm_tui.sources.apiclient import METADATA_LIST, ApiError, ApiReader, ConnectionLost
from kspm_tui.sources.kubeconfig import Connection, LiveError
from kspm_tui.sources.live import Collector, LiveCollected, Resource, normalize
from kspm_tui.yamlio import load_json

WATCH_SECONDS = 300  # server-side timeout of one watch request; we reconnect from the last version
METADATA = METADATA_LIST.replace("PartialObjectMetadataList", "PartialObjectMetadata")


@dataclass(slots=True)
class Change:
    type: str  # ADDED | MODIFIED | DELETED
    obj: dict[str, Any]


@dataclass(slots=True)
class Relist:
    """A kind listed again (after 410 Gone): its items replace what was known of it."""

    kind: str
    items: list[dict[str, Any]]


Batch = list[Change | Relist]


@dataclass(slots=True)
class WatchStats:
    """What the watchers did; for tests, the TUI status line and troubleshooting."""

    events: int = 0
    relists: int = 0
    reconnects: int = 0
    bookmarks: int = 0


class Watcher:
    """Watches every watchable kind of a live collection from where its list stood."""

    def __init__(self, connection: Connection, initial: LiveCollected, *, batch_seconds: float = 0.3,
                 backoff: tuple[float, float] = (0.5, 30.0),
                 on_notice: Callable[[str], None] | None = None) -> None:
        self.connection = connection
        self.initial = initial
        self.batch_seconds = batch_seconds
        self.backoff = backoff
        self.on_notice = on_notice
        self._server_lost = False  # the API server stopped answering (told once, until it is back)
        self._lost_lock = threading.Lock()
        self.reader = ApiReader(connection, retries=1)
        self.collector = Collector(connection, reader=self.reader)
        self.stats = WatchStats()
        self._changes: queue.Queue[Change | Relist] = queue.Queue()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for resource in self.initial.resources:
            if resource.watchable:
                self._spawn(self._watch_kind, resource, self.initial.versions.get(resource.kind, ""))

    def batches(self) -> Iterator[Batch]:
        """Changes as they come, gathered for `batch_seconds` after the first; ends on `stop()`."""
        while not self._stop.is_set():
            try:
                first = self._changes.get(timeout=0.2)
            except queue.Empty:
                continue
            batch: Batch = [first]
            deadline = time.monotonic() + self.batch_seconds
            while (left := deadline - time.monotonic()) > 0:
                try:
                    batch.append(self._changes.get(timeout=left))
                except queue.Empty:
                    break
            yield batch

    def stop(self) -> None:
        self._stop.set()

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
            except (ConnectionLost, LiveError) as exc:
                self.stats.reconnects += 1
                self._server_state(lost=str(exc))
                self._pause(delay)
                delay = min(delay * 2, self.backoff[1])

    def _pause(self, seconds: float) -> None:
        self._stop.wait(seconds)

    def _server_state(self, lost: str | None) -> None:
        """Tell `on_notice` when the API server goes away (`lost`: why) or comes back, once each."""
        if (lost is not None) == self._server_lost:
            return
        with self._lost_lock:
            if (lost is not None) == self._server_lost:
                return
            self._server_lost = lost is not None
        name, server = self.connection.context.name, self.connection.server
        if self.on_notice:
            self.on_notice(f"context {name!r}: lost the API server {server} ({lost}); retrying with backoff"
                           if lost else f"context {name!r}: the API server {server} answers again; watching")

    def _relist(self, resource: Resource) -> str:
        items, version = self.collector.list_all(resource)
        self._server_state(lost=None)
        self.stats.relists += 1
        self._changes.put(Relist(resource.kind, items))
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
            self._server_state(lost=None)
            if kind == "BOOKMARK":
                self.stats.bookmarks += 1
                continue
            self.stats.events += 1
            self._changes.put(Change(kind, normalize(obj, resource)))
        return version
