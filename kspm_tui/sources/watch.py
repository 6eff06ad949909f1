"""Watch streams: one cluster's changes since a list, in batches; nothing here evaluates.

One thread per kind holds a watch open from the list's resourceVersion (bookmarks keep it
fresh; a 410 Gone relists that kind; other failures reconnect with exponential backoff).
Changes wait in `Pending`, coalesced per object, so however fast they come or slowly they are
applied, what waits is bounded by the cluster's size; they are handed out in short batches
(`batches()`) to the scan service (`kspm_tui.watch_scan`), which applies and re-evaluates them.

Failures are loud and honest (`on_notice`, one line each): a lost connection to the API
server and its recovery, a kind's watch failing (5xx, 429) and resuming, every relist, an
unexpected error in a kind's thread (that kind restarts from a fresh list). What cannot heal
by retrying ends the watch through `on_fatal`: credentials rejected (401) or access revoked
(403) on `AUTH_ATTEMPTS` tries in a row, or a kind's thread failing `CRASH_ATTEMPTS` times
in a row.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kspm_tui.sources.apiclient import METADATA_LIST, ApiError, ApiReader, ConnectionLost
from kspm_tui.sources.kubeconfig import Connection, LiveError
from kspm_tui.sources.live import Collector, LiveCollected, Resource, normalize
from kspm_tui.yamlio import load_json

WATCH_SECONDS = 300  # server-side timeout of one watch request; we reconnect from the last version
METADATA = METADATA_LIST.replace("PartialObjectMetadataList", "PartialObjectMetadata")
AUTH_ATTEMPTS = 3  # 401/403 answers in a row (with backoff between) before the watch gives up
CRASH_ATTEMPTS = 5  # unexpected errors in a row in one kind's thread before the watch gives up


@dataclass(slots=True)
class Change:
    type: str  # ADDED | MODIFIED | DELETED
    obj: dict[str, Any]


@dataclass(slots=True)
class Relist:
    """A page of a kind listed again (after 410 Gone): with the list's other pages, its items
    replace what was known of the kind. `first` starts the list (again: what an unfinished
    one named is forgotten); `last` ends it (what no page named is gone)."""

    kind: str
    items: list[dict[str, Any]]
    first: bool = True
    last: bool = True


Batch = list[Change | Relist]
ObjectKey = tuple[str, str | None, str]


@dataclass(slots=True)
class WatchStats:
    """What the watchers did; for tests, the heartbeat, the TUI status line and troubleshooting."""

    events: int = 0
    relists: int = 0
    reconnects: int = 0
    bookmarks: int = 0
    coalesced: int = 0  # changes superseded by a later change of the same object before being applied
    errors: int = 0  # failed watch or relist requests (answered errors and lost connections)
    crashes: int = 0  # unexpected errors in a kind's thread (each reported, the kind restarted)


class Pending:
    """Changes not handed out yet: the latest per object, and per kind one page of a relist.

    A relist supersedes its kind's earlier changes; later changes apply after it. The
    buffer never holds more than one entry per object, so a burst cannot grow it past the
    cluster's size, and a watcher never waits on a slow consumer for its changes. A relist's
    pages go one at a time (`put_page`): its watcher waits until the last one was handed out
    before reading the next, so a relist holds about a page, not the kind's whole list.
    """

    def __init__(self) -> None:
        self._ready = threading.Condition()
        self._relists: dict[str, Relist] = {}
        self._changes: dict[ObjectKey, Change] = {}
        self.superseded = 0

    def __len__(self) -> int:
        with self._ready:
            return len(self._relists) + len(self._changes)

    def put(self, item: Change | Relist) -> None:
        with self._ready:
            if isinstance(item, Relist):
                dropped = [k for k in self._changes if k[0] == item.kind]
                for key in dropped:
                    del self._changes[key]
                # an unfinished list's page (its watcher failed and lists again; `put_page`
                # never leaves two pages of one list waiting)
                self.superseded += len(dropped) + (item.kind in self._relists)
                self._relists[item.kind] = item
            else:
                meta = item.obj.get("metadata") or {}
                key = (item.obj.get("kind", ""), meta.get("namespace"), meta.get("name", ""))
                self.superseded += self._changes.pop(key, None) is not None
                self._changes[key] = item
            self._ready.notify_all()

    def put_page(self, page: Relist, stop: threading.Event) -> None:
        """Put a relist's page, then wait until it was handed out (or `stop`): the watcher
        reads the next page only once this one left, so a relist holds about one page."""
        self.put(page)
        with self._ready:
            while page.kind in self._relists and not stop.is_set():
                self._ready.wait(0.2)

    def wait(self, timeout: float) -> bool:
        """Whether something is pending, waiting up to `timeout` seconds for it."""
        with self._ready:
            return self._ready.wait_for(lambda: self._relists or self._changes, timeout)

    def gather(self, seconds: float, stop: threading.Event) -> None:
        """Let changes gather for `seconds`, but no longer than until a relist's page is pending
        (or `stop`): its watcher reads the next page only once this one left, so a wait per page
        would hold a relist round (~40 pages after a compaction) and the kinds whose watch waits
        for their turn to list (their events with them) back by `seconds` a page."""
        deadline = time.monotonic() + seconds
        with self._ready:
            while not self._relists and not stop.is_set() and (left := deadline - time.monotonic()) > 0:
                self._ready.wait(min(left, 0.2))

    def take(self) -> Batch:
        """Everything pending, relists first, and empty the buffer."""
        with self._ready:
            batch: Batch = [*self._relists.values(), *self._changes.values()]
            self._relists, self._changes = {}, {}
            self._ready.notify_all()  # a relist's watcher waits to read its next page
            return batch


@dataclass(slots=True)
class _KindState:
    """One kind's failures in a row (reset when its watch answers again)."""

    failing: str = ""  # why its last request failed ("" when healthy)
    auth: int = 0
    crashes: int = 0


