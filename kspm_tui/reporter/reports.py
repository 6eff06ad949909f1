"""A scan's findings as the PolicyReports the in-cluster reporter keeps (pure: no API calls).

The shared contract (the fleet view reads what this writes):
- one `PolicyReport` per workload (its top-level owner: Deployment, CronJob, bare Pod, ...),
  named `kspm-<kind>-<name>`, with `scope` and an ownerReference to the workload, so the
  garbage collector removes the report with it;
- findings on other namespaced objects (Service, Role, Namespace, ...) in `kspm-namespace`;
- cluster-scoped findings in the ClusterPolicyReport `kspm-cluster` (always written: it says
  a reporter runs here even when nothing is wrong);
- labels `app.kubernetes.io/managed-by: kspm-tui`, `kspm-tui.io/cluster: <cluster id>`,
  annotations `kspm-tui.io/scanned-at` and `kspm-tui.io/content-hash` (a digest of everything
  but the timestamps, so an unchanged report is recognised and never rewritten);
- a report over ~512 KiB is split into `<name>`, `<name>-2`, ... (same labels and scope).
Each result is `report.policyreport`'s result (rule, severity, category, message, and the fix
command and its safety as properties).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson

from kspm_tui.kinds import WORKLOAD_KINDS
from kspm_tui.model import Finding, ScanResult, Status

# One result shape for `-o policyreport` and the reporter (the fleet view reads both).
from kspm_tui.report.policyreport import _result as result_entry
from kspm_tui.snapshot import Snapshot, known
from kspm_tui.wgpolicy import API_VERSION, CLUSTER_LABEL, CONTENT_HASH, MANAGED_BY, SCANNED_AT, SOURCE

if TYPE_CHECKING:
    from kspm_tui.watch_publish import Delta

NAMESPACE_REPORT = "kspm-namespace"
CLUSTER_REPORT = "kspm-cluster"
MAX_BYTES = 512 * 1024  # a report's size, well under etcd's 1.5 MiB request limit (room for managedFields)
_RESULTS_BYTES = MAX_BYTES - 16 * 1024  # what is left for results beside metadata, scope and summary
MAX_NAME = 253
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")

ReportKey = tuple[str, str, str]  # (kind, namespace or "", name)


@dataclass(frozen=True, slots=True)
class Desired:
    """One report as it should be in the cluster, and the digest of its content."""

    key: ReportKey
    body: dict[str, Any]
    content_hash: str


def report_name(text: str) -> str:
    """`text` when it is a valid object name, else cut and suffixed with a digest of all of it."""
    if len(text) <= MAX_NAME and _DNS_SUBDOMAIN.fullmatch(text):
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:10]
    cut = re.sub(r"[^a-z0-9.-]", "-", text.lower())[: MAX_NAME - 11].strip("-.")
    return f"{cut}-{digest}" if cut else f"kspm-{digest}"


def cluster_label(cluster_id: str) -> str:
    """The cluster id as a label value (63 characters of [A-Za-z0-9-_.], alphanumeric at the ends)."""
    value = "".join(c if c.isalnum() or c in "-_." else "-" for c in cluster_id)[:63]
    return value.strip("-_.")


def content_hash(body: dict[str, Any]) -> str:
    """Digest of a report without what changes on every scan (result timestamps, annotations)."""
    meta = body["metadata"]
    stable = {
        "kind": body["kind"],
        "metadata": {k: meta.get(k) for k in ("name", "namespace", "labels", "ownerReferences")},
        "scope": body.get("scope"),
        "results": [{k: v for k, v in r.items() if k != "timestamp"} for r in body["results"]],
    }
    return hashlib.sha256(orjson.dumps(stable, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


@dataclass(slots=True)
class _Group:
    kind: str  # PolicyReport | ClusterPolicyReport
    namespace: str
    name: str
    workload: dict[str, Any] | None  # the workload object a per-workload report is about
    findings: dict[str, Finding]  # by fingerprint


CLUSTER_GROUP: ReportKey = ("ClusterPolicyReport", "", CLUSTER_REPORT)


class ReportIndex:
    """The reports the cluster should hold, kept by difference.

    A watch batch's `Delta` names the findings it added (new or re-evaluated) and removed; only
    the reports holding them are built again. The rest keep their bodies and content hashes, so a
    batch costs what it changed, not the cluster's size. `rebuild` starts over from a whole scan
    (a full re-evaluation, exceptions changed); `desired_reports` is one rebuild.
    """

    def __init__(self, cluster_id: str) -> None:
        self.labels = {MANAGED_BY: SOURCE, CLUSTER_LABEL: cluster_label(cluster_id)}
        self._groups: dict[ReportKey, _Group] = {}
        self._where: dict[str, ReportKey] = {}  # fingerprint → its group
        self._parts: dict[ReportKey, list[ReportKey]] = {}  # group → the reports it was split into
        self._desired: dict[ReportKey, Desired] = {}
        self._not_assessable: dict[str, Finding] = {}  # rules not assessable (the cluster's report)

    def rebuild(self, findings: Iterable[Finding], snapshot: Snapshot, at: datetime) -> None:
        """Every report from a whole scan's findings."""
        self._where, self._parts, self._desired, self._not_assessable = {}, {}, {}, {}
        # The cluster's report is always there (it says a reporter runs here), findings or not.
        self._groups = {CLUSTER_GROUP: _Group("ClusterPolicyReport", "", CLUSTER_REPORT, None, {})}
        self._build({CLUSTER_GROUP} | {self._add(f, snapshot) for f in findings}, at)

    def apply(self, delta: Delta, not_assessable: list[Finding], snapshot: Snapshot, at: datetime) -> None:
        """One batch: its added and removed findings replace theirs, and the rules not assessable
        (they change as the control plane comes into view or goes); their reports are built again."""
        touched = {self._remove(fp) for fp in delta.removed}
        added = delta.added
        if {f.fingerprint: f for f in not_assessable} != self._not_assessable:
            touched |= {self._remove(fp) for fp in list(self._not_assessable)}
            added = [*added, *not_assessable]
        for finding in added:
            touched |= {self._remove(finding.fingerprint), self._add(finding, snapshot)}
        self._build(touched, at)

    def desired(self) -> dict[ReportKey, Desired]:
        """A copy: the writer's thread reads it while the next batch updates the index."""
        return dict(self._desired)

    def _add(self, finding: Finding, snapshot: Snapshot) -> ReportKey | None:
        """File a finding under its report; that report's group (None: a passed check, not reported)."""
        if finding.status is Status.passed:
            return None
        if finding.status is Status.not_assessable:
            self._not_assessable[finding.fingerprint] = finding
        namespace = known(finding.namespace)
        item = snapshot.get(finding.kind, finding.namespace, finding.name) if namespace else None
        if not namespace:
            key, group = CLUSTER_GROUP, self._groups[CLUSTER_GROUP]
        elif item is not None and finding.kind in WORKLOAD_KINDS and item.obj["metadata"].get("uid"):
            name = report_name(f"kspm-{finding.kind.lower()}-{finding.name}")
            key, group = ("PolicyReport", namespace, name), _Group("PolicyReport", namespace, name, item.obj, {})
        else:
            key = ("PolicyReport", namespace, NAMESPACE_REPORT)
            group = _Group("PolicyReport", namespace, NAMESPACE_REPORT, None, {})
        group = self._groups.setdefault(key, group)
        if item is not None and group.workload is not None:
            group.workload = item.obj  # as it is now (deleted and created again: a new uid)
        group.findings[finding.fingerprint] = finding
        self._where[finding.fingerprint] = key
        return key

    def _remove(self, fingerprint: str) -> ReportKey | None:
        """Take a finding out of its report; that report's group (None: it was not filed)."""
        key = self._where.pop(fingerprint, None)
        if key is not None:
            del self._groups[key].findings[fingerprint]
            self._not_assessable.pop(fingerprint, None)
        return key

    def _build(self, keys: set[ReportKey | None], at: datetime) -> None:
        """The bodies of these groups as they are now: an emptied group has none (its reports are
        deleted), except the cluster's."""
        stamp, seconds = at.strftime("%Y-%m-%dT%H:%M:%SZ"), int(at.timestamp())
        for key in keys - {None}:
            for report in self._parts.pop(key, []):
                del self._desired[report]
            group = self._groups.get(key)
            if group is None or (not group.findings and key != CLUSTER_GROUP):
                self._groups.pop(key, None)
                continue
            parts = self._parts[key] = []
            for body in _bodies(group, self.labels, stamp, seconds):
                digest = content_hash(body)
                body["metadata"]["annotations"][CONTENT_HASH] = digest
                report = (body["kind"], group.namespace, body["metadata"]["name"])
                self._desired[report] = Desired(report, body, digest)
                parts.append(report)


