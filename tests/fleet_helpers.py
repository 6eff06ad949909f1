"""PolicyReports in the shape the in-cluster reporter writes (the shared contract), made from an
offline scan with the project's own result builder, and kubeconfigs for several test servers.

The contract: one PolicyReport per workload (`kspm-<kind>-<name>`, `scope` and an ownerReference
to the workload), one `kspm-namespace` per namespace for findings on other namespaced objects, a
ClusterPolicyReport `kspm-cluster` for cluster-scoped ones; labels `app.kubernetes.io/managed-by:
kspm-tui` and `kspm-tui.io/cluster`, annotation `kspm-tui.io/scanned-at`; each result is
`report/policyreport.py`'s `_result` with the fix's `safety` added to its properties.
"""

from __future__ import annotations

import base64
import socket
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kspm_tui.fleet.reports import WORKLOAD_KINDS
from kspm_tui.model import Status
from kspm_tui.report.policyreport import _result
from kspm_tui.scan import Scanned, run_scan
from kspm_tui.snapshot import known
from kspm_tui.target import ScanSettings, Target
from kspm_tui.wgpolicy import API_VERSION
from tests.apiserver.fixtures import CLUSTER, manifests
from tests.apiserver.server import ApiServer

SCANNED_AT = "2026-12-07T10:00:00Z"
EXCEPTIONS = """\
exceptions:
  - rule: K8S-INGRESS-NO-TLS
    namespace: shop
    reason: TLS ends at the cloud load balancer
    owner: team-web
    expires: 2099-12-31
"""


@dataclass
class Fleet:
    """Three contexts: `reports` (the fixture cluster and the reporter's reports of it), `bare`
    (the same objects, no reports) and `down` (nothing listens there)."""

    kubeconfig: Path
    scanned: Scanned  # the offline scan the reports were made from
    reports: ApiServer
    bare: ApiServer


def make_fleet(serve: Callable[..., ApiServer], tmp_path: Path) -> Fleet:
    exceptions = tmp_path / "exceptions.yaml"
    exceptions.write_text(EXCEPTIONS)
    scanned = run_scan(Target("paths", paths=(str(CLUSTER),)), ScanSettings(exception_files=[exceptions]))
    with_reports = serve([*manifests(), *contract_reports(scanned), other_tool_report()])
    bare = serve()
    config = fleet_kubeconfig(tmp_path / "kubeconfig", {"reports": with_reports, "bare": bare, "down": None}, bare)
    return Fleet(config, scanned, with_reports, bare)


def contract_reports(scanned: Scanned, cluster: str = "uid-reports-cluster",
                     scanned_at: str = SCANNED_AT) -> list[dict[str, Any]]:
    """The reports a reporter would keep for this scan's findings."""
    seconds = int(scanned.result.started.timestamp())
    groups: dict[tuple[str, str | None, str], list[dict[str, Any]]] = defaultdict(list)
    for finding in scanned.result.findings:
        if finding.status is Status.passed:
            continue
        result = _result(finding, seconds)
        if finding.remediation.safety is not None:
            result["properties"]["safety"] = finding.remediation.safety.value
        namespace = finding.name if finding.kind == "Namespace" else known(finding.namespace)
        if finding.kind in WORKLOAD_KINDS and namespace:
            groups[(finding.kind, namespace, finding.name)].append(result)
        elif namespace:
            groups[("Namespace", namespace, "")].append(result)
        else:
            groups[("Cluster", None, "")].append(result)
    labels = {"app.kubernetes.io/managed-by": "kspm-tui", "kspm-tui.io/cluster": cluster}
    reports = []
    for (kind, namespace, name), results in sorted(groups.items(), key=lambda kv: str(kv[0])):
        meta: dict[str, Any] = {"labels": labels, "annotations": {"kspm-tui.io/scanned-at": scanned_at}}
        report: dict[str, Any] = {"apiVersion": API_VERSION, "metadata": meta, "results": results,
                                  "summary": {"fail": sum(r["result"] == "fail" for r in results),
                                              "skip": sum(r["result"] == "skip" for r in results)}}
        if kind == "Cluster":
            report["kind"], meta["name"] = "ClusterPolicyReport", "kspm-cluster"
        elif kind == "Namespace":
            report["kind"], meta["name"], meta["namespace"] = "PolicyReport", "kspm-namespace", namespace
        else:
            item = scanned.snapshot.get(kind, namespace, name)
            obj = item.obj if item is not None else {}
            uid = (obj.get("metadata") or {}).get("uid") or f"uid-{kind}-{name}"
            ref = {"apiVersion": obj.get("apiVersion", "apps/v1"), "kind": kind, "name": name, "uid": uid}
            report["kind"] = "PolicyReport"
            meta.update(name=f"kspm-{kind.lower()}-{name}", namespace=namespace, ownerReferences=[ref])
            report["scope"] = {**ref, "namespace": namespace}
        reports.append(report)
    return reports


def other_tool_report(namespace: str = "shop") -> dict[str, Any]:
    """A Kyverno report in the same cluster: the fleet must not count it."""
    return {"apiVersion": API_VERSION, "kind": "PolicyReport",
            "metadata": {"name": "kyverno-polr", "namespace": namespace,
                         "labels": {"app.kubernetes.io/managed-by": "kyverno"}},
            "results": [{"policy": "require-labels", "rule": "check-team", "result": "fail", "source": "kyverno",
                         "severity": "critical", "message": "label team is required",
                         "resources": [{"kind": "Deployment", "name": "web", "namespace": namespace}]}]}


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released): an unreachable API server."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fleet_kubeconfig(path: Path, servers: dict[str, ApiServer | None], ca: ApiServer) -> Path:
    """One kubeconfig, a context per entry (None: a server address nothing answers on)."""
    ca_data = base64.b64encode(ca.ca_pem).decode()
    config: dict[str, Any] = {"apiVersion": "v1", "kind": "Config", "current-context": next(iter(servers)),
                              "clusters": [], "users": [], "contexts": []}
    for name, server in servers.items():
        url = server.url if server else f"https://127.0.0.1:{closed_port()}"
        config["clusters"].append({"name": f"{name}-cluster", "cluster": {
            "server": url, "certificate-authority-data": base64.b64encode(server.ca_pem).decode() if server
            else ca_data}})
        config["users"].append({"name": f"{name}-user", "user": {"token": server.token if server else "x"}})
        config["contexts"].append({"name": name, "context": {"cluster": f"{name}-cluster", "user": f"{name}-user"}})
    path.write_text(yaml.safe_dump(config))
    return path
