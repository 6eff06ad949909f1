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
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from kspm_tui.kinds import WORKLOAD_KINDS
from kspm_tui.model import ScanResult, Status

# One result shape for `-o policyreport` and the reporter (the fleet view reads both).
from kspm_tui.report.policyreport import _result as result_entry
from kspm_tui.snapshot import Snapshot, known
from kspm_tui.wgpolicy import API_VERSION, CLUSTER_LABEL, CONTENT_HASH, MANAGED_BY, SCANNED_AT, SOURCE

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
    results: list[dict[str, Any]]


def desired_reports(result: ScanResult, snapshot: Snapshot, scanned_at: datetime) -> dict[ReportKey, Desired]:
    """Every report the cluster should hold for this scan, by (kind, namespace, name);
    `scanned_at` stamps the results and the annotation (left out of the content hash)."""
    seconds = int(scanned_at.timestamp())
    groups: dict[ReportKey, _Group] = {}
    cluster_key = ("ClusterPolicyReport", "", CLUSTER_REPORT)
    groups[cluster_key] = _Group("ClusterPolicyReport", "", CLUSTER_REPORT, None, [])
    for finding in result.findings:
        if finding.status is Status.passed:
            continue
        namespace = known(finding.namespace)
        item = snapshot.get(finding.kind, finding.namespace, finding.name) if namespace else None
        if not namespace:
            key = cluster_key
        elif item is not None and finding.kind in WORKLOAD_KINDS and (item.obj["metadata"].get("uid")):
            name = report_name(f"kspm-{finding.kind.lower()}-{finding.name}")
            key = ("PolicyReport", namespace, name)
            if key not in groups:
                groups[key] = _Group("PolicyReport", namespace, name, item.obj, [])
        else:
            key = ("PolicyReport", namespace, NAMESPACE_REPORT)
            if key not in groups:
                groups[key] = _Group("PolicyReport", namespace, NAMESPACE_REPORT, None, [])
        groups[key].results.append(result_entry(finding, seconds))
    labels = {MANAGED_BY: SOURCE, CLUSTER_LABEL: cluster_label(result.cluster.id)}
    stamp = scanned_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    out: dict[ReportKey, Desired] = {}
    for group in groups.values():
        for body in _bodies(group, labels, stamp):
            digest = content_hash(body)
            body["metadata"]["annotations"][CONTENT_HASH] = digest
            key = (body["kind"], group.namespace, body["metadata"]["name"])
            out[key] = Desired(key, body, digest)
    return out


def _bodies(group: _Group, labels: dict[str, str], stamp: str) -> list[dict[str, Any]]:
    """The group's report, split into parts of at most MAX_BYTES of results when needed."""
    parts: list[list[dict[str, Any]]] = [[]]
    size = 0
    for entry in sorted(group.results, key=lambda r: (r["policy"], r["properties"]["fingerprint"])):
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

