"""Raw, read-only GETs against the Kubernetes API through the `kubernetes` package's transport.

Only GET leaves this module (there is no other method here to call). Bodies stay bytes and
are parsed with orjson by the caller; typed client models are never built. Transient
failures (dropped connections, 429/5xx) are retried with backoff; everything else becomes
an `ApiError` (the server answered) or a `LiveError` sentence (it could not be reached).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import urllib3
from urllib3.exceptions import HTTPError as TransportError

from kspm_tui.sources.kubeconfig import Connection, LiveError
from kspm_tui.yamlio import load_json

JSON = "application/json"
METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


class ApiError(Exception):
    """The server answered with an error Status (403, 404, 410, ...)."""

    def __init__(self, status: int, reason: str, message: str, path: str) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status, self.reason, self.message, self.path = status, reason, message, path


class ConnectionLost(Exception):
    """The server stopped answering after it had answered before (retries exhausted)."""


def _status_error(status: int, reason: str, body: bytes, path: str) -> ApiError:
    message, why = "", reason
    try:
        doc = load_json(body)
    except ValueError:  # not JSON (a proxy's HTML page, ...)
        doc = None
    if isinstance(doc, dict):
        message, why = str(doc.get("message", "")), doc.get("reason") or reason
    else:
        message = body[:200].decode("utf-8", "replace")
    return ApiError(status, why or "", message, path)


class ApiReader:
    """GETs for one connection: whole bodies, JSON documents, and line streams (watch)."""

    def __init__(self, connection: Connection, *, retries: int = 4, backoff: float = 0.2) -> None:
        self.connection = connection
        self.client = connection.client
        self.retries = retries
        self.backoff = backoff
        self.timeout = connection.timeout
        self.answered = False  # once the server has answered, failures mean "lost", not "unreachable"

    def _open(self, path: str, query: list[tuple[str, Any]] | None, accept: str,
              timeout: tuple[float, float] | None = None) -> urllib3.BaseHTTPResponse:
        _, url, headers, _, _ = self.client.param_serialize(
            "GET", path, query_params=list(query or []), header_params={"Accept": accept},
            auth_settings=["BearerToken"],
        )
        return self.client.rest_client.pool_manager.request(
            "GET", url, headers=headers, preload_content=False,
            timeout=urllib3.Timeout(connect=(timeout or self.timeout)[0], read=(timeout or self.timeout)[1]),
        )

    def get(self, path: str, query: list[tuple[str, Any]] | None = None, accept: str = JSON) -> bytes:
        """The body of a successful GET, retrying what is worth retrying."""
        attempt = 0
        while True:
            try:
                response = self._open(path, query, accept)
                body = response.data
                response.release_conn()
            except TransportError as exc:
                if attempt >= self.retries or not self.answered:  # never reached: retrying won't help
                    raise self.transport_failure(exc) from None
            else:
                self.answered = True
                if 200 <= response.status < 300:
                    return body
                if response.status not in RETRYABLE_STATUS or attempt >= self.retries:
                    raise _status_error(response.status, response.reason or "", body, path)
            attempt += 1
            time.sleep(self.backoff * 2 ** (attempt - 1))

    def get_json(self, path: str, query: list[tuple[str, Any]] | None = None, accept: str = JSON) -> Any:
        return load_json(self.get(path, query, accept))

    def stream_lines(self, path: str, query: list[tuple[str, Any]], read_timeout: float,
                     accept: str = JSON) -> Iterator[bytes]:
        """One watch connection: yields each newline-terminated JSON event (no retries here)."""
        try:
            response = self._open(path, query, accept, (self.timeout[0], read_timeout))
        except TransportError as exc:
            raise self.transport_failure(exc) from None
        try:
            if not 200 <= response.status < 300:
                raise _status_error(response.status, response.reason or "", response.data, path)
            self.answered = True
            pending = b""
            for chunk in response.stream(64 * 1024, decode_content=True):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                yield from (line for line in lines if line.strip())
            if pending.strip():
                yield pending
        except TransportError as exc:
            raise self.transport_failure(exc) from None
        finally:
            response.release_conn()

    def transport_failure(self, exc: BaseException) -> Exception:
        """A transport error as the sentence a user can act on (or ConnectionLost mid-scan)."""
        reason = getattr(exc, "reason", None) or exc
        text = str(reason)
        context, server = self.connection.context.name, self.connection.server
        if isinstance(reason, urllib3.exceptions.SSLError) or "CERTIFICATE_VERIFY_FAILED" in text:
            return LiveError(
                f"TLS verification failed for {server} (context {context!r}): the server's certificate is "
                "not signed by the kubeconfig's certificate-authority — fix certificate-authority-data "
                "for this cluster"
            )
        if self.answered:
            return ConnectionLost(f"connection to {server} lost ({type(reason).__name__})")
        if isinstance(reason, (urllib3.exceptions.ConnectTimeoutError, urllib3.exceptions.ReadTimeoutError)) \
                and not isinstance(reason, urllib3.exceptions.NewConnectionError):
            return LiveError(
                f"the API server {server} of context {context!r} did not answer within "
                f"{self.timeout[0]:.0f}s: check the cluster is running and your network/VPN reaches it"
            )
        return LiveError(
            f"cannot reach the API server {server} of context {context!r} ({_short(text)}): "
            "check the cluster is running and your network/VPN reaches it"
        )


def _short(text: str) -> str:
    for marker in ("Connection refused", "Name or service not known", "No route to host",
                   "timed out", "Connection reset", "nodename nor servname"):
        if marker.lower() in text.lower():
            return marker.lower()
    return text.split(":")[-1].strip()[:80] or "connection failed"
