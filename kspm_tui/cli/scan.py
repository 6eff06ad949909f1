"""`kspm-tui scan`: headless scan of manifests, the demo or a cluster."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from kspm_tui import exit_codes
from kspm_tui.atomic_write import atomic_write
from kspm_tui.cli import leave_for_exit, triage
from kspm_tui.cli.common import add_source_arguments, settings_from, severity, target_from, usage_error
from kspm_tui.cli.watch import add_arguments as watch_arguments
from kspm_tui.engine.loader import RuleSet
from kspm_tui.model import ScanResult
from kspm_tui.report import FORMATS, WITH_CONTEXT, render, render_chunks
from kspm_tui.scan import ScanSettings, Target

if TYPE_CHECKING:
    from kspm_tui.report.context import ReportContext
    from kspm_tui.scan import Scanned


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    parser = sub.add_parser(
        name,
        description="Scan and report. Exit 0 when nothing fails at/above --fail-on, 1 when "
                    "something does, 2 on usage or input errors, 3 when nothing could be scanned, 4 when "
                    "a cluster was only partly read (unless --allow-partial).",
        epilog="examples:\n  kspm-tui scan --demo\n  kspm-tui scan k8s/ -o json --output scan.json\n"
               "  helm template ./chart | kspm-tui scan - --fail-on high\n"
               "  kspm-tui scan k8s/ --baseline main.json --exceptions .kspm/exceptions.yaml --fail-on high\n"
               "  kspm-tui scan k8s/ -o sarif --output kspm.sarif      (see docs/ci.md)\n"
               "  kspm-tui scan --demo --framework cis      per-control CIS report with a score\n"
               "  kspm-tui scan --context prod --fail-on high\n  kspm-tui scan --context prod --watch",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_source_arguments(parser)
    parser.add_argument("--framework", metavar="ID",
                        help="only this framework's controls, with a per-control report: cis, pss-baseline, "
                             "pss-restricted, nsa-cisa, mitre, soc2, pci-dss, iso27001, hipaa")
    live = parser.add_argument_group("live clusters")
    live.add_argument("--all-contexts", action="store_true", help="scan every context of the kubeconfig")
    live.add_argument("--allow-partial", action="store_true",
                      help="exit as if complete when part of a cluster could not be read (403s, missing "
                           "APIs, connection lost); by default that exits 4")
    live.add_argument("--watch", action="store_true",
                      help="with --context: keep watching and print finding opened/resolved events "
                           "as JSON lines until interrupted")
    watch_arguments(live)
    out = parser.add_argument_group("output")
    out.add_argument("-o", "--format", default="table", choices=FORMATS, help="output format (default table)")
    out.add_argument("--output", type=Path, metavar="FILE", help="write the report to FILE instead of stdout")
    out.add_argument("--fail-on", type=severity, default=None, metavar="SEVERITY",
                     help="exit 1 if a failing finding is at or above SEVERITY "
                          "(critical|high|medium|low|info|none; default none)")
    triage.add_arguments(parser)


def write_stdout(chunks: Iterable[bytes]) -> None:
    """Bytes to stdout as they come (through the text layer when stdout has no buffer)."""
    buffer = getattr(sys.stdout, "buffer", None)
    sys.stdout.flush()
    for chunk in chunks:
        if buffer is not None:
            buffer.write(chunk)
        else:
            sys.stdout.write(chunk.decode())
    sys.stdout.flush()


def run(args: argparse.Namespace) -> int:
    live = bool(args.context or args.all_contexts)
    if live and (args.paths or args.demo):
        return usage_error("kspm-tui scan", "scan either a cluster (--context/--all-contexts) or PATHs/--demo, not both")
    if args.context and args.all_contexts:
        return usage_error("kspm-tui scan", "--context and --all-contexts exclude each other")
    target = target_from(args)
    if target is None and not args.all_contexts:
        target = _current_context(args)
        if target is None:
            return usage_error("kspm-tui scan", "nothing to scan: give manifest PATHs, - for stdin, --demo, "
                                                "or --context NAME (no kubeconfig has a current context)")
    if args.watch and (target is None or target.kind != "context"):
        return usage_error("kspm-tui scan", "--watch needs a cluster (--context NAME, or the current context)")
    if not args.watch and (args.heartbeat or args.liveness_file):
        return usage_error("kspm-tui scan", "--heartbeat and --liveness-file go with --watch")
    settings, warnings = settings_from(args)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    try:
        baseline = triage.configure(args, settings)
    except ValueError as exc:
        return usage_error("kspm-tui scan", str(exc))
    from kspm_tui.scan import load_ruleset

    ruleset = load_ruleset(settings, parse_cache=args.parse_cache)
    framework = None
    if args.framework:
        from kspm_tui.compliance import select_rules
        from kspm_tui.frameworks import FrameworkError, load_frameworks

        try:
            frameworks = load_frameworks()
        except FrameworkError as exc:
            print(f"kspm-tui scan: cannot read the framework catalog: {exc}", file=sys.stderr)
            return exit_codes.INPUT_ERRORS
        framework = frameworks.get(args.framework.lower())
        if framework is None:
            return usage_error("kspm-tui scan", f"unknown framework {args.framework!r}; choose one of "
                               + ", ".join(sorted(frameworks)))
        ruleset = select_rules(ruleset, framework)
    if args.watch:
        from kspm_tui.cli.watch import watch

        assert target is not None
        return watch(target, settings, ruleset, heartbeat=args.heartbeat, liveness=args.liveness_file)
    keep = None if args.no_history else settings.config.history_keep
    context = None
    if target is None:
        results, unavailable = _scan_contexts(args, settings, ruleset, keep)
        if not results:
            return exit_codes.UNAVAILABLE
    else:
        scanned = _scanned(target, settings, ruleset, keep, keep_graph=args.format == "html")
        if args.format in WITH_CONTEXT:
            context = _report_context(scanned, args, baseline)
        results, unavailable = [scanned.result], 0
        if args.format == "json":  # streamed: no second copy of the findings is made, so the
            leave_for_exit(scanned)  # snapshot can wait for the exit instead of being freed now
        del scanned  # the snapshot and graph are not needed past this point
    leave_for_exit(results)
    if framework is not None:
        from kspm_tui.compliance import compliance_report

        for result in results:
            result.compliance = compliance_report(framework, [r.rule for r in ruleset.rules], result.rule_stats)
    color = args.output is None and sys.stdout.isatty()
    report: Iterable[bytes] = ([_render_all(results, args.format, color).encode()] if args.all_contexts
                               else render_chunks(results[0], args.format, color=color, context=context))
    if args.output:
        try:
            atomic_write(args.output, report)
        except BrokenPipeError:
            raise
        except OSError as exc:
            print(f"kspm-tui scan: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
            return exit_codes.INPUT_ERRORS
        print(f"wrote {args.format} report to {args.output}", file=sys.stderr)
    else:
        write_stdout(report)
    for result in results:
        if args.format != "table":
            for err in result.errors:
                print(err.input_line(), file=sys.stderr)
            for rule_error in result.rule_errors:  # the table lists them; other formats only hold them
                print(rule_error.line(), file=sys.stderr)
        triage.after_scan(args, result, baseline)
    if any(r.errors or r.rule_errors or r.exception_errors for r in results):
        return exit_codes.INPUT_ERRORS
    hidden = sum(triage.gated_hidden(result, args.fail_on) for result in results)
    if hidden:
        print(f"kspm-tui scan: {hidden} findings at or above {args.fail_on} are in system namespaces "
              f"({', '.join(sorted({ns for r in results for ns in r.excluded.namespaces}))}) and count for "
              "--fail-on; --include-system lists them", file=sys.stderr)
    if any(triage.gated(result, args.fail_on, baseline) for result in results) or hidden:
        return exit_codes.FINDINGS
    if unavailable:
        return exit_codes.UNAVAILABLE
    if not args.allow_partial and any(r.cluster.partial or r.coverage for r in results):
        return exit_codes.PARTIAL
    return exit_codes.OK


def _current_context(args: argparse.Namespace) -> Target | None:
    """No PATH, --demo or --context: the kubeconfig's current context, as kubectl would use (said on stderr)."""
    from kspm_tui.sources import SourceUnavailable
    from kspm_tui.target import list_contexts

    try:
        current = next((c for c in list_contexts(args.kubeconfig) if c.current), None)
    except SourceUnavailable:
        return None
    if current is None:
        return None
    print(f"kspm-tui scan: no PATH given: scanning the current context {current.name!r} "
          "(read-only; pass PATHs or --demo to scan manifests)", file=sys.stderr)
    return target_from(args, current_context=True)


