"""A small HTTPS Kubernetes API server for the tests, serving objects from manifests.

Speaks enough of the real protocol for the real `kubectl` (the fidelity test) and for our
collector and watcher: loopback TLS with a trustme CA, bearer tokens (401 Status otherwise),
legacy discovery, list with `limit`/`continue` (410 for expired tokens), get, watch streams
with resourceVersions, bookmarks and 410 expiry, Table and PartialObjectMetadata(List) by
Accept header, per-resource 403s, injected faults, and a log of every request. Anything but
GET is rejected (405) and logged, except self-subject reviews and, for the reporter's tests,
server-side apply (PATCH `application/apply-patch+yaml`) and DELETE of PolicyReports and
ClusterPolicyReports, each only when a test enables it.
"""

from __future__ import annotations

import base64
import bisect
import json
import socket
import ssl
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

import orjson
import trustme
import yaml

from tests.apiserver.resources import BY_KIND, BY_PLURAL, RESOURCES, ApiResource

Key = tuple[str, str]  # (namespace or "", name)


@dataclass
class Faults:
    """Misbehaviour to inject, keyed by plural resource name (e.g. "pods")."""

    delay: dict[str, float] = field(default_factory=dict)  # seconds before answering
    drop: dict[str, int] = field(default_factory=dict)  # times to cut the connection mid-body
    errors: dict[str, list[int]] = field(default_factory=dict)  # statuses to answer next
    expire_continue: dict[str, int] = field(default_factory=dict)  # times a continue token is "too old"
    die_after_lists: int | None = None  # after this many list requests, stop answering for good


@dataclass
class LoggedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    accept: str
    status: int = 0
    secret_data: bool = False  # a Secret's data/stringData was in the response


