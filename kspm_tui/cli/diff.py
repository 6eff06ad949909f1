"""`kspm-tui diff`: what changed between two saved scans of one cluster or manifest folder."""

from __future__ import annotations

import argparse
import sys

from rich.console import Group
from rich.table import Table
from rich.text import Text

from kspm_tui import exit_codes
from kspm_tui.cli.timeparse import since
from kspm_tui.labels import object_ref
from kspm_tui.report.table import SEVERITY_STYLE
from kspm_tui.safe_console import SafeConsole
from kspm_tui.triage import history
from kspm_tui.triage.drift import Drift, diff
from kspm_tui.triage.history import FindingRecord
from kspm_tui.yamlio import dump_json


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    parser = sub.add_parser(
        name,
        description="Compare the last two saved scans of the most recently scanned cluster or manifest "
                    "folder (every `kspm-tui scan` is saved; see `kspm-tui history`).",
        epilog="examples:\n  kspm-tui diff\n  kspm-tui diff --since 7d\n"
               "  kspm-tui diff --cluster 3f2a9c1e -o json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--cluster", metavar="ID", help="target id (or unique prefix) from `kspm-tui history`")
    parser.add_argument("--since", type=since, metavar="DATE",
                        help="compare the newest scan with the last one before DATE (2026-05-01, 36h, 7d)")
    parser.add_argument("-o", "--format", choices=("table", "json"), default="table")


def load_drift(args: argparse.Namespace) -> Drift | str:
    """The drift to show, or a sentence saying why there is none."""
    target = history.find_target(args.cluster)
    if target is None:
        return (f"no saved scans for {args.cluster!r} (see `kspm-tui history`)" if args.cluster
                else "no saved scans yet: run `kspm-tui scan` twice, then diff")
    pair, warnings = history.load_pair(target, args.since)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if pair is None:
        return f"fewer than two readable scans of {target}: nothing to compare yet"
    return diff(*pair)


def _findings(title: str, findings: list[FindingRecord], style: str) -> Table:
    table = Table(title=f"{title} ({len(findings)})", title_style=style, show_edge=False, title_justify="left")
    for col in ("severity", "rule", "object", "container", "message"):
        table.add_column(col, overflow="fold")
    for f in findings:
        table.add_row(Text(f.severity.value, SEVERITY_STYLE[f.severity]), f.rule,
                      object_ref(f.kind, f.namespace, f.name), f.container or "", f.message)
    return table


def build(drift: Drift) -> Group:
    delta = drift.new.score - drift.old.score
    head = Text.assemble(
        ("Drift ", "bold"), drift.target, "\n",
        f"{drift.old.started:%Y-%m-%d %H:%M} → {drift.new.started:%Y-%m-%d %H:%M} UTC   score ",
        (f"{drift.old.score} → {drift.new.score} ({delta:+d})", "green" if delta >= 0 else "red"),
        f"   failing {drift.old.failing} → {drift.new.failing}",
    )
    parts: list = [head]
    if drift.empty:
        parts.append(Text("No changes.", "green"))
    for title, findings, style in (("New findings", drift.new_findings, "bold red"),
                                   ("Resolved findings", drift.resolved_findings, "bold green"),
                                   ("Newly accepted", drift.newly_accepted, "bold magenta"),
                                   ("New dangerous permissions", drift.new_dangerous_permissions, "bold red"),
                                   ("New attack paths", drift.new_attack_paths, "bold red")):
        if findings:
            parts.append(_findings(title, findings, style))
    for title, items in (("New workloads", drift.new_workloads), ("Removed workloads", drift.removed_workloads)):
        if items:
            parts.append(Text(f"{title} ({len(items)}): " + ", ".join(
                object_ref(w.kind, w.namespace, w.name) for w in items)))
    for title, images in (("New images", drift.new_images), ("Removed images", drift.removed_images)):
        if images:
            parts.append(Text(f"{title} ({len(images)}): " + ", ".join(images)))
    for title, bindings in (("New bindings", drift.new_bindings), ("Removed bindings", drift.removed_bindings)):
        if bindings:
            parts.append(Text(f"{title} ({len(bindings)}): " + "; ".join(
                f"{object_ref(b.kind, b.namespace, b.name)} → {b.role} for {', '.join(b.subjects) or 'nobody'}"
                for b in bindings)))
    return Group(*parts)


def run(args: argparse.Namespace) -> int:
    drift = load_drift(args)
    if isinstance(drift, str):
        print(f"kspm-tui diff: {drift}", file=sys.stderr)
        return exit_codes.INPUT_ERRORS
    if args.format == "json":
        sys.stdout.write(dump_json(drift.model_dump(mode="json"), indent=True).decode() + "\n")
    else:
        SafeConsole(highlight=False).print(build(drift))
    return exit_codes.OK
