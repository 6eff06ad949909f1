"""`kspm-tui contexts`: the kube contexts kspm-tui can scan, as kubectl would read them."""

from __future__ import annotations

import argparse
import sys

from rich.table import Table

from kspm_tui import exit_codes
from kspm_tui.safe_console import SafeConsole
from kspm_tui.yamlio import dump_json


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    parser = sub.add_parser(name,
                            description="List the contexts of the kubeconfig ($KUBECONFIG files merged, "
                                        "else ~/.kube/config), the current one marked.",
                            epilog="example: kspm-tui contexts -o json")
    parser.add_argument("--kubeconfig", metavar="FILE", help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config)")
    parser.add_argument("-o", "--format", choices=("table", "json"), default="table")


def run(args: argparse.Namespace) -> int:
    from kspm_tui.target import list_contexts  # kubernetes: only when contexts are used

    contexts = list_contexts(args.kubeconfig)
    if args.format == "json":
        sys.stdout.write(dump_json([c.model_dump() for c in contexts], indent=True).decode() + "\n")
        return exit_codes.OK
    table = Table(show_edge=False, box=None)
    for col in ("current", "name", "cluster", "server", "user", "namespace"):
        table.add_column(col.upper())
    for c in contexts:
        table.add_row("*" if c.current else "", c.name, c.cluster, c.server or "", c.user or "", c.namespace or "")
    SafeConsole().print(table)
    return exit_codes.OK
