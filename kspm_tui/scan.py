"""The scan service: sources → snapshot → engine → ScanResult.

The CLI and the TUI both call this; neither knows whether objects came from files, the demo
or a live cluster.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from kspm_tui import __version__
from kspm_tui.config import Config
from kspm_tui.engine.evaluate import Options, ProgressFn, evaluate_snapshot
from kspm_tui.engine.loader import RuleSet, load_rules
from kspm_tui.exceptions import accept_risks
from kspm_tui.graph.facts import is_cluster_snapshot
from kspm_tui.inventory import build_inventory
from kspm_tui.locations import builtin_dir, user_rules_dir
from kspm_tui.model import ClusterInfo, RuleError, ScanResult, Tool
from kspm_tui.perf import paused_gc
from kspm_tui.results import rule_info, sort_findings, summarize
from kspm_tui.rule_selection import select_rules
from kspm_tui.snapshot import Snapshot
from kspm_tui.sources import Collected


@dataclass(slots=True)
class ScanSettings:
    """What a user chose for one scan (CLI flags, TUI options, config)."""

    rules_dirs: list[Path] = field(default_factory=list)
    include_system: bool = False
    context: str | None = None
    cluster_name: str = "local"
    server: str | None = None
    config: Config = field(default_factory=Config)
    skip: list[str] = field(default_factory=list)  # rule ids/globs (--skip)
    only: list[str] = field(default_factory=list)  # rule ids/globs or categories (--only)
    exception_files: list[Path] = field(default_factory=list)  # --exceptions FILE
    user_exceptions: bool = True  # also read exceptions.yaml from the config dir


def load_ruleset(settings: ScanSettings) -> RuleSet:
    """Built-in rules, then the user's rules directory, then `--rules` (later ids win)."""
    dirs = [builtin_dir("rules"), user_rules_dir(), *settings.rules_dirs]
    ruleset = load_rules(dirs, settings.config.params)
    if not (settings.skip or settings.only):
        return ruleset
    ruleset, problems = select_rules(ruleset, settings.skip, settings.only)
    ruleset.errors += [RuleError(file="command line", message=problem) for problem in problems]
    return ruleset


def scan(collected: Collected, settings: ScanSettings, ruleset: RuleSet | None = None,
         progress: ProgressFn | None = None, cluster_id: str | None = None,
         is_cluster: bool | None = None) -> ScanResult:
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    with paused_gc():
        ruleset = ruleset or load_ruleset(settings)
        cluster_id = cluster_id or collected.cluster_id
        is_cluster = collected.is_cluster if is_cluster is None else is_cluster
        snapshot = Snapshot(collected.objects, cluster_id=cluster_id)
        return evaluate_into_result(snapshot, collected, settings, ruleset, started, t0, progress, is_cluster)


def evaluate_into_result(snapshot: Snapshot, collected: Collected, settings: ScanSettings,
                         ruleset: RuleSet, started: datetime, t0: float,
                         progress: ProgressFn | None = None, is_cluster: bool | None = None) -> ScanResult:
    # Manifests are shown whole (a CNI installing into kube-system is what was asked about);
    # a cluster dump (it holds the kube-system Namespace) reads like the live cluster it was.
    include_system = settings.include_system or (collected.manifests and not is_cluster_snapshot(snapshot))
    options = Options(
        include_system=include_system,
        system_namespaces=tuple(settings.config.system_namespaces),
        context=settings.context,
        cluster_name=settings.cluster_name,
        coverage=collected.coverage,
        is_cluster=is_cluster,
    )
    evaluation = evaluate_snapshot(snapshot, ruleset, options, progress)
    stats = list(evaluation.stats.values())
    severities = {r.id: r.rule.severity for r in ruleset.rules}
    for stat in stats:
        stat.severity = severities[stat.rule]
    findings = sort_findings(evaluation.findings)
    present = set(snapshot.namespaces())  # walks every object: once, not per system namespace
    evaluation.excluded.namespaces = [] if include_system else [
        ns for ns in options.system_namespaces if ns in present
    ]
    result = ScanResult(
        tool=Tool(version=__version__),
        cluster=ClusterInfo(id=snapshot.cluster_id, name=settings.cluster_name, context=settings.context,
                            server=settings.server, partial=collected.partial),
        started=started,
        duration_s=round(time.perf_counter() - t0, 3),
        summary=summarize(findings, stats, severities, objects=len(snapshot), workloads=evaluation.workloads),
        findings=findings,
        errors=collected.errors,
        rule_errors=ruleset.errors + evaluation.rule_errors,
        coverage=collected.coverage,
        rule_stats=stats,
        excluded=evaluation.excluded,
        rules=[rule_info(r.rule) for r in ruleset.rules],
        inventory=build_inventory(snapshot),
    )
    accept_risks(result, settings.exception_files, user_file=settings.user_exceptions)
    return result


def scan_paths(paths: Iterable[str], settings: ScanSettings, **kwargs: object) -> ScanResult:
    from kspm_tui.sources.files import read_paths

    return scan(read_paths(paths), settings, **kwargs)  # type: ignore[arg-type]
