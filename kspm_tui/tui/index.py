"""A ScanResult reshaped for browsing: by namespace, by workload, by rule, with counts.

Built once per scan in the worker thread (linear in findings), so every screen opens by
slicing ready-made lists instead of scanning all findings again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kspm_tui.labels import object_ref
from kspm_tui.model import Finding, Severity, Status

if TYPE_CHECKING:
    from kspm_tui.scan import Scanned

SEVERITIES = tuple(Severity)
WorkloadKey = tuple[str, str | None, str]


@dataclass(slots=True)
class Counts:
    """Failing findings per severity, plus accepted; `worst` ranks rows."""

    by_severity: dict[Severity, int] = field(default_factory=lambda: dict.fromkeys(SEVERITIES, 0))
    accepted: int = 0
    new: int = 0

    def add(self, finding: Finding, new: bool) -> None:
        if finding.status is Status.fail:
            self.by_severity[finding.severity] += 1
            self.new += new
        elif finding.status is Status.accepted:
            self.accepted += 1

    @property
    def total(self) -> int:
        return sum(self.by_severity.values())

    def sort_key(self) -> tuple[int, ...]:
        """Worst first: more criticals, then more highs, ..."""
        return tuple(-self.by_severity[s] for s in SEVERITIES)


@dataclass(slots=True, eq=False)
class WorkloadRow:
    kind: str
    namespace: str | None
    name: str
    findings: list[Finding] = field(default_factory=list)
    counts: Counts = field(default_factory=Counts)
    search: str = ""
    rank: tuple[int, ...] = ()  # counts.sort_key(), computed once the counts are final

    @property
    def key(self) -> WorkloadKey:
        return (self.kind, self.namespace, self.name)

    @property
    def ref(self) -> str:
        return object_ref(self.kind, self.namespace, self.name)


@dataclass(slots=True, eq=False)
class NamespaceRow:
    name: str
    workloads: int = 0
    counts: Counts = field(default_factory=Counts)
    system: bool = False  # one of a live scan's platform namespaces (grouped after the others)


@dataclass(slots=True, eq=False)
class RuleRow:
    rule: str
    findings: list[Finding] = field(default_factory=list)
    counts: Counts = field(default_factory=Counts)


CLUSTER_SCOPE = "(cluster)"


def home(kind: str, namespace: str | None, name: str) -> str:
    """The namespace row an object is listed under: a Namespace under itself, cluster-scoped
    objects (nodes, cluster roles, the cluster) under "(cluster)"."""
    if kind == "Namespace":
        return name
    return namespace or CLUSTER_SCOPE


class ResultIndex:
    """Everything the tables show, keyed the way the drill path walks."""

    def __init__(self, findings: list[Finding], workloads: list[WorkloadKey],
                 previous: set[str] | None = None, system: frozenset[str] = frozenset()) -> None:
        self.previous = previous
        # A live scan's (or cluster dump's) platform namespaces, shown as their own group in the
        # overview; empty for manifests, whose system namespaces are what was asked about.
        self.system = system
        self.new: set[str] = set()
        self.resolved: set[str] = set()
        self.workloads: dict[WorkloadKey, WorkloadRow] = {}
        self.namespaces: dict[str, NamespaceRow] = {}
        self.rules: dict[str, RuleRow] = {}
        self.findings = findings
        for kind, ns, name in workloads:
            self._workload(kind, ns, name)
        current = set()
        for finding in findings:
            current.add(finding.fingerprint)
            new = previous is not None and finding.fingerprint not in previous
            if new and finding.status is Status.fail:
                self.new.add(finding.fingerprint)
            row = self._workload(finding.kind, finding.namespace, finding.name)
            row.findings.append(finding)
            row.counts.add(finding, new)
            self._namespace(home(finding.kind, finding.namespace, finding.name)).counts.add(finding, new)
            rule = self.rules.get(finding.rule)
            if rule is None:
                rule = self.rules[finding.rule] = RuleRow(finding.rule)
            rule.findings.append(finding)
            rule.counts.add(finding, new)
        if previous is not None:
            self.resolved = previous - current
        for row in self.workloads.values():
            row.search = f"{row.kind} {row.namespace or ''} {row.name}".lower()
            row.rank = row.counts.sort_key()

    def _workload(self, kind: str, ns: str | None, name: str) -> WorkloadRow:
        key = (kind, ns, name)
        row = self.workloads.get(key)
        if row is None:
            row = self.workloads[key] = WorkloadRow(kind, ns, name)
            self._namespace(home(kind, ns, name)).workloads += 1
        return row

    def _namespace(self, name: str) -> NamespaceRow:
        row = self.namespaces.get(name)
        if row is None:
            row = self.namespaces[name] = NamespaceRow(name, system=name in self.system)
        return row

    def workloads_in(self, namespace: str | None) -> list[WorkloadRow]:
        """All workloads (namespace None) or one namespace's (CLUSTER_SCOPE: cluster-scoped)."""
        rows = list(self.workloads.values())
        if namespace is None:
            return rows
        return [r for r in rows if home(r.kind, r.namespace, r.name) == namespace]


def index_scanned(scanned: Scanned, previous: set[str] | None) -> ResultIndex:
    """The index of a scan as the explorer lists it: workloads of hidden system namespaces left
    out (counted in their own row), `previous` the failing fingerprints `+` marks are new against."""
    from kspm_tui.scan import groups_system

    hidden = set(scanned.result.excluded.namespaces)  # none for manifests: they are shown whole
    keys = [(w.kind, w.namespace, w.name) for w in scanned.snapshot.workloads() if w.namespace not in hidden]
    system = frozenset(scanned.settings.config.system_namespaces) \
        if groups_system(scanned.collected, scanned.snapshot) else frozenset()
    return ResultIndex(scanned.result.findings, keys, previous, system)


class PendingIndex:
    """A first scan's provisional overview while its files are read: workloads and failing counts
    per namespace row. No findings are kept: the rows do not open until the judged index replaces them."""

    def __init__(self) -> None:
        self.workloads: set[WorkloadKey] = set()
        self.namespaces: dict[str, NamespaceRow] = {}
        self.read = (0, 0)  # files read, files in all

    def add(self, findings: list[Finding], workloads: list[WorkloadKey]) -> None:
        for kind, ns, name in workloads:
            if (kind, ns, name) not in self.workloads:
                self.workloads.add((kind, ns, name))
                self._namespace(home(kind, ns, name)).workloads += 1
        for finding in findings:
            self._namespace(home(finding.kind, finding.namespace, finding.name)).counts.add(finding, False)

    def _namespace(self, name: str) -> NamespaceRow:
        row = self.namespaces.get(name)
        if row is None:
            row = self.namespaces[name] = NamespaceRow(name)
        return row
