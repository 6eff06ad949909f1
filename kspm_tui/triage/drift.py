"""Drift between two scans of one target: what is new, what was fixed, what moved.

Works on history records (`ScanRecord`), so it needs no cluster and no snapshot: findings
are compared by fingerprint, workloads and bindings by identity, images as a set. "New
dangerous permissions" and "new attack paths" are new failing findings of the RBAC and
Attack paths categories — the rules are where "dangerous" is defined.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from kspm_tui.model import BindingRef, Category, Status, WorkloadRef
from kspm_tui.triage.history import FindingRecord, ScanRecord


class ScanPoint(BaseModel):
    started: datetime
    score: int
    failing: int


class Drift(BaseModel):
    target: str
    old: ScanPoint
    new: ScanPoint
    new_findings: list[FindingRecord] = Field(default_factory=list)
    resolved_findings: list[FindingRecord] = Field(default_factory=list)
    newly_accepted: list[FindingRecord] = Field(default_factory=list)
    new_workloads: list[WorkloadRef] = Field(default_factory=list)
    removed_workloads: list[WorkloadRef] = Field(default_factory=list)
    new_images: list[str] = Field(default_factory=list)
    removed_images: list[str] = Field(default_factory=list)
    new_bindings: list[BindingRef] = Field(default_factory=list)
    removed_bindings: list[BindingRef] = Field(default_factory=list)
    new_dangerous_permissions: list[FindingRecord] = Field(default_factory=list)
    new_attack_paths: list[FindingRecord] = Field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(v for k, v in self if isinstance(v, list))


def _point(record: ScanRecord) -> ScanPoint:
    return ScanPoint(started=record.started, score=record.summary.score, failing=record.summary.total)


def _workload_key(w: WorkloadRef) -> tuple[str, str, str]:
    return (w.kind, w.namespace or "", w.name)


def _binding_key(b: BindingRef) -> tuple[str, ...]:
    """A binding that now grants a different role or to other subjects counts as new."""
    return (b.kind, b.namespace or "", b.name, b.role, *b.subjects)


def diff(old: ScanRecord, new: ScanRecord) -> Drift:
    old_by = {f.fingerprint: f for f in old.findings}
    failing_before = {fp for fp, f in old_by.items() if f.status is Status.fail}
    now_by = {f.fingerprint: f for f in new.findings}
    new_findings = [f for f in new.findings if f.status is Status.fail and f.fingerprint not in failing_before]
    # a finding is resolved only if its rule ran again (a --skip or a coverage gap is not a fix)
    ran = set(new.rules) | {f.rule for f in new.findings}
    resolved = [f for fp, f in old_by.items() if fp in failing_before and f.rule in ran
                and (fp not in now_by or now_by[fp].status is Status.passed)]
    accepted = [f for f in new.findings if f.status is Status.accepted and f.fingerprint in failing_before]

    old_w = {_workload_key(w): w for w in old.inventory.workloads}
    new_w = {_workload_key(w): w for w in new.inventory.workloads}
    old_images = {i for w in old.inventory.workloads for i in w.images}
    new_images = {i for w in new.inventory.workloads for i in w.images}
    old_b = {_binding_key(b): b for b in old.inventory.bindings}
    new_b = {_binding_key(b): b for b in new.inventory.bindings}
    return Drift(
        target=new.target, old=_point(old), new=_point(new),
        new_findings=new_findings, resolved_findings=resolved, newly_accepted=accepted,
        new_workloads=[w for k, w in new_w.items() if k not in old_w],
        removed_workloads=[w for k, w in old_w.items() if k not in new_w],
        new_images=sorted(new_images - old_images), removed_images=sorted(old_images - new_images),
        new_bindings=[b for k, b in new_b.items() if k not in old_b],
        removed_bindings=[b for k, b in old_b.items() if k not in new_b],
        new_dangerous_permissions=[f for f in new_findings if f.category is Category.rbac],
        new_attack_paths=[f for f in new_findings if f.category is Category.attack_path],
    )

