"""`kspm-tui doctor --context NAME`: can this identity read what a live scan needs?"""

from __future__ import annotations

import argparse
import sys

from rich.table import Table
from rich.text import Text

from kspm_tui import exit_codes
from kspm_tui.cli.common import add_context_arguments, target_from
from kspm_tui.safe_console import SafeConsole
from kspm_tui.yamlio import dump_json


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    parser = sub.add_parser(
        name,
        description="Ask the cluster (SelfSubjectAccessReview) whether the context's identity may list and "
                    "watch every kind a scan reads. Exit 0 when all are granted, 1 when some are missing, "
                    "3 when the cluster cannot be asked.",
        epilog="example: kspm-tui doctor --context prod")
    add_context_arguments(parser)
    parser.add_argument("-o", "--format", choices=("table", "json"), default="table")


def run(args: argparse.Namespace) -> int:
    from kspm_tui.scan import connect
    from kspm_tui.sources.access import check_permissions, minimal_cluster_role

    target = target_from(args, current_context=True)
    assert target is not None
    connection = connect(target)
    try:
        resources, permissions = check_permissions(connection, target.namespace)
    finally:
        connection.close()
    missing = [p for p in permissions if not p.allowed]
    role = minimal_cluster_role(resources)
    if args.format == "json":
        doc = {"context": connection.context.name, "server": connection.server,
               "permissions": [p.model_dump() for p in permissions], "missing": len(missing), "clusterRole": role}
        sys.stdout.write(dump_json(doc, indent=True).decode() + "\n")
        return exit_codes.FINDINGS if missing else exit_codes.OK
    console = SafeConsole()
    table = Table(title=f"read permissions of context {connection.context.name} ({connection.server})",
                  show_edge=False)
    for col in ("kind", "resource", "list", "watch"):
        table.add_column(col)
    verdicts: dict[tuple[str, str], dict[str, bool]] = {}
    for p in permissions:
        verdicts.setdefault((p.kind, f"{p.resource}.{p.group}" if p.group else p.resource), {})[p.verb] = p.allowed
    for (kind, resource), verbs in verdicts.items():
        table.add_row(kind, resource, *(Text("yes", "green") if verbs.get(v) else Text("NO", "bold red")
                                        for v in ("list", "watch")))
    console.print(table)
    if missing:
        console.print(Text(f"{len(missing)} of {len(permissions)} permissions missing: those kinds will be "
                           "reported as coverage gaps and their rules not assessable.", "yellow"))
    else:
        console.print(Text(f"all {len(permissions)} permissions granted.", "green"))
    console.print("\nminimal read-only ClusterRole (bind it to this identity with a ClusterRoleBinding):\n")
    sys.stdout.write(role)
    return exit_codes.FINDINGS if missing else exit_codes.OK
