"""One fix plan per object: every `safe` patch combined into one patch and one command.

Patches are added in severity order and kept only while the combined result still passes the
API server's validation, so the plan is accepted as a whole; `review` items and withheld fixes
are listed with their reasons, never applied.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kspm_tui import strategic_merge
from kspm_tui.fixes.safety import WITHHELD, combine, cost_of
from kspm_tui.fixes.validation import validate_object
from kspm_tui.kinds import TEMPLATE_PATH
from kspm_tui.model import Finding, Safety, Status
from kspm_tui.remediation import kubectl_patch
from kspm_tui.snapshot import Snapshot
from kspm_tui.yamlio import dump_yaml

ObjectKey = tuple[str, str | None, str]


@dataclass(slots=True)
class Plan:
    """The fix plan of one object (a workload, a Namespace, a ServiceAccount...)."""

    kind: str
    namespace: str | None
    name: str
    obj: dict[str, Any] | None
    patch: dict[str, Any] | None = None
    kubectl: str | None = None
    applied: list[Finding] = field(default_factory=list)  # resolved by `patch`
    review: list[tuple[Finding, str]] = field(default_factory=list)  # listed with the reason, not applied

    @property
    def ref(self) -> str:
        return f"{self.kind} {self.namespace + '/' if self.namespace else ''}{self.name}"

    @property
    def cost(self) -> str:
        return cost_of(self.kind) if self.patch else "none"

    def patched(self) -> dict[str, Any] | None:
        if self.obj is None or self.patch is None:
            return None
        return strategic_merge.apply(self.obj, self.patch)

    def diff(self) -> str:
        """Unified before/after diff of the object as YAML ('' without a patch)."""
        after = self.patched()
        if after is None or self.obj is None:
            return ""
        return "".join(difflib.unified_diff(dump_yaml(self.obj).splitlines(keepends=True),
                                            dump_yaml(after).splitlines(keepends=True),
                                            f"{self.ref} (now)", f"{self.ref} (planned)", n=3))


def plan_for(key: ObjectKey, findings: Iterable[Finding], snapshot: Snapshot,
             context: str | None = None) -> Plan:
    kind, namespace, name = key
    item = snapshot.get(kind, namespace, name)
    plan = Plan(kind, namespace, name, item.obj if item is not None else None)
    ordered = sorted((f for f in findings if f.status is Status.fail),
                     key=lambda f: (-f.severity.rank, f.rule, f.container or ""))
    before = {str(p) for p in validate_object(plan.obj)} if plan.obj is not None else set()
    commandable = False
    for finding in ordered:
        rem = finding.remediation
        if rem.patch is None:
            if rem.guidance.startswith(WITHHELD):
                plan.review.append((finding, rem.guidance))
            continue
        if rem.safety is not Safety.safe:
            plan.review.append((finding, rem.safety_reason or "needs review"))
            continue
        candidate = combine(plan.patch or {}, rem.patch)
        if plan.obj is not None:
            new = [p for p in validate_object(strategic_merge.apply(plan.obj, candidate)) if str(p) not in before]
            if new:
                plan.review.append((finding, f"conflicts with the rest of the plan: {new[0]}"))
                continue
        plan.patch = candidate
        plan.applied.append(finding)
        commandable |= rem.kubectl is not None
    if plan.patch is not None and commandable:
        plan.kubectl = kubectl_patch(kind, name, namespace, plan.patch, context)
    return plan


def plans(findings: Iterable[Finding], snapshot: Snapshot, context: str | None = None) -> list[Plan]:
    """A plan for every object with at least one failing finding that has a fix or a reason."""
    grouped: dict[ObjectKey, list[Finding]] = {}
    for finding in findings:
        if finding.status is Status.fail and (finding.remediation.patch is not None
                                              or finding.remediation.guidance.startswith(WITHHELD)):
            grouped.setdefault((finding.kind, finding.namespace, finding.name), []).append(finding)
    out = [plan_for(key, group, snapshot, context) for key, group in grouped.items()]
    return sorted(out, key=lambda p: (p.namespace or "", p.kind not in TEMPLATE_PATH, p.kind, p.name))