@dataclass(slots=True)
class _Streak:
    """Kinds failing with the same error, reported as one."""

    first: str  # the plural of the first kind that met it
    kinds: set[str] = field(default_factory=set)
    total: int = 0
    since: float = field(default_factory=time.monotonic)


class Watcher:
    """Watches every watchable kind of a live collection from where its list stood."""

    def __init__(self, connection: Connection, initial: LiveCollected, *, batch_seconds: float = 0.3,
                 backoff: tuple[float, float] = (0.5, 30.0),
                 on_notice: Callable[[str], None] | None = None,
                 on_fatal: Callable[[str], None] | None = None) -> None:
        self.connection = connection
        self.initial = initial
        self.batch_seconds = batch_seconds
        self.backoff = backoff
        self.on_notice = on_notice
        self.on_fatal = on_fatal
        self.failure = ""  # why the watch ended on its own (credentials, access, repeated crashes)
        self._lost_since: float | None = None  # the API server stopped answering (told once, until back)
        self._lost_lock = threading.Lock()
        self.reader = ApiReader(connection, retries=1)
        self.collector = Collector(connection, reader=self.reader)
        self.stats = WatchStats()
        self.pending = Pending()
        self._kinds: dict[str, _KindState] = {}
        self._streaks: dict[str, _Streak] = {}  # why → the kinds failing with it
        self._stop = threading.Event()
        self._relist_slot = threading.Lock()  # held from reading a relist's page until it is handed out
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for resource in self.initial.resources:
            if resource.watchable:
                self._kinds[resource.kind] = _KindState()
                self._spawn(self._watch_kind, resource, self.initial.versions.get(resource.kind, ""))

    @property
    def failing(self) -> list[str]:
        """Kinds whose watch is failing right now (the server lost counts for all)."""
        return sorted(kind for kind, state in self._kinds.items() if state.failing)

    @property
    def server_lost(self) -> bool:
        return self._lost_since is not None

    def batches(self, idle: float | None = None) -> Iterator[Batch]:
        """Changes as they come, gathered for `batch_seconds` after the first (a relist's page
        goes at once, with what gathered so far); ends on `stop()`.

        `idle`: also yield an empty batch after that many seconds without changes (a heartbeat).
        """
        quiet = time.monotonic()
        while not self._stop.is_set():
            if not self.pending.wait(0.2):
                if idle is not None and time.monotonic() - quiet >= idle:
                    quiet = time.monotonic()
                    yield []
                continue
            self.pending.gather(self.batch_seconds, self._stop)
            if self._stop.is_set():
                return
            batch = self.pending.take()
            self.stats.coalesced = self.pending.superseded
            quiet = time.monotonic()
            yield batch

    def stop(self) -> None:
        self._stop.set()

    def _spawn(self, target: Callable[..., None], resource: Resource, version: str) -> None:
        thread = threading.Thread(target=target, args=(resource, version), daemon=True,
                                  name=f"kspm-watch-{resource.plural}")
        thread.start()
        self._threads.append(thread)

    def _say(self, text: str) -> None:
        if self.on_notice and not self._stop.is_set():  # a stopped watch's last failures are not news
            self.on_notice(f"context {self.connection.context.name!r}: {text}")

    def _fatal(self, text: str) -> None:
        """End the watch: retrying cannot fix this."""
        with self._lost_lock:
            if self.failure or self._stop.is_set():
                return
            self.failure = f"context {self.connection.context.name!r}: {text}"
        self._stop.set()
        if self.on_fatal:
            self.on_fatal(self.failure)

    def _watch_kind(self, resource: Resource, version: str) -> None:
        state, delay = self._kinds[resource.kind], self.backoff[0]
        while not self._stop.is_set():
            try:
                if not version:
                    version = self._relist(resource)
                version = self._stream(resource, version)
                delay = self.backoff[0]
                continue
            except ApiError as exc:
                if exc.status == 410:
                    version = ""
                    continue
                self.stats.errors += 1
                if exc.status in (401, 403):
                    state.auth += 1
                    if state.auth >= AUTH_ATTEMPTS:
                        self._fatal(_denied(exc, resource, state.auth))
                        return
                self._kind_failed(resource, state, f"{exc.status} {exc.reason or 'error'}"
                                  + (f": {exc.message}" if exc.message else ""), delay)
            except (ConnectionLost, LiveError) as exc:
                self.stats.reconnects += 1
                self.stats.errors += 1
                self._server_lost(resource, str(exc))
            except Exception as exc:  # noqa: BLE001 - a bug must not leave this kind silently unwatched
                self.stats.crashes += 1
                state.crashes += 1
                if state.crashes >= CRASH_ATTEMPTS:
                    self._fatal(f"the watch of {resource.plural} failed {state.crashes} times in a row "
                                f"({type(exc).__name__}: {exc}); stopped watching")
                    return
                self._say(f"the watch of {resource.plural} failed unexpectedly ({type(exc).__name__}: {exc}); "
                          "restarting it from a fresh list")
                version = ""
            self._stop.wait(delay)
            delay = min(delay * 2, self.backoff[1])

    def _kind_failed(self, resource: Resource, state: _KindState, why: str, delay: float) -> None:
        """A kind's request was answered with an error: one line per distinct error while it
        lasts (32 kinds meeting the same 401 are one line), and one when they all resumed."""
        with self._lost_lock:
            if state.failing == why:
                return
            if state.failing:
                self._leave_streak(resource.kind, state.failing)
            state.failing = why
            streak = self._streaks.get(why)
            first = streak is None
            if streak is None:
                streak = self._streaks[why] = _Streak(resource.plural)
            streak.kinds.add(resource.kind)
            streak.total += 1
        if first and not self.server_lost:
            self._say(f"the watch of {resource.plural} failed ({why}); retrying with backoff from {delay:g}s")

    def _leave_streak(self, kind: str, why: str) -> _Streak | None:
        """Take `kind` out of its failure streak; the streak when it was the last one in it."""
        streak = self._streaks.get(why)
        if streak is None:
            return None
        streak.kinds.discard(kind)
        if streak.kinds:
            return None
        del self._streaks[why]
        return streak

    def _healthy(self, resource: Resource) -> None:
        """The kind's watch (or list) answered: end any failure streak, saying so once."""
        state = self._kinds.get(resource.kind)
        if self._lost_since is not None:
            with self._lost_lock:
                since, self._lost_since = self._lost_since, None
                if since is not None:
                    self._streaks.clear()
                    for other in self._kinds.values():
                        other.failing = ""
            if since is not None:
                self._say(f"the API server {self.connection.server} answers again after "
                          f"{time.monotonic() - since:.1f}s; watching")
        if state is None:
            return
        state.auth = state.crashes = 0
        if not state.failing:
            return
        with self._lost_lock:
            why, state.failing = state.failing, ""
            ended = self._leave_streak(resource.kind, why)
        if ended is not None:
            what = f"the watch of {ended.first}" if ended.total == 1 else f"the watches of {ended.total} kinds"
            self._say(f"{what} resumed after {time.monotonic() - ended.since:.1f}s")

    def _server_lost(self, resource: Resource, why: str) -> None:
        """The connection to the API server failed: said once until it answers again."""
        with self._lost_lock:
            if self._lost_since is not None:
                return
            self._lost_since = time.monotonic()
        self._say(f"lost the API server {self.connection.server} (the watch of {resource.plural}: {why}); "
                  "retrying with backoff")

    def _relist(self, resource: Resource) -> str:
        """List the kind again, a page at a time: each read only once the page before (of any
        kind relisting: after compaction all do at once) was handed out, so about one is alive."""
        count, version = 0, ""
        pages = self.collector.list_pages(resource)
        while not self._stop.is_set():
            with self._relist_slot:
                page = next(pages, None)
                if page is None:
                    break
                if page.first:
                    count = 0
                    self._healthy(resource)
                count += len(page.items)
                version = page.version
                if page.last:  # counted before its last page is handed out, as a whole list was
                    self.stats.relists += 1
                    self._say(f"relisted {resource.plural} ({count} objects): its watch had expired or restarted")
                self.pending.put_page(Relist(resource.kind, page.items, page.first, page.last), self._stop)
                del page
        return version

    def _stream(self, resource: Resource, version: str) -> str:
        """One watch request; returns the version to resume from ("" after 410: relist)."""
        query = [("watch", "true"), ("resourceVersion", version), ("allowWatchBookmarks", "true"),
                 ("timeoutSeconds", WATCH_SECONDS)]
        accept = METADATA if resource.metadata_only else "application/json"
        answered = False
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
            if not answered:
                answered = True
                self._healthy(resource)
            if kind == "BOOKMARK":
                self.stats.bookmarks += 1
                continue
            self.stats.events += 1
            self.pending.put(Change(kind, normalize(obj, resource)))
        return version


def _denied(exc: ApiError, resource: Resource, attempts: int) -> str:
    """The sentence for a 401/403 that persisted: what happened and what to do."""
    if exc.status == 401:
        return (f"the API server rejected the credentials (401 Unauthorized) {attempts} times in a row while "
                f"watching {resource.plural}: they expired or were revoked — log in again or refresh the token; "
                "stopped watching")
    return (f"access to {resource.plural} was revoked (403 Forbidden {attempts} times in a row"
            + (f": {exc.message}" if exc.message else "") + ") — ask for read access to the cluster; "
            "stopped watching")
