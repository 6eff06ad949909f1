"""`--format policyreport`: wgpolicyk8s.io/v1alpha2 PolicyReport / ClusterPolicyReport.

The shape Kyverno writes and the Policy Reporter UI reads: one PolicyReport per namespace
with findings, one ClusterPolicyReport for cluster-scoped findings, as a YAML stream ready for
`kubectl apply -f -`. Each result is one finding: policy and rule are the rule id, `fail` for
failing, `skip` for accepted (who/why/until in `properties`), `error` for not assessable.
Only failures are reported per resource (the scanner does not keep a pass record per object),
so `summary.pass` is 0. Reports are made and written one at a time (`chunks`): never all of
them, nor all their results, at once.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

from kspm_tui.model import Finding, ScanResult, Status
from kspm_tui.snapshot import known
from kspm_tui.wgpolicy import API_VERSION, CLUSTER_LABEL, MANAGED_BY, SOURCE
from kspm_tui.yamlio import dump_yaml

REPORT_NAME = "kspm-tui"
RESULT = {Status.fail: "fail", Status.accepted: "skip", Status.not_assessable: "error",
          Status.passed: "pass"}


def _properties(finding: Finding) -> dict[str, str]:
    props = {"fingerprint": finding.fingerprint}
    if finding.container:
        props["container"] = finding.container
    if finding.frameworks:
        props["frameworks"] = ",".join(finding.frameworks)
    if finding.remediation.kubectl:
        props["kubectl"] = finding.remediation.kubectl
    if finding.remediation.safety is not None:
        props["safety"] = finding.remediation.safety.value
    if finding.source.file:
        props["file"] = finding.source.file + (f":{finding.source.line}" if finding.source.line else "")
    if finding.acceptance:
        acc = finding.acceptance
        prefix = "exceptionExpired" if acc.expired else "accepted"
        props[f"{prefix}Reason"] = acc.reason
        if acc.owner:
            props[f"{prefix}By"] = acc.owner
        if acc.expires:
            props[f"{prefix}Until"] = acc.expires.isoformat()
    return props


def _result(finding: Finding, seconds: int) -> dict[str, Any]:
    resource = {"kind": finding.kind, "name": finding.name}
    if known(finding.namespace):
        resource["namespace"] = finding.namespace
    return {
        "policy": finding.rule,
        "rule": finding.rule,
        "category": finding.category.value,
        "severity": finding.severity.value,
        "result": RESULT[finding.status],
        "scored": True,
        "source": SOURCE,
        "message": finding.message,
        "timestamp": {"seconds": seconds, "nanos": 0},
        "resources": [resource] if finding.kind != "Cluster" else [],
        "properties": _properties(finding),
    }


def _report(kind: str, namespace: str | None, results: list[dict[str, Any]], cluster: str) -> dict[str, Any]:
    counts = Counter(r["result"] for r in results)
    metadata: dict[str, Any] = {
        "name": REPORT_NAME if namespace else f"{REPORT_NAME}-cluster",
        "labels": {MANAGED_BY: SOURCE, CLUSTER_LABEL: cluster[:63]},
    }
    if namespace:
        metadata["namespace"] = namespace
    return {
        "apiVersion": API_VERSION,
        "kind": kind,
        "metadata": metadata,
        "summary": {k: counts.get(k, 0) for k in ("pass", "fail", "warn", "error", "skip")},
        "results": results,
    }


def reports(result: ScanResult) -> Iterator[dict[str, Any]]:
    """One PolicyReport per namespace with findings, then the ClusterPolicyReport, made as they
    are asked for (findings are grouped first; each report's results only when it is made)."""
    seconds = int(result.started.timestamp())
    by_namespace: dict[str | None, list[Finding]] = defaultdict(list)
    for finding in result.findings:
        if finding.status is not Status.passed:
            by_namespace[known(finding.namespace)].append(finding)
    cluster = "".join(c if c.isalnum() or c in "-_." else "-" for c in result.cluster.id)
    for ns, findings in sorted(by_namespace.items(), key=lambda kv: kv[0] or ""):
        if ns:
            yield _report("PolicyReport", ns, [_result(f, seconds) for f in findings], cluster)
    yield _report("ClusterPolicyReport", None, [_result(f, seconds) for f in by_namespace.get(None, [])], cluster)


def build(result: ScanResult) -> list[dict[str, Any]]:
    return list(reports(result))


def chunks(result: ScanResult) -> Iterator[bytes]:
    """The YAML stream, one report at a time."""
    for report in reports(result):
        yield ("---\n" + dump_yaml(report)).encode()


def render(result: ScanResult) -> str:
    return b"".join(chunks(result)).decode()