def status_doc(code: int, reason: str, message: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


class Store:
    """Objects per resource, a global resourceVersion, and the event history watches replay."""

    def __init__(self) -> None:
        self.objects: dict[ApiResource, dict[Key, dict[str, Any]]] = defaultdict(dict)
        self.rv = 1000
        # Watches and continue tokens from below this resourceVersion get 410 Gone; at it they are
        # served, as etcd answers ErrCompacted only for a revision < its compaction revision.
        self.compacted = 0
        self.epoch = 0  # bumped by compact(): open watches end with 410 Gone, as after etcd compaction
        self.events: list[tuple[int, ApiResource, str, dict[str, Any]]] = []
        self.changed = threading.Condition()
        self._sorted: dict[ApiResource, list[Key]] = {}  # key order for paging, rebuilt after changes

    def resource_of(self, obj: dict[str, Any]) -> ApiResource:
        api_version = obj.get("apiVersion", "")
        group = api_version.rpartition("/")[0] if "/" in api_version else ""
        try:
            return BY_KIND[(group, obj["kind"])]
        except KeyError:
            raise ValueError(f"test server does not serve {api_version} {obj.get('kind')}") from None

    def put(self, obj: dict[str, Any], *, record: bool = True) -> dict[str, Any]:
        resource = self.resource_of(obj)
        obj = json.loads(json.dumps(obj))
        meta = obj.setdefault("metadata", {})
        if resource.namespaced:
            meta.setdefault("namespace", "default")
        else:
            meta.pop("namespace", None)
        key = (meta.get("namespace", ""), meta["name"])
        with self.changed:
            old = self.objects[resource].get(key)
            self.rv += 1
            meta["resourceVersion"] = str(self.rv)
            meta.setdefault("uid", (old or {}).get("metadata", {}).get("uid")
                            or str(uuid.uuid5(uuid.NAMESPACE_URL, f"{resource.plural}/{key}")))
            meta.setdefault("creationTimestamp", "2026-01-01T00:00:00Z")
            self.objects[resource][key] = obj
            if old is None:
                self._sorted.pop(resource, None)
            if record:
                self.events.append((self.rv, resource, "MODIFIED" if old else "ADDED", obj))
                self.changed.notify_all()
        return obj

    def delete(self, ref: dict[str, Any]) -> None:
        """Delete the object `ref` names (apiVersion, kind, metadata.namespace/name)."""
        resource = self.resource_of(ref)
        namespace = ref["metadata"].get("namespace", "default") if resource.namespaced else ""
        with self.changed:
            obj = self.objects[resource].pop((namespace, ref["metadata"]["name"]))
            self._sorted.pop(resource, None)
            self.rv += 1
            obj = {**obj, "metadata": {**obj["metadata"], "resourceVersion": str(self.rv)}}
            self.events.append((self.rv, resource, "DELETED", obj))
            self.changed.notify_all()

    def compact(self) -> None:
        """Forget history: older watches and continue tokens now get 410 Gone."""
        with self.changed:
            self.compacted = self.rv
            self.epoch += 1
            self.events.clear()
            self.changed.notify_all()

    def listed(self, resource: ApiResource, namespace: str | None, after: Key | None = None,
               limit: int = 0) -> tuple[list[tuple[Key, dict[str, Any]]], int]:
        """One page in key order (namespace, name) after `after`, and how many items remain beyond it."""
        with self.changed:
            keys = self._sorted.get(resource)
            if keys is None:
                keys = self._sorted[resource] = sorted(self.objects[resource])
            lo, hi = 0, len(keys)
            if namespace is not None:
                lo, hi = bisect.bisect_left(keys, (namespace, "")), bisect.bisect_left(keys, (namespace + "\0", ""))
            if after is not None:
                lo = max(lo, bisect.bisect_right(keys, after))
            end = min(hi, lo + limit) if limit > 0 else hi
            objects = self.objects[resource]
            return [(k, objects[k]) for k in keys[lo:end]], hi - end


class ApiServer:
    """Start with `start()`; `url`, `ca_pem`, `token`; `write_kubeconfig()` for clients."""

    def __init__(self, objects: list[dict[str, Any]] = (), *, token: str = "test-token") -> None:
        self.store = Store()
        for obj in objects:
            self.store.put(obj, record=False)
        self.token = token
        self.faults = Faults()
        self.forbidden: set[str] = set()  # plurals whose list/get/watch answers 403
        self.allow_reviews = False  # accept POSTs of self-subject access reviews (doctor tests)
        self.allow_report_writes = False  # accept server-side apply and DELETE of (Cluster)PolicyReports
        self.log: list[LoggedRequest] = []
        self.dead = False
        self._lists = 0
        self._lock = threading.Lock()
        self.ca = trustme.CA()
        self._cert = self.ca.issue_cert("127.0.0.1", "localhost")
        self._httpd: ThreadingHTTPServer | None = None

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> Self:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._cert.configure_cert(context)
        server = self

        class Httpd(ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True
            request_queue_size = 128

            def process_request_thread(self, request: socket.socket, client_address: Any) -> None:
                try:  # the TLS handshake happens on the connection's own thread
                    request = context.wrap_socket(request, server_side=True)
                except (ssl.SSLError, OSError):
                    request.close()
                    return
                super().process_request_thread(request, client_address)

        self._httpd = Httpd(("127.0.0.1", 0), _handler(server))
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self.dead = True
            with self.store.changed:
                self.store.changed.notify_all()
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca_pem(self) -> bytes:
        return self.ca.cert_pem.bytes()

    def kubeconfig(self, *, context: str = "test", token: str | None = None, ca_pem: bytes | None = None,
                   server: str | None = None, user: dict[str, Any] | None = None) -> dict[str, Any]:
        ca = base64.b64encode(ca_pem or self.ca_pem).decode()
        return {
            "apiVersion": "v1", "kind": "Config", "current-context": context,
            "clusters": [{"name": f"{context}-cluster", "cluster": {
                "server": server or self.url, "certificate-authority-data": ca}}],
            "users": [{"name": f"{context}-user", "user": user or {"token": token or self.token}}],
            "contexts": [{"name": context, "context": {
                "cluster": f"{context}-cluster", "user": f"{context}-user", "namespace": "default"}}],
        }

    def write_kubeconfig(self, path: Path, **kwargs: Any) -> Path:
        path.write_text(yaml.safe_dump(self.kubeconfig(**kwargs)))
        return path

    # -- what tests assert on -----------------------------------------------------------
    def methods(self) -> set[str]:
        return {r.method for r in self.log}

    def count_lists(self) -> int:
        with self._lock:
            self._lists += 1
            return self._lists


def _age(created: str) -> str:
    try:
        then = datetime.fromisoformat(created)
    except ValueError:
        return "<unknown>"
    seconds = max(0, int((datetime.now(UTC) - then).total_seconds()))
    return f"{seconds // 86400}d" if seconds >= 86400 else f"{seconds // 60}m"


def _table(resource: ApiResource, objects: list[dict[str, Any]], rv: str) -> dict[str, Any]:
    """The server-side printing kubectl asks for (`as=Table`): Name and Age, metadata objects."""
    return {
        "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": rv},
        "columnDefinitions": [
            {"name": "Name", "type": "string", "format": "name", "description": "name", "priority": 0},
            {"name": "Age", "type": "string", "format": "", "description": "age", "priority": 0},
        ],
        "rows": [{"cells": [o["metadata"]["name"], _age(o["metadata"].get("creationTimestamp", ""))],
                  "object": _partial(o)} for o in objects],
    }


def _partial(obj: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]}


