"""The scan service: a `Target` in, a `Scanned` out (sources → snapshot → engine → result).

The CLI builds a Target from its flags, the explorer from its picker; both call `run_scan`
(and `watch_scan.open_watch` for live updates) and never reach into `sources/` themselves, so
the same target gives the same findings, graph and history entry wherever it was scanned from.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kspm_tui import __version__
from kspm_tui.engine.evaluate import Evaluation, Options, TemplateCache, TemplateChecks, evaluate_snapshot
from kspm_tui.engine.loader import RuleSet, load_rules
from kspm_tui.graph.facts import is_cluster_snapshot
from kspm_tui.inventory import build_inventory
from kspm_tui.kinds import CLUSTER_SCOPED, WORKLOAD_KINDS
from kspm_tui.locations import builtin_dir, user_rules_dir
from kspm_tui.model import ClusterInfo, Finding, RuleError, ScanResult, Tool
from kspm_tui.perf import paused_gc
from kspm_tui.results import rule_info, sort_findings, summarize
from kspm_tui.rule_selection import select_rules
from kspm_tui.snapshot import Key, Snapshot, key_of, namespace_of
from kspm_tui.sources import Collected
from kspm_tui.target import Progress, ScanSettings, Step, Target, connect
from kspm_tui.triage.acceptance import accept_risks

if TYPE_CHECKING:
    from kspm_tui.graph.analysis import Analysis
    from kspm_tui.sources.files import FileRead
    from kspm_tui.sources.kubeconfig import Connection
    from kspm_tui.sources.live import LiveCollected


@dataclass(slots=True)
class Scanned:
    """One finished scan: what was read, the snapshot, the judged result, and the engine's graph."""

    target: Target
    collected: Collected
    snapshot: Snapshot
    result: ScanResult
    ruleset: RuleSet
    settings: ScanSettings  # as collection completed them (context, cluster name, server)
    analysis: Analysis | None = None  # the graph the engine built (None until a rule or view needs it)
    finished: datetime = field(default_factory=lambda: datetime.now(UTC))
    history_target: str | None = None  # key of this target's scan history (None: not saved)
    trend: list[int] = field(default_factory=list)  # posture scores of saved scans, oldest first
    history_warning: str = ""

    def graph(self) -> Analysis:
        """The RBAC/exposure/paths graph: the engine's when it built one, else built now (once)."""
        if self.analysis is None:
            from kspm_tui.graph.analysis import Analysis

            self.analysis = Analysis(self.snapshot, system_namespaces=tuple(self.settings.config.system_namespaces),
                                     context=self.result.cluster.context, is_cluster=self.collected.is_cluster)
        return self.analysis


def load_ruleset(settings: ScanSettings, parse_cache: bool = True) -> RuleSet:
    """Built-in rules, then the user's rules directory, then `--rules` (later ids win); their
    YAML read through the parse cache unless `parse_cache` is false (`--no-cache`)."""
    from kspm_tui.sources.parse_cache import ParseCache

    dirs = [builtin_dir("rules"), user_rules_dir(), *settings.rules_dirs]
    cache = ParseCache() if parse_cache else None
    ruleset = load_rules(dirs, settings.config.params, cache.yaml_documents if cache else None)
    if cache is not None:
        cache.trim()
    if not (settings.skip or settings.only):
        return ruleset
    ruleset, problems = select_rules(ruleset, settings.skip, settings.only)
    ruleset.errors += [RuleError(file="command line", message=problem) for problem in problems]
    return ruleset


# -- collecting ----------------------------------------------------------------------------
def collect(target: Target, settings: ScanSettings, progress: Progress | None = None,
            on_file: FileRead | None = None) -> Collected:
    """Read the target; names the cluster in `settings`. Raises SourceUnavailable for a live
    target that cannot be read at all. `on_file` sees each manifest file's objects as it is read."""
    if target.kind == "context":
        connection = connect(target)
        try:
            return collect_live(connection, target, settings, progress).collected
        finally:
            connection.close()
    from kspm_tui.sources.files import DEFAULT_MAX_FILE_SIZE, read_paths
    from kspm_tui.sources.parse_cache import ParseCache

    limit = target.max_file_size or DEFAULT_MAX_FILE_SIZE
    cache = ParseCache() if target.parse_cache else None
    if target.kind == "demo":
        from kspm_tui.sources.demo import read_demo

        settings.cluster_name = "demo"
        collected = read_demo(cache)
        if target.paths:
            collected.extend(read_paths(target.paths, limit, cache))
    else:
        collected = read_paths(target.paths, limit, cache, on_file)
    if target.namespace:
        place_in_namespace(collected, target.namespace)
    return collected


