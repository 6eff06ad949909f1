"""`kspm-tui history`: saved scans per cluster or manifest folder, with the score trend."""

from __future__ import annotations

import argparse
import sys

from rich.table import Table

from kspm_tui import exit_codes
from kspm_tui.safe_console import SafeConsole
from kspm_tui.triage import history
from kspm_tui.yamlio import dump_json


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    parser = sub.add_parser(name,
                            epilog="examples:\n  kspm-tui history\n  kspm-tui history --cluster manifests-1a2b",
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cluster", metavar="ID", help="list the scans of one target (id or unique prefix)")
    parser.add_argument("-o", "--format", choices=("table", "json"), default="table")


def run(args: argparse.Namespace) -> int:
    if args.cluster:
        target = history.find_target(args.cluster)
        if target is None:
            print(f"kspm-tui history: no saved scans for {args.cluster!r}", file=sys.stderr)
            return exit_codes.INPUT_ERRORS
        targets = [target]
    else:
        targets = [t.target for t in history.targets()]
    rows = []
    for target in targets:
        records, warnings = history.load_headers(target)
        for warning in warnings:
            print(f"warning: {warning}", file=sys.stderr)
        if records:
            rows.append((target, records))
    if args.format == "json":
        data = [{"target": t, "label": recs[-1].label, "cluster": recs[-1].cluster.model_dump(mode="json"),
                 "scans": [{"started": r.started.isoformat(), "score": r.summary.score,
                            "failing": r.summary.total, "by_status": r.summary.by_status} for r in recs]}
                for t, recs in rows]
        sys.stdout.write(dump_json(data, indent=True).decode() + "\n")
        return exit_codes.OK
    if not rows:
        print("no saved scans yet (every `kspm-tui scan` is saved unless --no-history)", file=sys.stderr)
        return exit_codes.OK
    console = SafeConsole(highlight=False)
    if args.cluster:
        target, records = rows[0]
        table = Table(title=f"{target} ({records[-1].label})", show_edge=False)
        for col in ("started (UTC)", "score", "failing", "accepted", "critical", "high"):
            table.add_column(col, justify="left" if col.startswith("started") else "right")
        for r in reversed(records):
            table.add_row(f"{r.started:%Y-%m-%d %H:%M:%S}", str(r.summary.score), str(r.summary.total),
                          str(r.summary.by_status.get("accepted", 0)),
                          str(r.summary.by_severity.get("critical", 0)), str(r.summary.by_severity.get("high", 0)))
    else:
        table = Table(title="Saved scans", show_edge=False)
        for col in ("target", "what", "scans", "last scan (UTC)", "score", "trend"):
            table.add_column(col, overflow="fold")
        for target, records in rows:
            last = records[-1]
            table.add_row(target, last.label, str(len(records)), f"{last.started:%Y-%m-%d %H:%M}",
                          str(last.summary.score), history.sparkline([r.summary.score for r in records[-20:]]))
    console.print(table)
    return exit_codes.OK
