"""Keeps the cluster's kspm-tui PolicyReports equal to the desired set, writing as little as it can.

Writes are server-side apply (PATCH `application/apply-patch+yaml`, field manager `kspm-tui`,
`force=true`) of each report whose content hash differs from what the cluster holds, and
DELETE of reports no longer desired (their workload is gone or has nothing to report). What
the cluster holds is learnt once by listing the reports labelled `managed-by: kspm-tui` (the
content hash is an annotation), so a restarted reporter rewrites nothing that did not change.
Writes are rate-limited (a token bucket: QPS and burst, as client-go) and retried with backoff on 409, 429 (its
Retry-After honoured) and 5xx; a write that still fails is counted and tried at the next sync.
This is the only module of kspm-tui that writes to a cluster, and only to wgpolicyk8s.io.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import orjson
import urllib3
from urllib3.exceptions import HTTPError as TransportError

from kspm_tui.reporter.reports import Desired, ReportKey
from kspm_tui.sources import SourceUnavailable
from kspm_tui.wgpolicy import CONTENT_HASH, MANAGED_BY, SOURCE

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

GROUP_VERSION = "/apis/wgpolicyk8s.io/v1alpha2"
FIELD_MANAGER = "kspm-tui"
RETRY_STATUS = frozenset({409, 429, 500, 502, 503, 504})
PLURALS = {"PolicyReport": "policyreports", "ClusterPolicyReport": "clusterpolicyreports"}


def report_path(key: ReportKey) -> str:
    kind, namespace, name = key
    scope = f"/namespaces/{quote(namespace, safe='')}" if namespace else ""
    return f"{GROUP_VERSION}{scope}/{PLURALS[kind]}/{quote(name, safe='')}"


@dataclass(slots=True)
class SyncStats:
    applied: int = 0
    deleted: int = 0
    unchanged: int = 0
    failed: int = 0

    @property
    def complete(self) -> bool:
        return self.failed == 0


class RateLimiter:
    """A token bucket: `burst` writes at once, then `qps` per second."""

    def __init__(self, qps: float, burst: int, stop: threading.Event) -> None:
        self.qps, self.burst, self.stop = qps, max(1, burst), stop
        self.tokens = float(self.burst)
        self.last = time.monotonic()

    def take(self) -> None:
        while True:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.qps)
            self.last = now
            if self.tokens >= 1 or self.qps <= 0:
                self.tokens -= 1
                return
            if self.stop.wait((1 - self.tokens) / self.qps):
                return


class Writer:
    """Applies and deletes this reporter's PolicyReports; remembers what it wrote (by content hash).

    Given the scan service's authenticated client (`WatchService.connection.client`), it makes
    its own requests: the read-only fetchers in `sources/` have no write method, by design.
    """

    def __init__(self, client: ApiClient, context: str, *, timeout: tuple[float, float] = (10.0, 60.0),
                 qps: float = 50.0, burst: int = 100, retries: int = 5,
                 backoff: tuple[float, float] = (0.2, 10.0), stop: threading.Event | None = None,
                 on_error: Callable[[str, int], None] | None = None,
                 on_write: Callable[[str], None] | None = None) -> None:
        self.client = client
        self.context = context
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.stop = stop or threading.Event()
        self.limiter = RateLimiter(qps, burst, self.stop)
        self.on_error = on_error  # (operation, HTTP status or 0 for transport) per failed attempt
        self.on_write = on_write  # operation ("apply" | "delete") per write done
        self.written: dict[ReportKey, str] = {}  # what the cluster holds: report → content hash

    # -- what is there -----------------------------------------------------------------------
    def load(self) -> None:
        """Learn which reports this reporter wrote before (any cluster id: stale ones get deleted).

        Raises SourceUnavailable (one sentence) when they cannot be listed.
        """
        self.written = {}
        for kind, plural in PLURALS.items():
            token = ""
            while True:
                query: list[tuple[str, Any]] = [("labelSelector", f"{MANAGED_BY}={SOURCE}"), ("limit", 500)]
                if token:
                    query.append(("continue", token))
                status, body = self._retried("list", "GET", f"{GROUP_VERSION}/{plural}", query)
                if status == 404:
                    raise SourceUnavailable(
                        f"context {self.context!r} serves no wgpolicyk8s.io/v1alpha2 {kind} API: install the "
                        "PolicyReport CRDs (deploy/components/policyreport-crds)")
                if not 200 <= status < 300:
                    what = f"{status} {_reason(body)}".strip() if status else "no answer"
                    raise SourceUnavailable(f"context {self.context!r}: cannot list {plural} ({what}): "
                                            "the reporter needs get/list on them")
                page = orjson.loads(body)
                for item in page.get("items") or ():
                    meta = item.get("metadata") or {}
                    key = (kind, meta.get("namespace") or "", meta.get("name", ""))
                    self.written[key] = (meta.get("annotations") or {}).get(CONTENT_HASH, "")
                token = (page.get("metadata") or {}).get("continue") or ""
                if not token:
                    break

    # -- making it so --------------------------------------------------------------------------
    def sync(self, desired: dict[ReportKey, Desired]) -> SyncStats:
        """Apply changed and new reports, delete ones no longer desired."""
        stats = SyncStats()
        for key, report in desired.items():
            if self.stop.is_set():
                break
            if self.written.get(key) == report.content_hash:
                stats.unchanged += 1
                continue
            if self._write("apply", key, report.body):
                self.written[key] = report.content_hash
                stats.applied += 1
            else:
                stats.failed += 1
        for key in [k for k in self.written if k not in desired]:
            if self.stop.is_set():
                break
            if self._write("delete", key, None):
                del self.written[key]
                stats.deleted += 1
            else:
                stats.failed += 1
        return stats

    def _write(self, operation: str, key: ReportKey, body: dict[str, Any] | None) -> bool:
        if operation == "apply":
            query: list[tuple[str, Any]] = [("fieldManager", FIELD_MANAGER), ("force", "true")]
            status, _ = self._retried(operation, "PATCH", report_path(key), query, orjson.dumps(body))
        else:
            status, _ = self._retried(operation, "DELETE", report_path(key), [])
        done = 200 <= status < 300 or (operation == "delete" and status == 404)
        if done and self.on_write:
            self.on_write(operation)
        return done

    def _retried(self, operation: str, method: str, path: str, query: list[tuple[str, Any]],
                 data: bytes | None = None) -> tuple[int, bytes]:
        """(status, body) of the request, retried on 409/429/5xx and no answer; writes rate-limited."""
        delay = self.backoff[0]
        for attempt in range(self.retries + 1):
            if method != "GET":
                self.limiter.take()
            if self.stop.is_set():
                return 0, b""
            status, body, retry_after = self._send(method, path, query, data)
            if 200 <= status < 300 or (status and status not in RETRY_STATUS):
                if status >= 300 and self.on_error and not (method == "DELETE" and status == 404):
                    self.on_error(operation, status)
                return status, body
            if self.on_error:
                self.on_error(operation, status)
            if attempt < self.retries:
                self.stop.wait(min(retry_after or delay, self.backoff[1]))
                delay = min(delay * 2, self.backoff[1])
        return status, body

    def _send(self, method: str, path: str, query: list[tuple[str, Any]],
              data: bytes | None) -> tuple[int, bytes, float]:
        """(HTTP status or 0 when the server did not answer, body, Retry-After seconds or 0)."""
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/apply-patch+yaml"  # JSON is YAML: the API server reads both
        _, url, headers, _, _ = self.client.param_serialize(
            method, path, query_params=query, header_params=headers, auth_settings=["BearerToken"])
        try:
            response = self.client.rest_client.pool_manager.request(
                method, url, headers=headers, body=data, preload_content=True,
                timeout=urllib3.Timeout(connect=self.timeout[0], read=self.timeout[1]))
        except TransportError:
            return 0, b"", 0.0
        try:
            retry_after = float(response.headers.get("Retry-After") or 0)
        except ValueError:
            retry_after = 0.0
        return response.status, response.data, retry_after


def _reason(body: bytes) -> str:
    """The reason of a Kubernetes Status body (`Forbidden`), or ''."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return ""
    return str(doc.get("reason") or "") if isinstance(doc, dict) else ""