def collect_live(connection: Connection, target: Target, settings: ScanSettings,
                 progress: Progress | None = None) -> LiveCollected:
    """List the cluster once (read-only); the watch starts from the versions this returns."""
    from kspm_tui.sources.live import Collector
    from kspm_tui.sources.live import Progress as LiveProgress

    def collecting(p: LiveProgress) -> None:
        if progress:
            progress(Step("collect", p.kinds_done, p.kinds_total, p.objects))

    settings.context = settings.cluster_name = connection.context.name
    settings.server = connection.server
    live = Collector(connection, progress=collecting, namespace=target.namespace).run()
    if connection.notice:
        live.collected.notices.append(connection.notice)
    return live


def place_in_namespace(collected: Collected, namespace: str) -> None:
    """`-n NS` on manifests: namespaced objects without a namespace go into NS (as `kubectl apply
    -n NS -f` puts them); objects of other namespaces are out of scope."""
    kept = []
    for item in collected.objects:
        obj = item.obj
        if obj.get("kind") in CLUSTER_SCOPED:
            kept.append(item)
            continue
        meta = obj.get("metadata")
        if isinstance(meta, dict) and not meta.get("namespace"):
            meta["namespace"] = namespace
        if namespace_of(obj) == namespace:
            kept.append(item)
    collected.objects = kept


# -- judging -------------------------------------------------------------------------------
def shows_system(settings: ScanSettings, collected: Collected, snapshot: Snapshot) -> bool:
    """Whether system-namespace workloads are listed: manifests are shown whole (a CNI installing
    into kube-system is what was asked about); a cluster dump (it holds the kube-system Namespace)
    reads like the live cluster it was."""
    return settings.include_system or not groups_system(collected, snapshot)


def hidden_namespaces(settings: ScanSettings, collected: Collected, snapshot: Snapshot) -> list[str]:
    """The system namespaces present whose workloads the scan hides (`Excluded.namespaces`)."""
    if shows_system(settings, collected, snapshot):
        return []
    present = set(snapshot.namespaces())  # walks every object: once, not per system namespace
    return [ns for ns in settings.config.system_namespaces if ns in present]


def groups_system(collected: Collected, snapshot: Snapshot) -> bool:
    """Whether system namespaces are a platform group that a scan hides unless asked (a live
    cluster or a dump of one), rather than part of what was given (manifests)."""
    return not (collected.manifests and not is_cluster_snapshot(snapshot))


def options_for(settings: ScanSettings, collected: Collected, snapshot: Snapshot, is_cluster: bool | None = None,
                only: frozenset[Key] | None = None) -> Options:
    """The engine's options for this scan (`only`: the units a watch batch re-evaluates)."""
    return Options(
        include_system=shows_system(settings, collected, snapshot),
        system_namespaces=tuple(settings.config.system_namespaces),
        context=settings.context,
        cluster_name=settings.cluster_name,
        coverage=collected.coverage,
        is_cluster=collected.is_cluster if is_cluster is None else is_cluster,
        only=only,
    )


def result_of(snapshot: Snapshot, evaluation: Evaluation, collected: Collected, settings: ScanSettings,
              ruleset: RuleSet, started: datetime, t0: float) -> ScanResult:
    """The report of one evaluation: sorted findings, stats, summary, accepted risks applied."""
    stats = list(evaluation.stats.values())
    severities = {r.id: r.rule.severity for r in ruleset.rules}
    for stat in stats:
        stat.severity = severities[stat.rule]
    findings = sort_findings(evaluation.findings)
    evaluation.excluded.namespaces = hidden_namespaces(settings, collected, snapshot)
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
    accept_risks(result, settings)
    return result


@dataclass(slots=True)
class _Judged:
    snapshot: Snapshot
    result: ScanResult
    analysis: Analysis | None


def _judge(collected: Collected, settings: ScanSettings, ruleset: RuleSet, started: datetime, t0: float,
           progress: Progress | None = None, cluster_id: str | None = None,
           is_cluster: bool | None = None, keep_graph: bool = True,
           template_cache: TemplateCache | None = None) -> _Judged:
    """Snapshot, engine, report: the one pipeline every scan runs (without `keep_graph` the
    engine's graph is freed before the report is built, lowering a headless scan's peak memory;
    `template_cache`: template checks already run while the files were read)."""
    def evaluated(done: int, total: int) -> None:
        if progress:
            progress(Step("evaluate", done, total))

    with paused_gc():  # millions of new long-lived objects: the cyclic GC would only slow this down
        snapshot = Snapshot(collected.objects, cluster_id=cluster_id or collected.cluster_id)
        options = options_for(settings, collected, snapshot, is_cluster)
        evaluation = evaluate_snapshot(snapshot, ruleset, options, evaluated, template_cache)
        if not keep_graph:
            evaluation.analysis = None
        result = result_of(snapshot, evaluation, collected, settings, ruleset, started, t0)
    return _Judged(snapshot, result, evaluation.analysis)


