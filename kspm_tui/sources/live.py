"""Read-only collection from a live cluster: discovery, then every kind listed concurrently.

Discovery decides which kinds exist. Each kind is listed in pages (`limit`/`continue`); an
expired continue token (410) restarts that kind's list. Secrets are listed as
`PartialObjectMetadataList`, so their data never leaves the server. What cannot be read
(403, missing API, a server that dies mid-scan) becomes a `CoverageGap` instead of an error,
and the rules that need it are reported not-assessable.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from kspm_tui.model import CoverageGap, SourceRef
from kspm_tui.perf import paused_gc
from kspm_tui.sources import Collected, SourcedObject
from kspm_tui.sources.apiclient import METADATA_LIST, ApiError, ApiReader, ConnectionLost
from kspm_tui.sources.kubeconfig import Connection, LiveError
from kspm_tui.sources.parse_cache import interned

PAGE_SIZE = 500
WORKERS = 8
LOST = -1  # a kind's outcome when the connection died while listing it
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


@dataclass(slots=True)
class ListPage:
    """One page of a kind's list, normalised; `first` starts a list (again), `last` ends it."""

    items: list[dict[str, Any]]
    version: str  # the list's resourceVersion (a paginated list is one consistent snapshot)
    first: bool
    last: bool


@dataclass(frozen=True, slots=True)
class Wanted:
    """A kind we collect. Optional kinds (policy engines) are silently skipped when absent."""

    group: str
    kind: str
    optional: bool = False
    metadata_only: bool = False


def _w(group: str, kinds: str, **kw: bool) -> list[Wanted]:
    return [Wanted(group, kind, **kw) for kind in kinds.split()]


# What rules, facts and the graph read. Events, Leases, EndpointSlices, CRDs and the like are
# left out: large, churny and irrelevant to posture.
WANTED: tuple[Wanted, ...] = (
    *_w("", "Namespace Pod Service ServiceAccount ConfigMap Node PersistentVolume "
            "PersistentVolumeClaim ReplicationController ResourceQuota LimitRange"),
    Wanted("", "Secret", metadata_only=True),
    *_w("apps", "Deployment StatefulSet DaemonSet ReplicaSet"),
    *_w("batch", "Job CronJob"),
    *_w("rbac.authorization.k8s.io", "Role ClusterRole RoleBinding ClusterRoleBinding"),
    *_w("networking.k8s.io", "NetworkPolicy Ingress"),
    *_w("networking.k8s.io", "IngressClass", optional=True),
    *_w("policy", "PodDisruptionBudget"),
    *_w("admissionregistration.k8s.io", "ValidatingWebhookConfiguration MutatingWebhookConfiguration"),
    *_w("admissionregistration.k8s.io", "ValidatingAdmissionPolicy ValidatingAdmissionPolicyBinding",
        optional=True),
    *_w("storage.k8s.io", "StorageClass", optional=True),
    *_w("node.k8s.io", "RuntimeClass", optional=True),
    *_w("kyverno.io", "ClusterPolicy Policy", optional=True),
    *_w("templates.gatekeeper.sh", "ConstraintTemplate", optional=True),
)

_AREA = {  # what a missing kind costs, in the user's words
    "Role": "RBAC", "ClusterRole": "RBAC", "RoleBinding": "RBAC", "ClusterRoleBinding": "RBAC",
    "NetworkPolicy": "network", "Ingress": "exposure", "Service": "exposure",
    "Namespace": "namespace", "Pod": "workload", "Deployment": "workload", "StatefulSet": "workload",
    "DaemonSet": "workload", "Job": "workload", "CronJob": "workload", "ReplicaSet": "workload",
    "ValidatingWebhookConfiguration": "admission", "MutatingWebhookConfiguration": "admission",
}


@dataclass(frozen=True, slots=True)
class Resource:
    """A discovered API resource: where to list it and what its items are."""

    kind: str
    api_version: str
    plural: str
    namespaced: bool
    metadata_only: bool = False
    watchable: bool = True
    namespace: str | None = None  # list (and watch) only this namespace (`-n`); namespaced kinds only

    @property
    def list_path(self) -> str:
        base = "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"
        scope = f"/namespaces/{self.namespace}" if self.namespace and self.namespaced else ""
        return f"{base}{scope}/{self.plural}"

    @property
    def accept(self) -> str:
        return METADATA_LIST if self.metadata_only else "application/json"


@dataclass(slots=True)
class Progress:
    kinds_done: int
    kinds_total: int
    objects: int


ProgressFn = Callable[[Progress], None]


@dataclass(slots=True)
class LiveCollected:
    """A live collection: the objects, the cluster's identity, and where each kind's list stood."""

    collected: Collected
    resources: list[Resource] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)  # kind → list resourceVersion


def gap_reason(kind: str, plural: str, why: str) -> str:
    area = _AREA.get(kind, kind)
    return f"cannot list {plural} ({why}) — {area} rules not assessable"


