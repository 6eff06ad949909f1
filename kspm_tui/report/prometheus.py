"""`--format prometheus`: the scan as Prometheus gauges, in the text exposition format that the
node-exporter textfile collector reads (`--output /var/lib/node_exporter/textfile/kspm.prom`).

The metric names and labels are defined here once: the in-cluster reporter's `/metrics` imports
them, so a dashboard or alert works on either (`kspm_findings`, `kspm_score`, ...). Written by
the maintained client library (`prometheus_client`), which escapes label values per the
format; names from clusters and files pass the one sanitiser first (no control characters).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import CollectorRegistry

from kspm_tui.model import ScanResult, Severity, Status
from kspm_tui.textsafe import visible

FINDINGS = "kspm_findings"
FINDINGS_BY_SEVERITY = "kspm_findings_by_severity"
ACCEPTED = "kspm_findings_accepted"
SCORE = "kspm_score"
SCAN_TIMESTAMP = "kspm_scan_timestamp_seconds"
SCAN_DURATION = "kspm_scan_duration_seconds"
NOT_ASSESSABLE = "kspm_rules_not_assessable"
WORKLOADS = "kspm_workloads"

# name → (help, label names); every metric carries `cluster` so one Prometheus holds a fleet.
METRICS: dict[str, tuple[str, tuple[str, ...]]] = {
    FINDINGS: ("Failing findings (not accepted) by severity, namespace and rule.",
               ("cluster", "severity", "namespace", "rule")),
    FINDINGS_BY_SEVERITY: ("Failing findings by severity (every severity, zeros included, for alerts).",
                           ("cluster", "severity")),
    ACCEPTED: ("Findings accepted as risks (exceptions), by severity, namespace and rule.",
               ("cluster", "severity", "namespace", "rule")),
    SCORE: ("Posture score, 0-100 (weighted pass rate, capped while a critical or high finding is open).",
            ("cluster",)),
    SCAN_TIMESTAMP: ("When the scan started, in seconds since the Unix epoch.", ("cluster",)),
    SCAN_DURATION: ("How long the scan took, in seconds.", ("cluster",)),
    NOT_ASSESSABLE: ("Rules that could not be assessed (data not readable).", ("cluster",)),
    WORKLOADS: ("Workloads scanned.", ("cluster",)),
}


def gauge(name: str) -> GaugeMetricFamily:
    """An empty family of one of METRICS, with its help and labels."""
    help_text, labels = METRICS[name]
    return GaugeMetricFamily(name, help_text, labels=list(labels))


def _label(value: str | None) -> str:
    return visible(value or "")


def families(result: ScanResult) -> list[GaugeMetricFamily]:
    """Every metric of one scan (a cluster-scoped finding has namespace "")."""
    cluster = _label(result.cluster.name)
    failing: Counter[tuple[str, str, str]] = Counter()
    accepted: Counter[tuple[str, str, str]] = Counter()
    for f in result.findings:
        namespace = f.name if f.kind == "Namespace" else f.namespace  # a namespace's own findings are its
        key = (f.severity.value, _label(namespace), _label(f.rule))
        if f.status is Status.fail:
            failing[key] += 1
        elif f.status is Status.accepted:
            accepted[key] += 1
    found = {name: gauge(name) for name in METRICS}
    for counts, name in ((failing, FINDINGS), (accepted, ACCEPTED)):
        for (severity, namespace, rule), n in sorted(counts.items(), key=lambda kv: (-Severity(kv[0][0]).rank,
                                                                                      kv[0][1:])):
            found[name].add_metric([cluster, severity, namespace, rule], n)
    for severity in Severity:
        found[FINDINGS_BY_SEVERITY].add_metric([cluster, severity.value],
                                               result.summary.by_severity.get(severity.value, 0))
    summary = result.summary
    found[SCORE].add_metric([cluster], summary.score)
    found[SCAN_TIMESTAMP].add_metric([cluster], result.started.timestamp())
    found[SCAN_DURATION].add_metric([cluster], result.duration_s)
    found[NOT_ASSESSABLE].add_metric([cluster], sum(s.not_assessable for s in result.rule_stats))
    found[WORKLOADS].add_metric([cluster], summary.workloads)
    return list(found.values())


class _Scan:
    """A collector over one finished scan (the library's registry asks collectors for metrics)."""

    def __init__(self, result: ScanResult) -> None:
        self.result = result

    def collect(self) -> Iterator[Metric]:
        yield from families(self.result)

    def describe(self) -> list[Metric]:
        return []


def render(result: ScanResult) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Scan(result))
    return generate_latest(registry).decode()