def scan(collected: Collected, settings: ScanSettings, ruleset: RuleSet | None = None,
         progress: Progress | None = None, cluster_id: str | None = None,
         is_cluster: bool | None = None) -> ScanResult:
    """Judge objects already collected (tests, benchmarks, `rules test`)."""
    started, t0 = datetime.now(UTC), time.perf_counter()
    return _judge(collected, settings, ruleset or load_ruleset(settings), started, t0, progress,
                  cluster_id, is_cluster, keep_graph=False).result


def scan_paths(paths: Iterable[str], settings: ScanSettings, **kwargs: object) -> ScanResult:
    from kspm_tui.sources.files import read_paths

    return scan(read_paths(paths), settings, **kwargs)  # type: ignore[arg-type]


def run_scan(target: Target, settings: ScanSettings, *, ruleset: RuleSet | None = None,
             progress: Progress | None = None, history_keep: int | None = None,
             keep_graph: bool = True, on_partial: PartialFn | None = None) -> Scanned:
    """Collect, judge, and (with `history_keep`) save the scan to its target's history.

    `settings` is not changed: collection names the cluster in a copy kept on the Scanned.
    `keep_graph=False` (a headless report) frees the engine's graph early; `graph()` rebuilds it.
    `on_partial` (manifest files only) is called with each file's provisional findings as the
    file is read, before the whole snapshot is judged; the Scanned is the same with or without it.
    """
    settings = replace(settings)
    started, t0 = datetime.now(UTC), time.perf_counter()
    ruleset = ruleset or load_ruleset(settings)
    if target.kind == "reports":  # findings the in-cluster reporter already judged
        from kspm_tui.fleet.service import scan_reports

        return scan_reports(target, settings, ruleset)
    streamer = _Streamer(target, settings, ruleset, on_partial) \
        if on_partial is not None and target.kind == "paths" else None
    collected = collect(target, settings, progress, streamer.file_read if streamer else None)
    judged = _judge(collected, settings, ruleset, started, t0, progress, keep_graph=keep_graph,
                    template_cache=streamer.checks.cache if streamer else None)
    scanned = Scanned(target, collected, judged.snapshot, judged.result, ruleset, settings, judged.analysis)
    if history_keep is not None and target.saves_history:
        save_history(scanned, history_keep)
    return scanned


@dataclass(frozen=True, slots=True)
class Partial:
    """What one manifest file adds before the whole snapshot is judged: its top-level workloads
    and their findings from the checks that read only the pod template. Provisional: namespace,
    RBAC, network and attack-path rules, cluster-wide findings, accepted risks and the score come
    with the Scanned, which replaces every Partial."""

    files_done: int
    files_total: int
    workloads: list[Key]
    findings: list[Finding]


PartialFn = Callable[[Partial], None]


class _Streamer:
    """Runs the template checks on each file's workloads as it is read (see `Partial`)."""

    def __init__(self, target: Target, settings: ScanSettings, ruleset: RuleSet,
                 on_partial: PartialFn) -> None:
        self.target, self.on_partial = target, on_partial
        system = tuple(settings.config.system_namespaces)
        self.hidden = frozenset(() if settings.include_system else system)
        options = Options(include_system=settings.include_system, system_namespaces=system,
                          context=settings.context, cluster_name=settings.cluster_name)
        self.checks = TemplateChecks(ruleset, options)

    def file_read(self, piece: Collected, done: int, total: int) -> None:
        objects = Collected(objects=list(piece.objects))
        if self.target.namespace:
            place_in_namespace(objects, self.target.namespace)  # as collect() does to the whole
        # A workload whose controller is in another file is judged with it, once every file is read.
        workloads = [w for w in Snapshot(objects.objects).workloads()
                     if w.namespace not in self.hidden and not _owned_elsewhere(w.obj)]
        findings = self.checks.run(workloads)
        self.on_partial(Partial(done, total, [key_of(w.obj) for w in workloads], findings))


def _owned_elsewhere(obj: dict[str, Any]) -> bool:
    """A top-level workload of one file that names a workload controller (found in another file)."""
    refs = obj["metadata"].get("ownerReferences") or ()
    return any(isinstance(ref, dict) and ref.get("kind") in WORKLOAD_KINDS for ref in refs)


def save_history(scanned: Scanned, keep: int) -> None:
    """Add the scan to its target's history (for drift and the score trend); never fatal."""
    from kspm_tui.triage import history

    target = scanned.target
    key = history.target_for(scanned.result, list(target.paths) or None)
    try:
        history.save_result(scanned.result, key, label=target.history_label, keep=keep)
    except OSError as exc:
        scanned.history_warning = f"scan not saved to history: {exc}"
        return
    headers, warnings = history.load_headers(key)
    scanned.history_target = key
    scanned.trend = [score for _, score in history.score_trend(headers)]
    if warnings:
        scanned.history_warning = warnings[0]