def normalize(item: dict[str, Any], resource: Resource) -> dict[str, Any]:
    """A list item as a standalone object: apiVersion/kind set, server bookkeeping dropped.

    managedFields are write history (large, no posture value). The last-applied annotation is
    dropped from Secrets because it holds their data as applied.
    """
    meta = item.get("metadata") or {}
    meta.pop("managedFields", None)
    if resource.metadata_only:
        annotations = meta.get("annotations")
        if annotations:
            annotations.pop(LAST_APPLIED, None)
        return {"apiVersion": resource.api_version, "kind": resource.kind, "metadata": meta}
    item["apiVersion"] = resource.api_version
    item["kind"] = resource.kind
    return item


class Discovery:
    """Which wanted kinds this cluster serves, via legacy discovery (`/api/v1`, `/apis/G/V`)."""

    def __init__(self, reader: ApiReader) -> None:
        self.reader = reader

    def resources(self, wanted: tuple[Wanted, ...] = WANTED) -> tuple[list[Resource], list[CoverageGap]]:
        core = self.reader.get_json("/api/v1")
        groups = self.reader.get_json("/apis")
        wanted_groups = {w.group for w in wanted if w.group}
        versions: dict[str, list[str]] = {}
        for group in groups.get("groups") or []:
            if group["name"] not in wanted_groups:
                continue
            preferred = (group.get("preferredVersion") or {}).get("groupVersion")
            listed = [v["groupVersion"] for v in group.get("versions") or []]
            versions[group["name"]] = ([preferred] if preferred else []) + [v for v in listed if v != preferred]
        served: dict[tuple[str, str], Resource] = {}
        self._add(served, "", "v1", core)
        with ThreadPoolExecutor(WORKERS) as pool:
            for group, gvs in versions.items():
                for gv, doc in zip(gvs, pool.map(self._group_version, gvs)):
                    if doc is not None:
                        self._add(served, group, gv, doc)
        found, gaps = [], []
        for w in wanted:
            resource = served.get((w.group, w.kind))
            if resource is None:
                if not w.optional:
                    api = f"{w.group}/" if w.group else "core/"
                    gaps.append(CoverageGap(kind=w.kind, reason=(
                        f"the cluster serves no {w.kind} API ({api}*) — {_AREA.get(w.kind, w.kind)} "
                        "rules not assessable")))
                continue
            found.append(Resource(resource.kind, resource.api_version, resource.plural, resource.namespaced,
                                  w.metadata_only, resource.watchable))
        return found, gaps

    def _group_version(self, gv: str) -> Any:
        try:
            return self.reader.get_json(f"/apis/{gv}")
        except ApiError:
            return None  # an unavailable aggregated API: its kinds count as not served

    @staticmethod
    def _add(served: dict[tuple[str, str], Resource], group: str, gv: str, doc: Any) -> None:
        for res in doc.get("resources") or []:
            name = res.get("name", "")
            verbs = res.get("verbs") or []
            if "/" in name or "list" not in verbs:
                continue  # subresources (pods/log) and unlistable kinds
            key = (group, res["kind"])
            if key not in served:  # the first (preferred) version wins
                served[key] = Resource(res["kind"], gv, name, bool(res.get("namespaced")),
                                       watchable="watch" in verbs)


