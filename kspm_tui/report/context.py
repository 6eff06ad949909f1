"""What the human reports (HTML, Markdown) show beyond the ScanResult: attack paths, fix plans,
the target's saved history and the baseline.

The front end that ran the scan holds the snapshot, the graph and the history key; it gathers
these once (`gather`) and passes them to the writer, so a writer never reads global state and a
report rendered from a JSON result alone still works (with those parts left out).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from kspm_tui.fixes.plan import Plan, plan_for
from kspm_tui.graph.paths import AttackPath
from kspm_tui.model import Finding, Safety, ScanResult, Status
from kspm_tui.results import SEVERITY_WEIGHT
from kspm_tui.snapshot import Snapshot
from kspm_tui.triage import history
from kspm_tui.triage.drift import Drift, diff

TOP_PLANS = 5


@dataclass(slots=True)
class ReportContext:
    scope: str = ""  # what was scanned, for the cover: paths, or context and namespace
    paths: list[AttackPath] = field(default_factory=list)  # the graph's paths from the internet, worst first
    plans: list[Plan] = field(default_factory=list)  # the most valuable fix plans, best first
    history: list[history.ScanHeader] = field(default_factory=list)  # earlier scans of the target, oldest first
    drift: Drift | None = None  # since the previous scan of the target
    baseline: set[str] | None = None  # fingerprints known in --baseline
    baseline_name: str = ""


def top_plans(findings: list[Finding], snapshot: Snapshot, context: str | None, limit: int = TOP_PLANS) -> list[Plan]:
    """The plans that close the most weight of failing findings with `safe` fixes: only the
    best `limit` objects are planned (a plan validates its patch, too costly for every object)."""
    fixable: dict[tuple[str, str | None, str], int] = defaultdict(int)
    failing: dict[tuple[str, str | None, str], list[Finding]] = defaultdict(list)
    for f in findings:
        if f.status is not Status.fail:
            continue
        key = (f.kind, f.namespace, f.name)
        failing[key].append(f)
        if f.remediation.patch is not None and f.remediation.safety is Safety.safe:
            fixable[key] += SEVERITY_WEIGHT[f.severity] + 1
    ranked = sorted(fixable, key=lambda k: (-fixable[k], k[1] or "", k[0], k[2]))
    chosen = []
    for key in ranked:
        plan = plan_for(key, failing[key], snapshot, context)
        if plan.kubectl:
            chosen.append(plan)
        if len(chosen) == limit:
            break
    return chosen


def target_history(result: ScanResult, key: str) -> tuple[list[history.ScanHeader], Drift | None, list[str]]:
    """The target's scans before this one (oldest first), the drift since the newest of them,
    and a warning per unreadable record. Works whether or not this scan was saved."""
    headers, warnings = history.load_headers(key)
    earlier = [h for h in headers if h.started < result.started]
    drift = None
    for path in reversed(history.record_files(key)):
        try:
            record = history.read_record(path)
        except ValueError as exc:
            warnings.append(f"history file {path} skipped: {exc}")
            continue
        if record.started < result.started:
            drift = diff(record, history.ScanRecord.of(result, key))
            break
    return earlier, drift, warnings


def gather(result: ScanResult, snapshot: Snapshot, paths: list[AttackPath], *, scope: str,
           history_key: str | None, baseline: set[str] | None = None,
           baseline_file: Path | None = None) -> tuple[ReportContext, list[str]]:
    """Everything a human report adds to the result, and warnings to show the user."""
    earlier, drift, warnings = target_history(result, history_key) if history_key else ([], None, [])
    return ReportContext(
        scope=scope, paths=paths, plans=top_plans(result.findings, snapshot, result.cluster.context),
        history=earlier, drift=drift, baseline=baseline,
        baseline_name=str(baseline_file) if baseline_file else "",
    ), warnings
