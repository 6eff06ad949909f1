"""A ScanResult reshaped for browsing: by namespace, by workload, by rule, with counts.

Built once per scan in the worker thread (linear in findings), so every screen opens by
slicing ready-made lists instead of scanning all findings again. While watching, each batch's
delta is applied instead (`applied`): only the rows it touches are rebuilt.
"""

from __future__ import annotations

import copy
from bisect import insort
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kspm_tui.labels import object_ref
from kspm_tui.model import Finding, Severity, Status
from kspm_tui.results import finding_order

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

    def remove(self, finding: Finding, new: bool) -> None:
        """Undo `add` (a watch batch took the finding away or replaced it)."""
        if finding.status is Status.fail:
            self.by_severity[finding.severity] -= 1
            self.new -= new
        elif finding.status is Status.accepted:
            self.accepted -= 1

    def copy(self) -> Counts:
        return Counts(dict(self.by_severity), self.accepted, self.new)

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


def _drop(findings: list[Finding], finding: Finding) -> None:
    """Remove this very finding. `list.remove` compares with ==, which for a pydantic model is
    every field of every finding before it: a rule row holds one finding per workload."""
    del findings[next(i for i, f in enumerate(findings) if f is finding)]


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
        self.listed = set(workloads)  # the workload rows listed whether or not they have findings
        self.by_fingerprint: dict[str, Finding] = {}
        self._copied: set[int] = set()  # rows `applied` made for the index it is building
        for kind, ns, name in workloads:
            self._workload(kind, ns, name)
        for finding in findings:
            self.by_fingerprint[finding.fingerprint] = finding
            self._add(finding, append=True)
        if previous is not None:
            self.resolved = previous.difference(self.by_fingerprint)
        for row in self.workloads.values():
            row.search = f"{row.kind} {row.namespace or ''} {row.name}".lower()
            row.rank = row.counts.sort_key()
        self._copied = set()

    def _add(self, finding: Finding, *, append: bool = False) -> None:
        """Count a finding into its workload, namespace and rule rows (`append`: in order already)."""
        new = self.previous is not None and finding.fingerprint not in self.previous
        if new and finding.status is Status.fail:
            self.new.add(finding.fingerprint)
        row = self._workload(finding.kind, finding.namespace, finding.name)
        rule = self.rules.get(finding.rule)
        if rule is None:
            rule = self.rules[finding.rule] = RuleRow(finding.rule)
        elif not append:
            rule = self._own_rule(rule)
        for findings in (row.findings, rule.findings):
            if append:
                findings.append(finding)
            else:
                insort(findings, finding, key=finding_order)
        for counts in (row.counts, self._namespace(home(finding.kind, finding.namespace, finding.name)).counts,
                       rule.counts):
            counts.add(finding, new)

    def applied(self, added: list[Finding], removed: Iterable[str], listed: Iterable[WorkloadKey]) -> ResultIndex:
        """This index with a watch batch's delta applied, as a new index: the rows the delta
        touches are rebuilt, every other row is shared (the shown index is left as it is for
        the UI thread). `added` replace findings of their fingerprint; `listed`: the workload
        rows to list now. Equal to building the index again (`tests/test_tui_live_delta.py`)."""
        out = copy.copy(self)
        out.workloads, out.namespaces, out.rules = dict(self.workloads), dict(self.namespaces), dict(self.rules)
        out.new, out.resolved, out.by_fingerprint = set(self.new), set(self.resolved), dict(self.by_fingerprint)
        out._copied = set()
        touched: set[WorkloadKey] = set()
        gone = [out.by_fingerprint.pop(fp) for fp in {*removed, *(f.fingerprint for f in added)}
                if fp in out.by_fingerprint]
        for finding in gone:
            fp, key = finding.fingerprint, (finding.kind, finding.namespace, finding.name)
            new = fp in out.new
            out.new.discard(fp)
            row = out._own_workload(out.workloads[key])
            _drop(row.findings, finding)
            rule = out._own_rule(out.rules[finding.rule])
            _drop(rule.findings, finding)
            for counts in (row.counts, out._namespace(home(*key)).counts, rule.counts):
                counts.remove(finding, new)
            if not rule.findings:
                del out.rules[finding.rule]
            touched.add(key)
        for finding in added:
            out.by_fingerprint[finding.fingerprint] = finding
            out._add(finding)
            touched.add((finding.kind, finding.namespace, finding.name))
        if out.previous is not None:
            out.resolved |= {f.fingerprint for f in gone if f.fingerprint in out.previous}
            out.resolved.difference_update(out.by_fingerprint)
        out.listed = set(listed)
        for key in out.listed - self.listed:
            out._workload(*key)
            touched.add(key)
        for key in touched | (self.listed - out.listed):
            row = out.workloads.get(key)
            if row is not None and not row.findings and key not in out.listed:
                del out.workloads[key]
                namespace = out._namespace(home(*key))
                namespace.workloads -= 1
                if not namespace.workloads:
                    del out.namespaces[namespace.name]
            elif row is not None:
                row.search = f"{row.kind} {row.namespace or ''} {row.name}".lower()
                row.rank = row.counts.sort_key()
        dropped = {id(f) for f in gone}
        out.findings = [f for f in self.findings if id(f) not in dropped] if dropped else list(self.findings)
        for finding in added:
            insort(out.findings, finding, key=finding_order)
        out._copied = set()
        return out

    def _own_workload(self, row: WorkloadRow) -> WorkloadRow:
        """The row to change: a copy of a shared one, once per `applied`."""
        if id(row) in self._copied:
            return row
        mine = copy.copy(row)
        mine.findings, mine.counts = list(row.findings), row.counts.copy()
        self.workloads[row.key] = mine
        self._copied.add(id(mine))
        return mine

    def _own_rule(self, row: RuleRow) -> RuleRow:
        if id(row) in self._copied:
            return row
        mine = self.rules[row.rule] = RuleRow(row.rule, list(row.findings), row.counts.copy())
        self._copied.add(id(mine))
        return mine

    def _own_namespace(self, name: str) -> None:
        row = self.namespaces.get(name)
        if row is not None and id(row) not in self._copied:
            mine = self.namespaces[name] = NamespaceRow(row.name, row.workloads, row.counts.copy(), row.system)
            self._copied.add(id(mine))

    def _workload(self, kind: str, ns: str | None, name: str) -> WorkloadRow:
        key = (kind, ns, name)
        row = self.workloads.get(key)
        if row is None:
            row = self.workloads[key] = WorkloadRow(kind, ns, name)
            self._copied.add(id(row))
            self._namespace(home(kind, ns, name)).workloads += 1
        elif id(row) not in self._copied:
            row = self._own_workload(row)
        return row

    def _namespace(self, name: str) -> NamespaceRow:
        row = self.namespaces.get(name)
        if row is None:
            row = self.namespaces[name] = NamespaceRow(name, system=name in self.system)
            self._copied.add(id(row))
        elif id(row) not in self._copied:
            self._own_namespace(name)
            row = self.namespaces[name]
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

    system = frozenset(scanned.settings.config.system_namespaces) \
        if groups_system(scanned.collected, scanned.snapshot) else frozenset()
    return ResultIndex(scanned.result.findings, listed_workloads(scanned), previous, system)


def listed_workloads(scanned: Scanned) -> list[WorkloadKey]:
    """The workloads the explorer lists: all but those of hidden system namespaces."""
    hidden = set(scanned.result.excluded.namespaces)  # none for manifests: they are shown whole
    return [(w.kind, w.namespace, w.name) for w in scanned.snapshot.workloads() if w.namespace not in hidden]


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
