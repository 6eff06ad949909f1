"""What the explorer scans (the demo, manifest paths, a kube context) and the scan service.

Screens never know where objects came from: they ask `run_scan(target)` in a worker and get
a `Scanned` bundle back (result, snapshot for object lookups, ruleset for explanations).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # the scan stack is imported in the worker, after the first paint
    from kspm_tui.engine.loader import RuleSet
    from kspm_tui.graph.analysis import Analysis
    from kspm_tui.model import ScanResult
    from kspm_tui.scan import ScanSettings
    from kspm_tui.snapshot import Snapshot
    from kspm_tui.sources import Collected

# (stage, done, total): "collect" (kinds listed of a live cluster), "evaluate" (workloads checked).
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class Target:
    kind: Literal["demo", "paths", "context"]
    paths: tuple[str, ...] = ()
    context: str | None = None

    @property
    def label(self) -> str:
        if self.kind == "demo":
            return "demo"
        if self.kind == "context":
            return self.context or "current context"
        return ", ".join(self.paths) if len(self.paths) < 3 else f"{self.paths[0]} (+{len(self.paths) - 1})"


@dataclass(slots=True)
class Scanned:
    """One finished scan, with what the screens need to explain and diff findings."""

    target: Target
    result: ScanResult
    snapshot: Snapshot
    ruleset: RuleSet
    finished: datetime = field(default_factory=lambda: datetime.now(UTC))
    history_target: str | None = None  # key of this target's scan history (None: not saved)
    trend: list[int] = field(default_factory=list)  # posture scores of saved scans, oldest first
    history_warning: str = ""
    analysis: Analysis | None = None  # the RBAC/exposure/paths graph, built on first use


class ScanFailed(Exception):
    """A scan that could not run at all; the message is one sentence for the user."""


def collect(target: Target, settings: ScanSettings, progress: Progress | None = None) -> Collected:
    if target.kind == "demo":
        from kspm_tui.sources.demo import read_demo

        settings.cluster_name = "demo"  # as `kspm-tui scan --demo` names it
        return read_demo()
    if target.kind == "paths":
        from kspm_tui.sources.files import read_paths

        settings.cluster_name = target.label
        collected = read_paths(target.paths)
        if not collected.objects and collected.errors:
            raise ScanFailed(f"nothing readable in {target.label}: {collected.errors[0].message}")
        return collected
    return collect_live_context(target.context, settings, progress)


def collect_live_context(context: str | None, settings: ScanSettings, progress: Progress | None) -> Collected:
    """Read-only live collection of one kube context; problems become ScanFailed sentences."""
    from kspm_tui.sources import SourceUnavailable
    from kspm_tui.sources.kubeconfig import connect
    from kspm_tui.sources.live import Collector
    from kspm_tui.sources.live import Progress as LiveProgress

    def collecting(p: LiveProgress) -> None:
        if progress:
            progress("collect", p.kinds_done, p.kinds_total)

    try:
        connection = connect(context)
    except SourceUnavailable as exc:
        raise ScanFailed(str(exc)) from None
    settings.context = settings.cluster_name = connection.context.name
    settings.server = connection.server
    try:
        return Collector(connection, progress=collecting).run().collected
    except SourceUnavailable as exc:
        raise ScanFailed(str(exc)) from None
    finally:
        connection.close()


def run_scan(target: Target, settings: ScanSettings, progress: Progress | None = None,
             ruleset: RuleSet | None = None) -> Scanned:
    """Collect, build the snapshot, evaluate. Runs in a worker thread."""
    from kspm_tui.perf import paused_gc
    from kspm_tui.scan import evaluate_into_result, load_ruleset
    from kspm_tui.snapshot import Snapshot

    settings = replace(settings)  # collection names the context/cluster: never leak into the next scan
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    ruleset = ruleset or load_ruleset(settings)
    collected = collect(target, settings, progress)

    def evaluated(done: int, total: int) -> None:
        if progress:
            progress("evaluate", done, total)

    with paused_gc():  # millions of new long-lived objects: the cyclic GC would only slow this down
        snapshot = Snapshot(collected.objects, cluster_id=collected.cluster_id)
        result = evaluate_into_result(snapshot, collected, settings, ruleset, started, t0, evaluated,
                                      collected.is_cluster)
    return Scanned(target, result, snapshot, ruleset)


def build_analysis(scanned: Scanned, system_namespaces: tuple[str, ...]) -> Analysis:
    """The graph for the RBAC and attack-path views (slow on big clusters: call it in a worker)."""
    from kspm_tui.graph.analysis import Analysis

    if scanned.analysis is None:
        result = scanned.result
        analysis = Analysis(scanned.snapshot, system_namespaces=system_namespaces, context=result.cluster.context)
        analysis.rbac  # noqa: B018 - build now, in the worker, not on first access in the UI
        analysis.path_graph  # noqa: B018
        scanned.analysis = analysis
    return scanned.analysis


def save_history(scanned: Scanned, keep: int) -> None:
    """Add the scan to its target's history (for drift and the score trend); never fatal."""
    from kspm_tui.triage import history

    target = scanned.target
    key = history.target_for(scanned.result, list(target.paths) if target.kind == "paths" else None)
    record = history.ScanRecord.of(scanned.result, key, label=target.label if target.kind == "paths" else "")
    try:
        history.save(record, keep=keep)
    except OSError as exc:
        scanned.history_warning = f"scan not saved to history: {exc}"
        return
    headers, warnings = history.load_headers(key)
    scanned.history_target = key
    scanned.trend = [score for _, score in history.score_trend(headers)]
    if warnings:
        scanned.history_warning = warnings[0]
