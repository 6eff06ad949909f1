"""What a snapshot holds that later stages need without the snapshot itself.

Workloads with their images and RBAC bindings are kept in each history record (not in the
JSON report), so `kspm-tui diff` can say what appeared or went away between two scans; the
`kspm-tui.io/accept` annotations let exceptions be re-applied after the user adds one.
"""

from __future__ import annotations

from typing import Any

from kspm_tui.kinds import pod_template
from kspm_tui.model import AcceptAnnotation, BindingRef, Inventory, WorkloadRef
from kspm_tui.snapshot import Snapshot, namespace_of

_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
ACCEPT_ANNOTATION = "kspm-tui.io/accept"
ACCEPT_OWNER_ANNOTATION = "kspm-tui.io/accept-owner"


def build_inventory(snapshot: Snapshot) -> Inventory:
    workloads = []
    for workload in snapshot.workloads():
        spec = workload.template.get("spec") or {}
        images = sorted({str(c.get("image")) for key in _CONTAINER_LISTS for c in spec.get(key) or ()
                         if isinstance(c, dict) and c.get("image")})
        workloads.append(WorkloadRef(kind=workload.kind, namespace=workload.namespace,
                                     name=workload.name, images=images))
    bindings = []
    for kind in ("RoleBinding", "ClusterRoleBinding"):
        for item in snapshot.of_kind(kind):
            obj = item.obj
            ref = obj.get("roleRef") or {}
            subjects = sorted(
                f"{s.get('kind', '?')}:" + (f"{s['namespace']}/" if s.get("namespace") else "")
                + str(s.get("name", "?"))
                for s in obj.get("subjects") or () if isinstance(s, dict)
            )
            bindings.append(BindingRef(kind=kind, namespace=namespace_of(obj), name=obj["metadata"]["name"],
                                       role=f"{ref.get('kind', '?')}/{ref.get('name', '?')}",
                                       subjects=subjects))
    workloads.sort(key=lambda w: (w.namespace or "", w.kind, w.name))
    bindings.sort(key=lambda b: (b.namespace or "", b.kind, b.name))
    return Inventory(workloads=workloads, bindings=bindings, accept_annotations=accept_annotations(snapshot))


def accept_annotations(snapshot: Snapshot) -> list[AcceptAnnotation]:
    """Every `kspm-tui.io/accept` annotation in the snapshot (values parsed by triage/acceptance.py).

    A workload's pod template annotations count as the workload's own: charts often let users
    set only those (podAnnotations), and that is where the accepted pods' settings live.
    """
    return [note for item in snapshot.items for note in object_accept_annotations(item.obj)]


def object_accept_annotations(obj: dict[str, Any]) -> list[AcceptAnnotation]:
    """One object's `kspm-tui.io/accept` annotations (its own, then its pod template's)."""
    found = []
    template = pod_template(obj) if obj["kind"] != "Pod" else None
    for meta in (obj["metadata"], (template or {}).get("metadata")):
        notes = (meta.get("annotations") or {}) if isinstance(meta, dict) else {}
        value = notes.get(ACCEPT_ANNOTATION)
        if isinstance(value, str):
            owner = notes.get(ACCEPT_OWNER_ANNOTATION)
            found.append(AcceptAnnotation(kind=obj["kind"], namespace=namespace_of(obj),
                                          name=obj["metadata"]["name"], value=value,
                                          owner=owner if isinstance(owner, str) else None))
    return found