def _shape(resource: ApiResource, accept: str) -> str:
    if "as=Table" in accept:
        return "table"
    if "as=PartialObjectMetadata" in accept:
        return "metadata"
    return "full"


def _has_secret_data(obj: dict[str, Any]) -> bool:
    return obj.get("kind") == "Secret" and bool(obj.get("data") or obj.get("stringData"))


def _handler(server: ApiServer) -> type[BaseHTTPRequestHandler]:
    store = server.store

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms delayed-ACK stall
        entry: LoggedRequest

        def log_message(self, *_: Any) -> None:  # the request log is server.log
            pass

        # -- plumbing ----------------------------------------------------------------
        def _send(self, code: int, body: Any, content_type: str = "application/json") -> None:
            data = body if isinstance(body, bytes) else orjson.dumps(body)
            self.entry.status = code
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _status(self, code: int, reason: str, message: str) -> None:
            self._send(code, status_doc(code, reason, message))

        def _drop(self, partial: bytes = b"") -> None:
            """Cut the connection: headers and part of a body, then nothing."""
            self.entry.status = -1
            if partial:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(partial) * 2))
                self.end_headers()
                self.wfile.write(partial)
                self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        def _begin(self) -> tuple[str, dict[str, list[str]]] | None:
            split = urlsplit(self.path)
            query = parse_qs(split.query)
            self.entry = LoggedRequest(self.command, split.path, query, self.headers.get("Accept", ""))
            server.log.append(self.entry)
            if server.dead:
                self._drop()
                return None
            scheme, _, token = self.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or token != server.token:  # the scheme is case-insensitive, as in k8s
                self._status(401, "Unauthorized", "Unauthorized")
                return None
            return split.path, query

        # -- verbs -------------------------------------------------------------------
        def do_GET(self) -> None:
            begun = self._begin()
            if begun is None:
                return
            path, query = begun
            try:
                self._route(path, query)
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                self.close_connection = True

        def _reject(self) -> None:
            begun = self._begin()
            if begun is None:
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path, _ = begun
            if self.command == "POST" and server.allow_reviews and path.endswith("selfsubjectaccessreviews"):
                self._review(orjson.loads(body or b"{}"))
                return
            target = _report_path(path) if server.allow_report_writes else None
            if target is not None and self.command in ("PATCH", "DELETE"):
                if not self._fault(target[0]):
                    self._write_report(*target, body)
                return
            self._status(405, "MethodNotAllowed", f"{self.command} is not allowed: this server is read-only")

        do_POST = do_PUT = do_PATCH = do_DELETE = _reject

        def _write_report(self, resource: ApiResource, namespace: str, name: str, body: bytes) -> None:
            """Server-side apply as far as one field manager needs it: the applied configuration
            replaces the object (uid and creation kept, resourceVersion bumped, watchers told);
            DELETE removes it."""
            query = parse_qs(urlsplit(self.path).query)
            key = (namespace, name)
            if self.command == "DELETE":
                if key not in store.objects[resource]:
                    self._status(404, "NotFound", f'{resource.plural}.wgpolicyk8s.io "{name}" not found')
                    return
                store.delete({"apiVersion": resource.group_version, "kind": resource.kind,
                              "metadata": {"name": name, "namespace": namespace}})
                self._send(200, {"kind": "Status", "apiVersion": "v1", "status": "Success"})
                return
            if self.headers.get("Content-Type") != "application/apply-patch+yaml":
                self._status(415, "UnsupportedMediaType", "only server-side apply is served for reports")
                return
            if not (query.get("fieldManager") or [""])[0]:
                self._status(422, "Invalid", "PATCH /apply requires fieldManager")
                return
            applied = yaml.safe_load(body)
            meta = applied.get("metadata") or {}
            if (applied.get("kind"), applied.get("apiVersion"), meta.get("name"), meta.get("namespace", "")) != (
                    resource.kind, resource.group_version, name, namespace):
                self._status(400, "BadRequest", "the applied object does not match the URL")
                return
            existed = key in store.objects[resource]
            self._send(200 if existed else 201, store.put(applied))

        def _review(self, review: dict[str, Any]) -> None:
            attrs = (review.get("spec") or {}).get("resourceAttributes") or {}
            allowed = attrs.get("resource") not in server.forbidden
            self._send(201, {**review, "status": {"allowed": allowed}})

        # -- routing -------------------------------------------------------------------
        def _route(self, path: str, query: dict[str, list[str]]) -> None:
            parts = [p for p in path.split("/") if p]
            if path == "/version":
                self._send(200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0-kspm-test",
                                 "platform": "linux/amd64"})
                return
            if parts == ["api"]:
                self._send(200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                    {"clientCIDR": "0.0.0.0/0", "serverAddress": f"127.0.0.1:{server.port}"}]})
                return
            if parts == ["apis"]:
                self._send(200, _group_list())
                return
            if parts[:1] == ["api"] and len(parts) >= 2:
                group, version, rest = "", parts[1], parts[2:]
            elif parts[:1] == ["apis"] and len(parts) >= 3:
                group, version, rest = parts[1], parts[2], parts[3:]
            elif parts[:1] == ["apis"] and len(parts) == 2:
                self._send(200, _group(parts[1]))
                return
            else:
                self._status(404, "NotFound", f"the server could not find the requested resource ({path})")
                return
            if not rest:
                listed = [r.discovery() for r in RESOURCES if r.group == group and r.version == version]
                if not listed:
                    self._status(404, "NotFound", "the server could not find the requested resource")
                    return
                self._send(200, {"kind": "APIResourceList", "apiVersion": "v1",
                                 "groupVersion": f"{group}/{version}" if group else version,
                                 "resources": listed})
                return
            namespace = None
            if rest[0] == "namespaces" and len(rest) >= 3:
                namespace, rest = rest[1], rest[2:]
            resource = BY_PLURAL.get((group, rest[0]))
            if resource is None or resource.version != version or len(rest) > 2:
                self._status(404, "NotFound", "the server could not find the requested resource")
                return
            if resource.plural in server.forbidden:
                verb = "get" if len(rest) == 2 else ("watch" if _flag(query, "watch") else "list")
                scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
                self._status(403, "Forbidden", (
                    f'{resource.plural}{"." + group if group else ""} is forbidden: User "kspm-test" cannot '
                    f'{verb} resource "{resource.plural}" in API group "{group}" {scope}'))
                return
            if self._fault(resource):
                return
            if len(rest) == 2:
                self._get(resource, namespace or "", rest[1])
            elif _flag(query, "watch"):
                self._watch(resource, namespace, query)
            else:
                self._list(resource, namespace, query)

        def _fault(self, resource: ApiResource) -> bool:
            faults = server.faults
            if faults.delay.get(resource.plural):
                time.sleep(faults.delay[resource.plural])
            if faults.die_after_lists is not None and server.count_lists() > faults.die_after_lists:
                server.dead = True
                self._drop()
                return True
            queued = faults.errors.get(resource.plural)
            if queued:
                code = queued.pop(0)
                self._status(code, "InternalError" if code >= 500 else "TooManyRequests", "injected fault")
                return True
            return False

        def _get(self, resource: ApiResource, namespace: str, name: str) -> None:
            obj = store.objects[resource].get((namespace, name))
            if obj is None:
                self._status(404, "NotFound", f'{resource.plural} "{name}" not found')
                return
            shape = _shape(resource, self.headers.get("Accept", ""))
            if shape == "table":
                self._send(200, _table(resource, [obj], obj["metadata"]["resourceVersion"]))
            elif shape == "metadata":
                self._send(200, _partial(obj))
            else:
                self.entry.secret_data = _has_secret_data(obj)
                self._send(200, obj)

        def _list(self, resource: ApiResource, namespace: str | None, query: dict[str, list[str]]) -> None:
            limit = int((query.get("limit") or ["0"])[0] or 0)
            token = (query.get("continue") or [""])[0]
            start: Key | None = None
            rv = str(store.rv)
            if token:
                state = json.loads(base64.urlsafe_b64decode(token))
                expire = server.faults.expire_continue
                if int(state["rv"]) < store.compacted or expire.get(resource.plural, 0) > 0:
                    if expire.get(resource.plural, 0) > 0:
                        expire[resource.plural] -= 1
                    self._status(410, "Expired", (
                        "The provided continue parameter is too old to display a consistent list result. "
                        "You can start a new list without the continue parameter."))
                    return
                start, rv = tuple(state["start"]), state["rv"]
            page, remaining = store.listed(resource, namespace, start, limit)
            meta: dict[str, Any] = {"resourceVersion": rv}
            if remaining:
                meta["continue"] = base64.urlsafe_b64encode(
                    json.dumps({"rv": rv, "start": list(page[-1][0])}).encode()).decode()
                meta["remainingItemCount"] = remaining
            selector = (query.get("labelSelector") or [""])[0]
            objects = [o for _, o in page if _selected(o, selector)]
            shape = _shape(resource, self.headers.get("Accept", ""))
            if shape == "table":
                doc = _table(resource, objects, rv)
                doc["metadata"] = meta
            elif shape == "metadata":
                doc = {"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1", "metadata": meta,
                       "items": [_partial(o) for o in objects]}
            else:
                self.entry.secret_data = any(_has_secret_data(o) for o in objects)
                doc = {"kind": f"{resource.kind}List", "apiVersion": resource.group_version, "metadata": meta,
                       "items": [{k: v for k, v in o.items() if k not in ("kind", "apiVersion")}
                                 for o in objects]}
            body = orjson.dumps(doc)
            drops = server.faults.drop
            if drops.get(resource.plural, 0) > 0:
                drops[resource.plural] -= 1
                self._drop(body[: len(body) // 2])
                return
            self._send(200, body)

        # -- watch ---------------------------------------------------------------------
        def _chunk(self, event: dict[str, Any]) -> None:
            data = orjson.dumps(event) + b"\n"
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def _watch(self, resource: ApiResource, namespace: str | None, query: dict[str, list[str]]) -> None:
            since = (query.get("resourceVersion") or [""])[0]
            timeout = float((query.get("timeoutSeconds") or ["1800"])[0])
            bookmarks = _flag(query, "allowWatchBookmarks")
            shape = _shape(resource, self.headers.get("Accept", ""))
            self.entry.status = 200
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()

            def emit(kind: str, obj: dict[str, Any]) -> None:
                if shape == "table":
                    obj = _table(resource, [obj], obj["metadata"]["resourceVersion"])
                elif shape == "metadata":
                    obj = _partial(obj)
                elif _has_secret_data(obj):
                    self.entry.secret_data = True
                self._chunk({"type": kind, "object": obj})

            with store.changed:
                current = store.rv
                compacted = store.compacted
                epoch = store.epoch
            if since in ("", "0"):
                for _, obj in store.listed(resource, namespace)[0]:
                    emit("ADDED", obj)
                last = current
            elif int(since) < compacted:
                self._chunk({"type": "ERROR", "object": status_doc(
                    410, "Expired", f"too old resource version: {since} ({compacted})")})
                self._end()
                return
            else:
                last = int(since)
            deadline = time.monotonic() + timeout
            next_bookmark = time.monotonic() + 0.5
            while not server.dead and time.monotonic() < deadline:
                with store.changed:
                    if store.epoch != epoch:
                        pending = None
                    else:
                        newer = bisect.bisect_right(store.events, last, key=lambda e: e[0])  # rv order
                        pending = [(rv, k, o) for rv, r, k, o in store.events[newer:]
                                   if r is resource
                                   and (namespace is None or o["metadata"].get("namespace") == namespace)]
                        if not pending:
                            latest = store.rv  # nothing for us up to here: safe to bookmark
                            store.changed.wait(0.2)
                if pending is None:
                    self._chunk({"type": "ERROR", "object": status_doc(410, "Expired", "too old resource version")})
                    break
                for rv, kind, obj in pending:
                    emit(kind, obj)
                    last = rv
                if not pending and bookmarks and time.monotonic() >= next_bookmark:
                    last = max(last, latest)
                    self._chunk({"type": "BOOKMARK", "object": {
                        "kind": resource.kind, "apiVersion": resource.group_version,
                        "metadata": {"resourceVersion": str(last)}}})
                    next_bookmark = time.monotonic() + 0.5
            self._end()

        def _end(self) -> None:
            if not server.dead:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            self.close_connection = True

    return Handler


def _report_path(path: str) -> tuple[ApiResource, str, str] | None:
    """(resource, namespace, name) when `path` names one PolicyReport or ClusterPolicyReport."""
    parts = [p for p in path.split("/") if p]
    match parts:
        case ["apis", "wgpolicyk8s.io", "v1alpha2", "namespaces", namespace, "policyreports", name]:
            return BY_PLURAL[("wgpolicyk8s.io", "policyreports")], namespace, name
        case ["apis", "wgpolicyk8s.io", "v1alpha2", "clusterpolicyreports", name]:
            return BY_PLURAL[("wgpolicyk8s.io", "clusterpolicyreports")], "", name
    return None


def _selected(obj: dict[str, Any], selector: str) -> bool:
    """Equality-based label selectors (`a=b,c==d,e!=f`), the kind the reporter sends."""
    labels = obj["metadata"].get("labels") or {}
    for term in filter(None, selector.split(",")):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key) == value:
                return False
        else:
            key, value = term.replace("==", "=").split("=", 1)
            if labels.get(key) != value:
                return False
    return True


def _flag(query: dict[str, list[str]], name: str) -> bool:
    return (query.get(name) or [""])[0] in ("1", "true")


def _group(name: str) -> dict[str, Any]:
    versions = sorted({r.version for r in RESOURCES if r.group == name})
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"kind": "APIGroup", "apiVersion": "v1", "name": name, "versions": entries,
            "preferredVersion": entries[0]}


def _group_list() -> dict[str, Any]:
    groups = sorted({r.group for r in RESOURCES if r.group})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [_group(g) for g in groups]}
