"""A cluster's kspm-tui PolicyReports, listed read-only: what the fleet view reads instead of objects.

PolicyReports of all namespaces, then ClusterPolicyReports, each in pages, with the label
selector the in-cluster reporter's reports carry (`app.kubernetes.io/managed-by=kspm-tui`);
reports without that label are dropped here too, in case a server ignores the selector.
"""

from __future__ import annotations

from typing import Any

from kspm_tui.sources.apiclient import ApiError, ApiReader
from kspm_tui.sources.kubeconfig import Connection
from kspm_tui.wgpolicy import API_VERSION, MANAGED_BY, SELECTOR, SOURCE

LISTS = ((f"/apis/{API_VERSION}/policyreports", "PolicyReport"),
         (f"/apis/{API_VERSION}/clusterpolicyreports", "ClusterPolicyReport"))
PAGE_SIZE = 500


def list_reports(connection: Connection) -> list[dict[str, Any]] | None:
    """Every kspm-tui (Cluster)PolicyReport of the cluster, all namespaces; None when the cluster
    serves no PolicyReports at all (the CRDs are not installed: 404). Other API errors raise."""
    reader = ApiReader(connection)
    reports: list[dict[str, Any]] = []
    for path, kind in LISTS:
        token = ""
        while True:
            query: list[tuple[str, Any]] = [("labelSelector", SELECTOR), ("limit", PAGE_SIZE)]
            if token:
                query.append(("continue", token))
            try:
                doc = reader.get_json(path, query)
            except ApiError as exc:
                if exc.status == 404:
                    return None
                raise
            for item in doc.get("items") or [] if isinstance(doc, dict) else []:
                if isinstance(item, dict) and _ours(item):  # a server may ignore the selector
                    reports.append({**item, "apiVersion": API_VERSION, "kind": kind})
            token = ((doc.get("metadata") or {}) if isinstance(doc, dict) else {}).get("continue") or ""
            if not token:
                break
    return reports


def _ours(report: dict[str, Any]) -> bool:
    meta = report.get("metadata")
    labels = meta.get("labels") if isinstance(meta, dict) else None
    return isinstance(labels, dict) and labels.get(MANAGED_BY) == SOURCE