def _scanned(target: Target, settings: ScanSettings, ruleset: RuleSet, keep: int | None,
             keep_graph: bool = False) -> Scanned:
    """One target through the scan service, with a progress bar while a cluster is listed."""
    from contextlib import nullcontext

    from kspm_tui.cli.progress import collection_progress
    from kspm_tui.scan import run_scan

    # The bundled demo is read in milliseconds: setting up rich's bar at a terminal would cost
    # more CPU (~0.03 s) than it ever shows.
    bar = nullcontext() if target.kind == "demo" else collection_progress(target.label)
    with bar as progress:
        scanned = run_scan(target, settings, ruleset=ruleset, progress=progress, history_keep=keep,
                           keep_graph=keep_graph)
    for notice in scanned.collected.notices:
        print(f"kspm-tui: warning: {notice}", file=sys.stderr)
    if scanned.history_warning:
        print(f"warning: {scanned.history_warning}", file=sys.stderr)
    return scanned


def _scan(target: Target, settings: ScanSettings, ruleset: RuleSet, keep: int | None) -> ScanResult:
    return _scanned(target, settings, ruleset, keep).result


def _report_context(scanned: Scanned, args: argparse.Namespace, baseline: set[str] | None) -> ReportContext:
    """The baseline for `-o markdown`; for `-o html` also attack paths, fix plans and the target's history."""
    from kspm_tui.report.context import ReportContext, gather
    from kspm_tui.triage.history import target_for

    if args.format != "html":
        return ReportContext(baseline=baseline, baseline_name=str(args.baseline) if args.baseline else "")

    target = scanned.target
    scope = target.label if target.kind != "context" else f"context {target.label}"
    scope += f", namespace {target.namespace}" if target.namespace else ", all namespaces"
    key = scanned.history_target or (target_for(scanned.result, list(target.paths) or None)
                                     if target.saves_history else None)
    context, warnings = gather(scanned.result, scanned.snapshot, scanned.graph().attack_paths(), scope=scope,
                               history_key=key, baseline=baseline, baseline_file=args.baseline)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return context


def _scan_contexts(args: argparse.Namespace, settings: ScanSettings, ruleset: RuleSet, keep: int | None
                   ) -> tuple[list[ScanResult], int]:
    """Every context of the kubeconfig, one after another; one unreachable cluster skips only itself."""
    from dataclasses import replace

    from kspm_tui.sources import SourceUnavailable
    from kspm_tui.target import list_contexts

    base = target_from(args, current_context=True)
    assert base is not None
    results, unavailable = [], 0
    for context in list_contexts(args.kubeconfig):
        try:
            results.append(_scan(replace(base, context=context.name), settings, ruleset, keep))
        except SourceUnavailable as exc:
            unavailable += 1
            print(f"kspm-tui: {exc}", file=sys.stderr)
    return results, unavailable


def _render_all(results: list[ScanResult], fmt: str, color: bool) -> str:
    """Several clusters: tables one after another; JSON as an array of scan documents; other
    formats one document per cluster, concatenated."""
    if fmt == "json":
        from kspm_tui.yamlio import dump_json

        return dump_json([r.model_dump(mode="json") for r in results], indent=True).decode() + "\n"
    return "".join(render(result, fmt, color=color) for result in results)
