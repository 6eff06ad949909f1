"""What each unit of a run added to its counts, so a watch can keep a summary by difference.

A full scan only needs totals (`RuleStat.evaluated`, `superseded`, `Evaluation.workloads`,
`Excluded`). A watch re-evaluates a few units (a workload, an object, a Namespace, an RBAC
subject) per batch; to keep those totals exact without recounting the cluster it subtracts a
unit's old contribution and adds its new one. The engine records contributions only when
asked (`Options.unit_counts`): one tuple per unit, interned, so the thousands of workloads of
one template share one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from kspm_tui.snapshot import Key

# The unit of the rules a watch runs whole on every batch (cluster and control-plane scopes).
ALWAYS: Key = ("Cluster", None, "")

Counts = tuple[tuple[str, int], ...]  # (rule id or severity, n), sorted


class UnitCounts(NamedTuple):
    """One unit's share of a run's totals."""

    evaluated: Counts = ()  # checks run, per rule
    superseded: Counts = ()  # failures another rule's finding reports, per rule
    workloads: int = 0  # 1: a workload that is listed
    excluded: int = 0  # 1: a workload in a hidden system namespace
    excluded_findings: Counts = ()  # its hidden failures, per severity


@dataclass(slots=True)
class _Open:
    evaluated: list[str] = field(default_factory=list)
    superseded: list[str] = field(default_factory=list)
    workloads: int = 0
    excluded: int = 0
    excluded_findings: list[str] = field(default_factory=list)


def _counts(ids: list[str]) -> Counts:
    return tuple(sorted(Counter(ids).items())) if ids else ()


class Ledger:
    """Collects contributions while a run goes, by unit; `close` gives them, interned."""

    def __init__(self) -> None:
        self._open: dict[Key, _Open] = {}

    def _of(self, unit: Key) -> _Open:
        found = self._open.get(unit)
        if found is None:
            found = self._open[unit] = _Open()
        return found

    def evaluated(self, unit: Key, rules: Iterable[str]) -> None:
        self._of(unit).evaluated.extend(rules)

    def superseded(self, unit: Key, rules: Iterable[str]) -> None:
        self._of(unit).superseded.extend(rules)

    def workload(self, unit: Key, excluded: bool, hidden_severities: Iterable[str]) -> None:
        counts = self._of(unit)
        if excluded:
            counts.excluded += 1
            counts.excluded_findings.extend(hidden_severities)
        else:
            counts.workloads += 1

    def close(self) -> dict[Key, UnitCounts]:
        interned: dict[UnitCounts, UnitCounts] = {}
        out = {}
        for unit, c in self._open.items():
            counts = UnitCounts(_counts(c.evaluated), _counts(c.superseded), c.workloads, c.excluded,
                                _counts(c.excluded_findings))
            out[unit] = interned.setdefault(counts, counts)
        return out
