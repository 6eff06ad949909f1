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
        # Once the workload list was asked for, it is kept per object as objects come and go (a
        # watch): the top-level workloads per kind, in the order read, and which objects name
        # each uid or key as their owner (built at the first change after the list).
        self._tops: dict[str, dict[Key, Workload]] | None = None
        self._referrers: dict[str | Key, set[Key]] | None = None
        for item in items:
            self.add(item)
        self._cluster_id = cluster_id

    def add(self, item: SourcedObject) -> None:
        """Index one object; a later object with the same key replaces the earlier one."""
        key = key_of(item.obj)
        old = self._unindex(key) if key in self.index else None
        self.index[key] = item
        self._by_kind[key[0]][key] = item
        uid = item.obj["metadata"].get("uid")
        if uid:
            self.by_uid[uid] = item
        if key[0] in WORKLOAD_KINDS:  # the workload list reads only these (other owners end a chain)
            self._workloads = None
            if self._tops is not None:
                self._workload_changed(key, old, item)

    def remove(self, key: Key) -> SourcedObject | None:
        item = self._unindex(key)
        if item is not None and key[0] in WORKLOAD_KINDS:
            self._workloads = None
            if self._tops is not None:
                self._workload_changed(key, item, None)
        return item

    def _unindex(self, key: Key) -> SourcedObject | None:
        item = self.index.pop(key, None)
        if item is not None:
            del self._by_kind[key[0]][key]
            uid = item.obj["metadata"].get("uid")
            if uid and self.by_uid.get(uid) is item:
                del self.by_uid[uid]
        return item

    def _workload_changed(self, key: Key, old: SourcedObject | None, new: SourcedObject | None) -> None:
        """Keep the workload list after a workload-kind object changed: whether it is top-level
        (a replaced object counts as read last, as in `_by_kind`), and whether the objects its
        old or new self owns are. An object is top-level when its owner is absent or not a
        workload, so nothing further down the chain changes."""
        tops = self._tops
        assert tops is not None
        if self._referrers is None:
            self._referrers = {}
            for kind in WORKLOAD_KINDS:
                for other in self.of_kind(kind):
                    if other is not new:
                        self._refer(other, add=True)
        others: set[Key] = set()
        for item, added in ((old, False), (new, True)):
            if item is not None:
                self._refer(item, add=added)
                uid = item.obj["metadata"].get("uid")
                others |= self._referrers.get(uid, set()) if uid else set()
                others |= self._referrers.get(key, set())
        tops[key[0]].pop(key, None)
        if new is not None and (workload := self._top_workload(new)) is not None:
            tops[key[0]][key] = workload
        for other_key in others - {key}:
            other = self.index.get(other_key)
            if other is None:
                continue
            now = self._top_workload(other) is not None
            if now and other_key not in tops[other_key[0]]:
                self._tops = self._referrers = None  # it goes where it was read: list them again when asked
                return
            if not now:
                tops[other_key[0]].pop(other_key, None)

    def _top_workload(self, item: SourcedObject) -> Workload | None:
        """`item` as a workload if it is one of the list: top-level, with a pod template."""
        if self.top_owner(item) is not item or (template := pod_template(item.obj)) is None:
            return None
        return Workload(item, template)

    def _refer(self, item: SourcedObject, add: bool) -> None:
        """Record (or forget) the uids and keys an object names as its owners."""
        assert self._referrers is not None
        key = key_of(item.obj)
        for ref in item.obj["metadata"].get("ownerReferences") or ():
            kind = ref.get("kind", "")
            named = (kind, key[1] if kind not in CLUSTER_SCOPED else None, ref.get("name", ""))
            for target in (ref.get("uid"), named):
                if not target:
                    continue
                if add:
                    self._referrers.setdefault(target, set()).add(key)
                elif (keys := self._referrers.get(target)) is not None:
                    keys.discard(key)
                    if not keys:
                        del self._referrers[target]

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
            if self._tops is None:
                self._tops = {kind: {
                    key: workload for key, item in self._by_kind.get(kind, {}).items()
                    if (workload := self._top_workload(item)) is not None
                } for kind in WORKLOAD_ORDER}
            self._workloads = [w for kind in WORKLOAD_ORDER for w in self._tops[kind].values()]
        return self._workloads

    def workloads_by_key(self) -> dict[Key, Workload]:
        """The top-level workloads by key, in the order of `workloads()`."""
        self.workloads()
        assert self._tops is not None
        return {key: w for kind in WORKLOAD_ORDER for key, w in self._tops[kind].items()}

    def workload(self, key: Key) -> Workload | None:
        """The top-level workload with this key (None: there is none)."""
        self.workloads()
        tops = self._tops.get(key[0]) if self._tops is not None else None
        return tops.get(key) if tops is not None else None

    def namespaces(self) -> list[str]:
        """Every namespace that exists or is referenced by an object."""
        names = {item.obj["metadata"]["name"] for item in self.of_kind("Namespace")}
        names.update(ns for (_, ns, _) in self.index if ns)
        return sorted(names)
