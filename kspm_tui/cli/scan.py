"""`kspm-tui scan`: headless scan of manifests, the demo or a cluster."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kspm_tui import exit_codes
from kspm_tui.cli.common import add_source_arguments, collect, settings_from, severity, usage_error
from kspm_tui.model import ScanResult, Severity, Status
from kspm_tui.store import atomic_write

FORMATS = ("table", "json")


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    parser = sub.add_parser(
        name, help="scan manifests, the demo or a cluster and report findings",
        description="Scan and report. Exit 0 when nothing fails at/above --fail-on, 1 when "
                    "something does, 2 on usage or input errors, 3 when nothing could be scanned.",
        epilog="examples:\n  kspm-tui scan --demo\n  kspm-tui scan k8s/ -o json --output scan.json\n"
               "  helm template ./chart | kspm-tui scan - --fail-on high\n"
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


def fails_gate(result: ScanResult, threshold: Severity | None) -> bool:
    if threshold is None:
        return False
    return any(f.status is Status.fail and f.severity.rank >= threshold.rank for f in result.findings)


def render(result: ScanResult, fmt: str, color: bool) -> str:
    if fmt == "json":
        from kspm_tui.report import json as report_json

        return report_json.render(result)
    from kspm_tui.report import table

    return table.render(result, color=color)


def run(args: argparse.Namespace) -> int:
    if not args.paths and not args.demo:
        return usage_error("kspm-tui scan", "nothing to scan: give manifest PATHs, - for stdin, or --demo")
    settings, warnings = settings_from(args)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
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
    text = render(result, args.format, color)
    if args.output:
        atomic_write(args.output, text.encode())
        print(f"wrote {args.format} report to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    if args.format != "table":
        for err in result.errors:
            print(f"input error: {err.file} document {err.document}: {err.message}", file=sys.stderr)
    if result.errors or result.rule_errors:
        return exit_codes.INPUT_ERRORS
    return exit_codes.FINDINGS if fails_gate(result, args.fail_on) else exit_codes.OK
