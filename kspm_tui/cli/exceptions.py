"""`kspm-tui exceptions`: every accepted risk with its state (active, expired, matching nothing),
what it covers and where it comes from — for reviews of stale exceptions, in CI or by hand."""

from __future__ import annotations

import argparse
import sys

from rich.table import Table
from rich.text import Text

from kspm_tui import exit_codes
from kspm_tui.cli import triage
from kspm_tui.cli.common import add_source_arguments, settings_from, target_from, usage_error
from kspm_tui.safe_console import SafeConsole
from kspm_tui.triage.acceptance import list_exceptions
from kspm_tui.yamlio import dump_json

STATE_STYLE = {"active": "green", "expired": "red", "unmatched": "yellow"}


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    parser = sub.add_parser(
        name,
        description="Scan, then list every exception (config dir exceptions.yaml, --exceptions files, "
                    "kspm-tui.io/accept annotations) with its state and origin. Exit 1 with "
                    "--fail-on-stale when an exception has expired or matches nothing.",
        epilog="examples:\n  kspm-tui exceptions k8s/ --exceptions .kspm/exceptions.yaml\n"
               "  kspm-tui exceptions --demo -o json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_source_arguments(parser)
    triage.add_selection_arguments(parser)
    parser.add_argument("--fail-on-stale", action="store_true",
                        help="exit 1 if an exception has expired or matches no finding")
    parser.add_argument("-o", "--format", choices=("table", "json"), default="table")


def run(args: argparse.Namespace) -> int:
    if not args.paths and not args.demo:
        return usage_error("kspm-tui exceptions", "nothing to scan: give manifest PATHs, - for stdin, or --demo")
    settings, warnings = settings_from(args)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    triage.apply_selection(args, settings)
    from kspm_tui.scan import run_scan
    from kspm_tui.triage.acceptance import accept_risks

    target = target_from(args)
    assert target is not None
    result = run_scan(target, settings).result
    statuses = list_exceptions(accept_risks(result, settings), result)
    for err in result.exception_errors:
        print(err.exceptions_line(), file=sys.stderr)
    if args.format == "json":
        data = [{"state": s.state, "matches": s.matches, "origin": s.risk.origin,
                 **s.risk.model_dump(mode="json")} for s in statuses]
        sys.stdout.write(dump_json(data, indent=True).decode() + "\n")
    else:
        table = Table(title=f"{len(statuses)} exceptions", show_edge=False)
        for col in ("state", "findings", "rules", "selector", "reason", "owner", "expires", "from"):
            table.add_column(col, overflow="fold")
        for s in statuses:
            r = s.risk
            selector = f"{r.namespace}/{r.kind}/{r.name}" + (f" [{r.container}]" if r.container else "")
            table.add_row(Text(s.state, STATE_STYLE[s.state]), str(s.matches), ",".join(r.rules), selector,
                          r.reason, r.owner, str(r.expires or "-"), r.origin)
        SafeConsole(highlight=False).print(table)
    if result.exception_errors:
        return exit_codes.INPUT_ERRORS
    stale = any(s.state != "active" for s in statuses)
    return exit_codes.FINDINGS if args.fail_on_stale and stale else exit_codes.OK