class Collector:
    """One collection run: kinds listed on a thread pool, progress reported as they land."""

    def __init__(self, connection: Connection, *, progress: ProgressFn | None = None,
                 page_size: int = PAGE_SIZE, workers: int = WORKERS, reader: ApiReader | None = None,
                 namespace: str | None = None) -> None:
        self.connection = connection
        self.namespace = namespace
        self.reader = reader or ApiReader(connection)
        self.progress = progress
        self.page_size = page_size
        self.workers = workers
        self._lock = threading.Lock()
        self._objects = 0
        self._done = 0
        self._lost = threading.Event()

    def run(self, wanted: tuple[Wanted, ...] = WANTED) -> LiveCollected:
        with paused_gc():  # parsed pages form no cycles; see kspm_tui/perf.py
            return self._run(wanted)

    def _run(self, wanted: tuple[Wanted, ...]) -> LiveCollected:
        try:
            resources, gaps = Discovery(self.reader).resources(wanted)
            if self.namespace:
                resources = [replace(r, namespace=self.namespace) for r in resources]
        except ApiError as exc:
            raise self._fatal(exc) from None
        except ConnectionLost as exc:
            raise LiveError(f"context {self.connection.context.name!r}: {exc} during discovery: "
                            "retry when the API server is stable") from None
        collected = Collected(coverage=gaps)
        versions: dict[str, str] = {}
        self._report(len(resources))
        with ThreadPoolExecutor(max(1, min(self.workers, len(resources)))) as pool:
            outcomes = list(pool.map(lambda r: self._list_kind(r, len(resources)), resources))
        forbidden = 0
        for resource, (items, version, gap, status) in zip(resources, outcomes):
            source = SourceRef(file=f"{self.connection.context.name}:{resource.plural}")
            collected.objects.extend(SourcedObject(obj, source) for obj in items)
            if version:
                versions[resource.kind] = version
            if gap is not None:
                collected.coverage.append(gap)
            forbidden += status == 403
            collected.partial = collected.partial or status == LOST
        if resources and forbidden == len(resources):
            raise LiveError(
                f"context {self.connection.context.name!r} may not list anything (403 Forbidden on every "
                f"kind): ask for read access — `kspm-tui doctor --context {self.connection.context.name}` "
                "prints the ClusterRole to grant")
        collected.cluster_id = self.cluster_id(collected)
        collected.is_cluster = True
        return LiveCollected(collected, resources, versions)

    def _fatal(self, exc: ApiError) -> LiveError:
        name = self.connection.context.name
        if exc.status == 401:
            return LiveError(f"the API server rejected the credentials of context {name!r} (401 Unauthorized): "
                             "they are expired or invalid — log in again or refresh the token")
        if exc.status == 403:
            return LiveError(f"context {name!r} may not read API discovery (403 Forbidden): "
                             "ask for read access to the cluster")
        return LiveError(f"context {name!r}: API discovery failed ({exc.status} {exc.reason}): {exc.message}")

    def _report(self, total: int, objects: int = 0, done: bool = False) -> None:
        with self._lock:
            self._objects += objects
            self._done += done
            snapshot = Progress(self._done, total, self._objects)
        if self.progress:
            self.progress(snapshot)

    def _list_kind(self, resource: Resource, total: int) -> tuple[list[dict[str, Any]], str, CoverageGap | None, int]:
        """(items, list resourceVersion, coverage gap, failure status or LOST or 0) for one kind."""
        try:
            if self._lost.is_set():  # the server already went away: don't wait out retries per kind
                raise ConnectionLost("server gone")
            items, version = self.list_all(resource, lambda n: self._report(total, n))
            return items, version, None, 0
        except ApiError as exc:
            if exc.status == 401:
                raise self._fatal(exc) from None
            why = f"{exc.status} {_STATUS_TEXT.get(exc.status, exc.reason)}"
            gap = CoverageGap(kind=resource.kind, reason=gap_reason(resource.kind, resource.plural, why))
            return [], "", gap, exc.status
        except ConnectionLost:
            self._lost.set()
            gap = CoverageGap(kind=resource.kind, reason=(
                f"connection lost while listing {resource.plural} — scan is partial"))
            return [], "", gap, LOST
        finally:
            self._report(total, done=True)

    def list_all(self, resource: Resource, on_page: Callable[[int], None] | None = None,
                 ) -> tuple[list[dict[str, Any]], str]:
        """Every item of a kind, page by page; a 410 on a continue token relists from the start."""
        items: list[dict[str, Any]] = []
        version = ""
        for page in self.list_pages(resource):
            if page.first and items:  # started again
                if on_page:
                    on_page(-len(items))
                items = []
            items.extend(page.items)
            version = page.version
            if on_page:
                on_page(len(page.items))
        return items, version

    def list_pages(self, resource: Resource) -> Iterator[ListPage]:
        """A kind's items a page at a time, each parsed as it arrives and not kept here, so a
        caller that applies and drops them holds one page (a watch's relist, `sources/watch.py`).
        A 410 on a continue token starts the list again: its first page says `first` again."""
        for attempt in range(3):
            token, version = "", ""
            limit = self.page_size if attempt < 2 else 0  # last resort: one unpaginated list
            try:
                while True:
                    query: list[tuple[str, Any]] = [("limit", limit)] if limit else []
                    if token:
                        query.append(("continue", token))
                    page = self.reader.get_json(resource.list_path, query, resource.accept)
                    meta = page.get("metadata") or {}
                    version = version or meta.get("resourceVersion", "")
                    first, token = not token, meta.get("continue") or ""
                    # short values repeat across objects (namespaces, images, `True`, `Running`):
                    # one string each holds 10k Pods in ~20 % less memory than the pages parsed
                    got = interned([normalize(item, resource) for item in page.pop("items", None) or ()])
                    del page
                    yield ListPage(got, version, first=first, last=not token)
                    if not token:
                        return
            except ApiError as exc:
                if exc.status != 410 or not token:
                    raise
        raise ConnectionLost(f"{resource.plural}: continue token kept expiring")

    def cluster_id(self, collected: Collected) -> str:
        """UID of kube-system (survives context renames), else the server URL."""
        for item in collected.objects:
            obj = item.obj
            if obj.get("kind") == "Namespace" and obj["metadata"].get("name") == "kube-system":
                uid = obj["metadata"].get("uid")
                if uid:
                    return uid
        try:
            uid = self.reader.get_json("/api/v1/namespaces/kube-system").get("metadata", {}).get("uid")
        except (ApiError, ConnectionLost, LiveError):
            uid = None
        return uid or self.connection.server


_STATUS_TEXT = {403: "Forbidden", 404: "Not Found", 500: "Internal Server Error", 503: "Service Unavailable"}
