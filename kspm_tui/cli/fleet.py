"""`kspm-tui fleet`: every cluster's posture from the PolicyReports of its in-cluster reporter."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kspm_tui import exit_codes
from kspm_tui.cli.common import request_timeout, settings_from, severity
from kspm_tui.model import Severity, Status


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    parser = sub.add_parser(
        name, help="posture of every cluster, read from its in-cluster reporter's PolicyReports",
        description="Read each context's kspm-tui PolicyReports (one list per context, concurrently, read-only) "
                    "and show per cluster: score, failing findings by severity, top rules and how fresh the "
                    "reports are. Exit 0 when every context was read, 1 when a finding at/above --fail-on "
                    "is failing in any cluster, 2 when a report held unreadable results, 3 when no context could be "
                    "read, 4 when some could not.",
        epilog="examples:\n  kspm-tui fleet\n  kspm-tui fleet --context prod-eu --context prod-us -o json\n"
               "  kspm-tui fleet --fail-on critical --request-timeout 5s",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--context", action="append", default=[], metavar="NAME",
                        help="read this context (repeatable; default: every context of the kubeconfig)")
    parser.add_argument("--kubeconfig", metavar="FILE",
                        help="kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)")
    parser.add_argument("--request-timeout", type=request_timeout, metavar="DURATION", default=None,
                        help="give up on a context's API request after DURATION (10, 10s, 1m, 500ms)")
    parser.add_argument("--rules", action="append", type=Path, default=[], metavar="DIR",
                        help="extra rule directory (titles and guidance for custom rules' results)")
    parser.add_argument("-o", "--format", choices=("table", "json"), default="table",
                        help="output format (default table)")
    parser.add_argument("--fail-on", type=severity, default=None, metavar="SEVERITY",
                        help="exit 1 if a failing finding at or above SEVERITY is in any cluster's reports")


def run(args: argparse.Namespace) -> int:
    from kspm_tui.fleet.service import read_fleet
    from kspm_tui.scan import load_ruleset
    from kspm_tui.target import Target, list_contexts

    contexts = args.context or [c.name for c in list_contexts(args.kubeconfig)]
    if not contexts:
        print("kspm-tui fleet: the kubeconfig has no contexts: add one (`kubectl config set-context`)",
              file=sys.stderr)
        return exit_codes.UNAVAILABLE
    settings, warnings = settings_from(args)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    ruleset = load_ruleset(settings)
    targets = [Target("context", context=name, kubeconfig=args.kubeconfig, request_timeout=args.request_timeout)
               for name in contexts]
    rows = read_fleet(targets, ruleset)
    for row in rows:
        if not row.readable:
            print(f"kspm-tui: {row.reason}", file=sys.stderr)
        for error in row.rebuilt.result.errors if row.rebuilt else []:
            print(f"kspm-tui: context {row.context!r}: {error.file} result {error.document}: {error.message}",
                  file=sys.stderr)
    now = datetime.now(UTC)
    if args.format == "json":
        from kspm_tui.yamlio import dump_json

        sys.stdout.write(dump_json([entry(row, now) for row in rows], indent=True).decode() + "\n")
    else:
        from kspm_tui.safe_console import SafeConsole

        SafeConsole(highlight=False).print(table(rows, now))
    if any(row.rebuilt.result.errors for row in rows if row.rebuilt):
        return exit_codes.INPUT_ERRORS  # as a scan with unreadable input: said above, the rest still shown
    if args.fail_on is not None and any(_gated(row.findings, args.fail_on) for row in rows):
        return exit_codes.FINDINGS
    readable = sum(row.readable for row in rows)
    if not readable:
        return exit_codes.UNAVAILABLE
    return exit_codes.PARTIAL if readable < len(rows) else exit_codes.OK


def _gated(findings: list[Any], threshold: Severity) -> bool:
    return any(f.status is Status.fail and f.severity.rank >= threshold.rank for f in findings)


def entry(row: Any, now: datetime) -> dict[str, Any]:
    """One cluster in `-o json` (stable keys; absent values are null)."""
    result = row.rebuilt.result if row.rebuilt else None
    summary = result.summary if result else None
    return {
        "context": row.context,
        "server": row.server,
        "cluster": result.cluster.id if result else None,
        "status": row.status,
        "reason": row.reason,
        "score": row.score,
        "score_cap": summary.score_cap.model_dump() if summary and summary.score_cap else None,
        "by_severity": {s.value: row.by_severity.get(s.value, 0) for s in Severity} if result else None,
        "accepted": summary.by_status.get(Status.accepted.value, 0) if summary else None,
        "top_rules": [{"rule": rule, "severity": sev.value, "failing": n} for rule, sev, n in row.top_rules()],
        "scanned_at": row.scanned_at.isoformat().replace("+00:00", "Z") if row.scanned_at else None,
        "age_seconds": int((now - row.scanned_at).total_seconds()) if row.scanned_at else None,
        "reports": row.rebuilt.reports if row.rebuilt else 0,
        "workloads": summary.workloads if summary else None,
        "errors": [e.model_dump() for e in result.errors] if result else [],
    }


def table(rows: list[Any], now: datetime) -> Any:
    """The fleet as kubectl-style columns; a row that could not be read says why in NOTE."""
    from rich.table import Table

    from kspm_tui.fleet.posture import age

    out = Table(show_edge=False, box=None)
    for col in ("context", "status", "score", *(s.value for s in Severity), "top rules", "age", "note"):
        out.add_column(col.upper(), justify="right" if col in ("score", "age", *Severity) else "left",
                       no_wrap=True, overflow="ellipsis",  # one line per cluster; errors in full on stderr
                       max_width={"top rules": 40, "note": 48}.get(col))
    for row in rows:
        counts = [str(row.by_severity.get(s.value, 0)) if row.rebuilt else "" for s in Severity]
        top = ", ".join(f"{rule}×{n}" for rule, _, n in row.top_rules())
        cap = row.rebuilt.result.summary.score_cap if row.rebuilt else None
        note = row.reason or (f"capped: {cap.reason}" if cap else "")
        out.add_row(row.context, row.status, "" if row.score is None else str(row.score), *counts, top,
                    age(row.scanned_at, now), note)
    return out
