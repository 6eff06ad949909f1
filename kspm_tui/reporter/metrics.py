"""The reporter's Prometheus metrics (prometheus_client) and its HTTP endpoints.

`/metrics` (Prometheus text format), `/healthz` (the process and its sync loop are alive) and
`/readyz` (the first full set of reports is written), served on `--listen` (default `:8080`).
Findings are exposed as the watch's whole scan, built when scraped (under the watch's lock, so a
scrape never sees half a batch), not after every batch.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from kspm_tui.model import ScanResult
from kspm_tui.report.prometheus import families


class _LastScan(Collector):
    """The last scan's metrics under the names `-o prometheus` writes (report/prometheus.py), so a
    dashboard or alert works on either; the scan is asked for at each scrape."""

    def __init__(self) -> None:
        self.source: Callable[[], ScanResult | None] = lambda: None

    def collect(self) -> Iterator[Metric]:
        if (result := self.source()) is not None:
            yield from families(result)

    def describe(self) -> list[Metric]:
        return []


class Metrics:
    """Everything the reporter measures, in its own registry (no process-global state)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self._scan = _LastScan()
        r.register(self._scan)
        self.sync_duration = Gauge("kspm_report_sync_duration_seconds",
                                   "Seconds the last sync of PolicyReports took", registry=r)
        self.last_success = Gauge("kspm_last_successful_scan_timestamp_seconds",
                                  "Unix time of the last scan whose reports were all written", registry=r)
        self.reports = Gauge("kspm_reports", "PolicyReports and ClusterPolicyReports the reporter keeps", registry=r)
        self.coverage_gaps = Gauge("kspm_coverage_gaps", "Kinds the reporter could not read (their rules are "
                                   "not assessable)", registry=r)
        self.api_errors = Counter("kspm_api_errors", "Failed API requests by operation and HTTP status "
                                  "(0: no answer)", ["operation", "code"], registry=r)
        self.writes = Counter("kspm_report_writes", "PolicyReport writes by operation (apply, delete)",
                              ["operation"], registry=r)

    def follow(self, source: Callable[[], ScanResult | None], coverage_gaps: int) -> None:
        """Where the findings and score come from (the watch's scan as of the scrape), and how
        many kinds could not be read (fixed for the watch's life)."""
        self._scan.source = source
        self.coverage_gaps.set(coverage_gaps)

    def api_error(self, operation: str, code: int) -> None:
        self.api_errors.labels(operation, str(code)).inc()

    def write(self, operation: str) -> None:
        self.writes.labels(operation).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def parse_listen(value: str) -> tuple[str, int]:
    """`:8080`, `0.0.0.0:8080`, `127.0.0.1:0`, `[::]:8080` → (host, port)."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"invalid --listen {value!r}: use HOST:PORT or :PORT (e.g. :8080)")
    return host.strip("[]") or "0.0.0.0", int(port)


class Endpoints:
    """The HTTP server for /metrics, /healthz and /readyz, on a daemon thread."""

    def __init__(self, metrics: Metrics, listen: str, *, healthy: Callable[[], bool],
                 ready: Callable[[], bool]) -> None:
        host, port = parse_listen(listen)
        handler = _handler(metrics, healthy, ready)
        server_class = type("Server", (ThreadingHTTPServer,), {
            "daemon_threads": True, "address_family": socket.AF_INET6 if ":" in host else socket.AF_INET})
        self.httpd = server_class((host, port), handler)
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True,
                         name="kspm-reporter-http").start()

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _handler(metrics: Metrics, healthy: Callable[[], bool], ready: Callable[[], bool]) -> type:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:  # probes every few seconds: not worth a log line
            pass

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, metrics.exposition(), CONTENT_TYPE_LATEST)
            elif path in ("/healthz", "/livez"):
                ok = healthy()
                self._send(200 if ok else 503, b"ok\n" if ok else b"sync loop stopped\n")
            elif path == "/readyz":
                ok = ready()
                self._send(200 if ok else 503, b"ok\n" if ok else b"first reports not written yet\n")
            else:
                self._send(404, b"not found: /metrics, /healthz, /readyz\n")

        def _send(self, code: int, body: bytes, content_type: str = "text/plain; charset=utf-8") -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler
