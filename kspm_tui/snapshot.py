"""The snapshot: every object read, indexed, with owners resolved to the top-level workload.

Rules never search the snapshot themselves; the engine and the graph ask it questions
("which workloads are there", "who owns this pod") through this small surface.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kspm_tui.kinds import CLUSTER_SCOPED, WORKLOAD_KINDS, WORKLOAD_ORDER, pod_template
from kspm_tui.sources import SourcedObject

DEFAULT_SYSTEM_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease")
LOCAL_CLUSTER = "local"
# Where a namespaced manifest without `metadata.namespace` lives: wherever it is applied
# (`kubectl apply -n NS`, else the context's namespace), so not `default`. Not a valid
# namespace name, so it never meets a real one; objects that share it stay together.
UNKNOWN_NAMESPACE = "(namespace unknown)"

Key = tuple[str, str | None, str]


def namespace_of(obj: dict[str, Any]) -> str | None:
    """The namespace an object lives in (UNKNOWN_NAMESPACE when a namespaced manifest omits it)."""
    if obj.get("kind") in CLUSTER_SCOPED:
        return None
    return (obj.get("metadata") or {}).get("namespace") or UNKNOWN_NAMESPACE


def known(namespace: str | None) -> str | None:
    """The namespace to write into a command or manifest: none when it is unknown (kubectl then
    uses the same namespace the object was applied to: the context's, or `-n`)."""
    return None if namespace == UNKNOWN_NAMESPACE else namespace


def key_of(obj: dict[str, Any]) -> Key:
    return (obj["kind"], namespace_of(obj), obj["metadata"]["name"])


@dataclass(slots=True)
class Workload:
    """A top-level owner of pods (Deployment, CronJob, bare Pod, ...) and its pod template."""

    item: SourcedObject
    template: dict[str, Any]

    @property
    def obj(self) -> dict[str, Any]:
        return self.item.obj

    @property
    def kind(self) -> str:
        return self.item.obj["kind"]

    @property
    def name(self) -> str:
        return self.item.obj["metadata"]["name"]

    @property
    def namespace(self) -> str | None:
        return namespace_of(self.item.obj)


class Snapshot:
    """Objects by kind/namespace/name and by UID, with ownership resolved.

    Storage is dicts keyed by object key, insertion-ordered, so adding, replacing and
    removing an object is O(1) however large the snapshot (a live watch does this per event);
    a replaced object moves to the end, as if it had been read last.
    """

    def __init__(self, items: Iterable[SourcedObject], *, cluster_id: str | None = None) -> None:
        self.index: dict[Key, SourcedObject] = {}
        self._by_kind: dict[str, dict[Key, SourcedObject]] = defaultdict(dict)
        self.by_uid: dict[str, SourcedObject] = {}
        self._workloads: list[Workload] | None = None  # computed once per change, asked for by many
        for item in items:
            self.add(item)
        self._cluster_id = cluster_id

    def add(self, item: SourcedObject) -> None:
        """Index one object; a later object with the same key replaces the earlier one."""
        key = key_of(item.obj)
        if key[0] in WORKLOAD_KINDS:  # the workload list reads only these (other owners end a chain)
            self._workloads = None
        if key in self.index:
            self.remove(key)
        self.index[key] = item
        self._by_kind[key[0]][key] = item
        uid = item.obj["metadata"].get("uid")
        if uid:
            self.by_uid[uid] = item

    def remove(self, key: Key) -> SourcedObject | None:
        item = self.index.pop(key, None)
        if item is not None:
            if key[0] in WORKLOAD_KINDS:
                self._workloads = None
            del self._by_kind[key[0]][key]
            uid = item.obj["metadata"].get("uid")
            if uid and self.by_uid.get(uid) is item:
                del self.by_uid[uid]
        return item

    @property
    def items(self) -> list[SourcedObject]:
        """Every object, in the order read (a replaced object counts as read last)."""
        return list(self.index.values())

    @property
    def by_kind(self) -> dict[str, list[SourcedObject]]:
        return {kind: list(objs.values()) for kind, objs in self._by_kind.items() if objs}

    def __len__(self) -> int:
        return len(self.index)

    @property
    def cluster_id(self) -> str:
        """UID of kube-system when we have it (survives context renames), else given/local."""
        if self._cluster_id:
            return self._cluster_id
        kube_system = self.get("Namespace", None, "kube-system")
        uid = kube_system.obj["metadata"].get("uid") if kube_system else None
        return uid or LOCAL_CLUSTER

    def get(self, kind: str, namespace: str | None, name: str) -> SourcedObject | None:
        return self.index.get((kind, namespace, name))

    def of_kind(self, kind: str) -> list[SourcedObject]:
        objs = self._by_kind.get(kind)
        return list(objs.values()) if objs else []

    def owner(self, obj: dict[str, Any]) -> SourcedObject | None:
        """The object's controller owner, if it is in the snapshot."""
        for ref in obj["metadata"].get("ownerReferences") or ():
            if ref.get("controller") is False and len(obj["metadata"]["ownerReferences"]) > 1:
                continue
            found = self.by_uid.get(ref.get("uid", "")) or self.get(
                ref.get("kind", ""), namespace_of(obj) if ref.get("kind") not in CLUSTER_SCOPED else None,
                ref.get("name", ""),
            )
            if found is not None and found.obj is not obj:
                return found
        return None

    def top_owner(self, item: SourcedObject) -> SourcedObject:
        """Follow controller owners up to the top-level workload (a bare Pod owns itself)."""
        seen = {id(item)}
        while (parent := self.owner(item.obj)) is not None and id(parent) not in seen:
            if parent.obj.get("kind") not in WORKLOAD_KINDS:
                break  # e.g. a static Pod "owned" by its Node stays its own workload
            seen.add(id(parent))
            item = parent
        return item

    def workloads(self) -> list[Workload]:
        """Top-level pod-owning objects; owned ReplicaSets, Jobs and Pods are folded in."""
        if self._workloads is None:
            self._workloads = [
                Workload(item, template) for kind in WORKLOAD_ORDER for item in self.of_kind(kind)
                if self.top_owner(item) is item and (template := pod_template(item.obj)) is not None
            ]
        return self._workloads

    def namespaces(self) -> list[str]:
        """Every namespace that exists or is referenced by an object."""
        names = {item.obj["metadata"]["name"] for item in self.of_kind("Namespace")}
        names.update(ns for (_, ns, _) in self.index if ns)
        return sorted(names)