def desired_reports(result: ScanResult, snapshot: Snapshot, scanned_at: datetime) -> dict[ReportKey, Desired]:
    """Every report the cluster should hold for this scan, by (kind, namespace, name);
    `scanned_at` stamps the results and the annotation (left out of the content hash)."""
    index = ReportIndex(result.cluster.id)
    index.rebuild(result.findings, snapshot, scanned_at)
    return index.desired()


def _bodies(group: _Group, labels: dict[str, str], stamp: str, seconds: int) -> list[dict[str, Any]]:
    """The group's report, split into parts of at most MAX_BYTES of results when needed."""
    parts: list[list[dict[str, Any]]] = [[]]
    size = 0
    entries = (result_entry(finding, seconds) for finding in group.findings.values())
    for entry in sorted(entries, key=lambda r: (r["policy"], r["properties"]["fingerprint"])):
        entry_size = len(orjson.dumps(entry))
        if parts[-1] and size + entry_size + 1 > _RESULTS_BYTES:
            parts.append([])
            size = 0
        parts[-1].append(entry)
        size += entry_size + 1  # the comma
    bodies = []
    for index, results in enumerate(parts, start=1):
        name = group.name if index == 1 else report_name(f"{group.name}-{index}")
        metadata: dict[str, Any] = {"name": name, "labels": dict(labels), "annotations": {SCANNED_AT: stamp}}
        if group.namespace:
            metadata["namespace"] = group.namespace
        body: dict[str, Any] = {"apiVersion": API_VERSION, "kind": group.kind, "metadata": metadata}
        if group.workload is not None:
            meta = group.workload["metadata"]
            ref = {"apiVersion": group.workload["apiVersion"], "kind": group.workload["kind"],
                   "name": meta["name"], "uid": meta["uid"]}
            metadata["ownerReferences"] = [ref]
            body["scope"] = {**ref, "namespace": group.namespace}
        counts = Counter(r["result"] for r in results)
        body["summary"] = {k: counts.get(k, 0) for k in ("pass", "fail", "warn", "error", "skip")}
        body["results"] = results
        bodies.append(body)
    return bodies

