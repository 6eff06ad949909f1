"""`kspm-tui scan`: headless scan of manifests, the demo or a cluster."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kspm_tui import exit_codes
from kspm_tui.cli import triage
from kspm_tui.cli.common import add_source_arguments, collect, settings_from, severity, usage_error
from kspm_tui.report import FORMATS, render
from kspm_tui.store import atomic_write


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    parser = sub.add_parser(
        name, help="scan manifests, the demo or a cluster and report findings",
        description="Scan and report. Exit 0 when nothing fails at/above --fail-on, 1 when "
                    "something does, 2 on usage or input errors, 3 when nothing could be scanned.",
        epilog="examples:\n  kspm-tui scan --demo\n  kspm-tui scan k8s/ -o json --output scan.json\n"
               "  helm template ./chart | kspm-tui scan - --fail-on high\n"
               "  kspm-tui scan k8s/ --baseline main.json --exceptions .kspm/exceptions.yaml --fail-on high\n"
               "  kspm-tui scan k8s/ -o sarif --output kspm.sarif      (see docs/ci.md)\n"
               "  kspm-tui scan --demo --framework cis      per-control CIS report with a score",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_source_arguments(parser)
    parser.add_argument("--framework", metavar="ID",
                        help="only this framework's controls, with a per-control report: cis, pss-baseline, "
                             "pss-restricted, nsa-cisa, mitre, soc2, pci-dss, iso27001, hipaa")
    out = parser.add_argument_group("output")
    out.add_argument("-o", "--format", default="table", choices=FORMATS, help="output format (default table)")
    out.add_argument("--output", type=Path, metavar="FILE", help="write the report to FILE instead of stdout")
    out.add_argument("--fail-on", type=severity, default=None, metavar="SEVERITY",
                     help="exit 1 if a failing finding is at or above SEVERITY "
                          "(critical|high|medium|low|info|none; default none)")
    triage.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    if not args.paths and not args.demo:
        return usage_error("kspm-tui scan", "nothing to scan: give manifest PATHs, - for stdin, or --demo")
    settings, warnings = settings_from(args)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    try:
        baseline = triage.configure(args, settings)
    except ValueError as exc:
        return usage_error("kspm-tui scan", str(exc))
    from kspm_tui.scan import load_ruleset, scan

    ruleset = load_ruleset(settings)
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
    result = scan(collect(args, settings), settings, ruleset=ruleset)
    if framework is not None:
        from kspm_tui.compliance import compliance_report

        result.compliance = compliance_report(framework, [r.rule for r in ruleset.rules], result.rule_stats)
    color = args.output is None and sys.stdout.isatty()
    text = render(result, args.format, color=color)
    if args.output:
        atomic_write(args.output, text.encode())
        print(f"wrote {args.format} report to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    if args.format != "table":
        for err in result.errors:
            print(f"input error: {err.file} document {err.document}: {err.message}", file=sys.stderr)
    triage.after_scan(args, result, baseline, settings.config.history_keep)
    if result.errors or result.rule_errors or result.exception_errors:
        return exit_codes.INPUT_ERRORS
    return exit_codes.FINDINGS if triage.gated(result, args.fail_on, baseline) else exit_codes.OK
