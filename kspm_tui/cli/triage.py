"""Scan flags for triage: rule selection, exceptions, baseline, history — and the CI gate.

Kept apart from `cli/scan.py` so that file stays about sources and output.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kspm_tui.model import Finding, ScanResult, Severity, Status
from kspm_tui.rule_selection import split_patterns
from kspm_tui.target import ScanSettings


def add_selection_arguments(group: argparse._ActionsContainer) -> None:
    """--skip, --only and --exceptions: shared by `scan` and `exceptions`."""
    group.add_argument("--skip", action="append", default=[], metavar="RULE[,RULE]",
                       help="do not run these rules (ids or globs such as K8S-HOST-*; repeatable)")
    group.add_argument("--only", action="append", default=[], metavar="RULE|CATEGORY",
                       help='run only these rules or categories (e.g. K8S-PRIVILEGED, "Pod Security")')
    group.add_argument("--exceptions", action="append", type=Path, default=[], metavar="FILE",
                       help="accepted risks (YAML, see docs/ci.md); added to the config dir's exceptions.yaml")
    group.add_argument("--no-annotation-exceptions", action="store_true",
                       help="ignore kspm-tui.io/accept annotations (objects waiving their own findings); "
                            "for CI gates")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("rules, exceptions and baselines")
    add_selection_arguments(group)
    group.add_argument("--baseline", type=Path, metavar="FILE",
                       help="a previous JSON report: --fail-on counts only findings not in it")
    group.add_argument("--no-history", action="store_true",
                       help="do not save this scan in the history used by `kspm-tui diff`")


def apply_selection(args: argparse.Namespace, settings: ScanSettings) -> None:
    settings.skip = split_patterns(args.skip)
    settings.only = split_patterns(args.only)
    settings.exception_files = list(args.exceptions)
    if args.no_annotation_exceptions:
        settings.config.annotation_exceptions = settings.config.annotation_exceptions.model_copy(
            update={"enabled": False})


def configure(args: argparse.Namespace, settings: ScanSettings) -> set[str] | None:
    """Put the flags into `settings`; return the baseline fingerprints (None without --baseline).

    Raises ValueError with a one-line message for an unusable baseline.
    """
    apply_selection(args, settings)
    if args.baseline is None:
        return None
    from kspm_tui.triage.baseline import load_baseline

    return load_baseline(args.baseline)


def gated(result: ScanResult, threshold: Severity | None, baseline: set[str] | None) -> list[Finding]:
    """Failing findings at/above `threshold` that count for the exit code (accepted never do)."""
    if threshold is None:
        return []
    return [f for f in result.findings if f.status is Status.fail and f.severity.rank >= threshold.rank
            and (baseline is None or f.fingerprint not in baseline)]


def gated_hidden(result: ScanResult, threshold: Severity | None) -> int:
    """Findings at/above `threshold` in system namespaces a live scan left out of the list:
    never silently out of --fail-on (they have no fingerprint, so a baseline cannot cover them)."""
    if threshold is None:
        return 0
    return sum(n for sev, n in result.excluded.by_severity.items() if Severity(sev).rank >= threshold.rank)


def after_scan(args: argparse.Namespace, result: ScanResult, baseline: set[str] | None) -> None:
    """Tell the user about exception problems and the baseline (the service saved the history)."""
    if args.format != "table":  # the table shows them itself
        for err in result.exception_errors:
            print(err.exceptions_line(), file=sys.stderr)
    if baseline is not None:
        from kspm_tui.triage.baseline import new_findings

        fresh = new_findings(result, baseline)
        print(f"baseline {args.baseline}: {len(fresh)} new failing findings", file=sys.stderr)
