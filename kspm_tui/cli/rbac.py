"""`kspm-tui rbac subjects|show|who-can|paths`: effective permissions and attack paths.

Reads the same sources as `scan` (manifest paths, `-`, `--demo`) and answers the triage
questions from the graph in `kspm_tui.graph`, as a table or as JSON.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from io import StringIO
from typing import Any

from rich.table import Table
from rich.text import Text

from kspm_tui import exit_codes
from kspm_tui.cli.common import IntermixedParser, add_source_arguments, settings_from, target_from, usage_error
from kspm_tui.engine.loader import RuleSet
from kspm_tui.graph.analysis import Analysis
from kspm_tui.graph.paths import TARGETS, AttackPath
from kspm_tui.graph.rbac import Grant, Request, Subject, parse_subject
from kspm_tui.labels import RISK_FLAGS, path_severity
from kspm_tui.report.table import SEVERITY_STYLE
from kspm_tui.safe_console import SafeConsole
from kspm_tui.snapshot import Snapshot
from kspm_tui.yamlio import dump_json

PROG = "kspm-tui rbac"


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    parser = sub.add_parser(
        name,
        description="Effective RBAC permissions, who-can, and ranked attack paths.",
        epilog="examples:\n  kspm-tui rbac who-can get secrets -n prod ./cluster-dump/\n"
               "  kspm-tui rbac show ServiceAccount/ci/jenkins --demo\n"
               "  kspm-tui rbac paths --demo --to cluster-admin -o json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rsub = parser.add_subparsers(dest="rbac_command", metavar="ACTION", required=True,
                                 parser_class=IntermixedParser)

    subjects = rsub.add_parser("subjects", help="every subject with its bindings and risks")
    subjects.add_argument("--kind", choices=("ServiceAccount", "User", "Group"), help="only this kind")
    subjects.add_argument("-n", "--namespace", help="only ServiceAccounts in NAMESPACE")
    _common(subjects)

    show = rsub.add_parser("show", help="a subject's effective permissions, grouped, with binding chains",
                           epilog="SUBJECT: ServiceAccount/NS/NAME (or sa/NS/NAME, "
                                  "system:serviceaccount:NS:NAME), User/NAME, Group/NAME, or a bare name")
    show.add_argument("subject", metavar="SUBJECT")
    _common(show)

    who = rsub.add_parser("who-can", help="subjects allowed a verb on a resource, with the chain",
                          epilog="RESOURCE: pods, pods/exec, deployments.apps, deployments.apps/scale, "
                                 "or a non-resource URL such as /metrics")
    who.add_argument("verb", metavar="VERB")
    who.add_argument("resource", metavar="RESOURCE")
    who.add_argument("-n", "--namespace", help="the request's namespace (default: any namespace)")
    who.add_argument("--subresource", default="", help="e.g. exec, log, proxy, token")
    who.add_argument("--name", default="", help="the object's name (for rules with resourceNames)")
    _common(who)

    paths = rsub.add_parser("paths", help="ranked attack paths with evidence and the cheapest cut")
    paths.add_argument("--to", choices=TARGETS, dest="target", help="only paths ending here")
    paths.add_argument("--internal", action="store_true",
                       help="also paths from workloads not reachable from the internet (a compromised pod)")
    _common(paths)


def _common(parser: argparse.ArgumentParser) -> None:
    """The source flags; -n here is the subcommand's own (the request's namespace, as in
    `kubectl auth can-i -n`), so the scan's -n/-A are not added."""
    add_source_arguments(parser, namespace=False)
    parser.add_argument("-o", "--format", choices=("table", "json"), default="table",
                        help="output format (default table)")


def run(args: argparse.Namespace) -> int:
    if not args.paths and not args.demo and not args.context:
        return usage_error(f"{PROG} {args.rbac_command}",
                           "nothing to read: give manifest PATHs, - for stdin, --demo or --context NAME")
    settings, warnings = settings_from(args)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    from kspm_tui.scan import collect

    target = target_from(args)
    assert target is not None
    collected = collect(target, settings)
    for err in collected.errors:
        print(err.input_line(), file=sys.stderr)
    for gap in collected.coverage:  # e.g. RBAC objects not readable: answers are incomplete
        print(f"coverage: {gap.reason}", file=sys.stderr)
    analysis = Analysis(Snapshot(collected.objects), system_namespaces=tuple(settings.config.system_namespaces),
                        context=settings.context)
    action: Callable[[argparse.Namespace, Analysis], int] = {
        "subjects": _subjects, "show": _show, "who-can": _who_can, "paths": _paths,
    }[args.rbac_command]
    code = action(args, analysis)
    return exit_codes.INPUT_ERRORS if collected.errors and code == exit_codes.OK else code


def _print(renderable: Any) -> None:
    buffer = StringIO()
    console = SafeConsole(file=buffer, width=SafeConsole().width if sys.stdout.isatty() else 160,
                      force_terminal=sys.stdout.isatty(), color_system="auto" if sys.stdout.isatty() else None)
    console.print(renderable)
    sys.stdout.write(buffer.getvalue())


def _json(data: Any) -> None:
    sys.stdout.write(dump_json(data, indent=True).decode() + "\n")


# -- subjects ------------------------------------------------------------------------------


def _subjects(args: argparse.Namespace, analysis: Analysis) -> int:
    rows = []
    for subject in analysis.rbac.subjects():
        if args.kind and subject.kind != args.kind:
            continue
        if args.namespace and subject.namespace != args.namespace:
            continue
        facts = analysis.subject_facts(subject)
        if facts["system"] and not args.include_system:
            continue
        rows.append(facts)
    if args.format == "json":
        _json(rows)
        return exit_codes.OK
    table = Table(title=f"Subjects ({len(rows)})", show_edge=False)
    for col in ("kind", "namespace", "name", "bindings", "rules", "risks"):
        table.add_column(col, overflow="fold", justify="right" if col in ("bindings", "rules") else "left")
    for f in rows:
        risks = [label for key, label in RISK_FLAGS if f[key]]
        style = "bold red" if f["clusterAdmin"] or f["canEscalate"] else "yellow" if risks else ""
        table.add_row(f["kind"], f["namespace"], f["name"], str(len(f["bindings"])), str(f["rules"]),
                      Text(", ".join(risks), style))
    _print(table)
    if not args.include_system:
        print("system subjects (system:* users and groups, ServiceAccounts in system namespaces) are "
              "hidden; use --include-system", file=sys.stderr)
    return exit_codes.OK


# -- show ----------------------------------------------------------------------------------
def _resolve(text: str, analysis: Analysis) -> Subject | str:
    found = parse_subject(text, analysis.rbac.subjects())
    if isinstance(found, Subject):
        return found
    if len(found) == 1:
        return found[0]
    if not found:
        return f"no subject named {text!r}: list them with `kspm-tui rbac subjects`"
    return f"{text!r} is ambiguous: " + ", ".join(map(str, found)) + " (write KIND/NAME or sa/NS/NAME)"


def _show(args: argparse.Namespace, analysis: Analysis) -> int:
    subject = _resolve(args.subject, analysis)
    if isinstance(subject, str):
        return usage_error(f"{PROG} show", subject)
    grants = analysis.rbac.effective(subject)
    facts = analysis.subject_facts(subject)
    groups = analysis.rbac.groups_of(subject)
    if args.format == "json":
        _json({"subject": subject.as_dict(), "implicitGroups": groups, "facts": facts,
               "grants": [g.as_dict() for g in grants]})
        return exit_codes.OK
    head = Text.assemble((str(subject), "bold"), f"   implicit groups: {', '.join(groups) or '-'}")
    risks = [label for key, label in RISK_FLAGS if facts[key]]
    if risks:
        head.append(f"\nrisks: {', '.join(risks)}", "bold red")
    for e in [] if facts["clusterAdmin"] else facts["escalation"]:
        head.append(f"\n  can escalate: {e['label']} — {e['chain']}", "red")
    _print(head)
    if not grants:
        _print(Text("no permissions granted by any binding in the input", "dim"))
        return exit_codes.OK
    scopes: dict[str | None, list[Grant]] = {}
    for grant in grants:
        scopes.setdefault(grant.scope, []).append(grant)
    for scope, items in scopes.items():
        table = Table(title="cluster-wide (every namespace and cluster-scoped resources)" if scope is None
                      else f"namespace {scope}", show_edge=False, title_justify="left")
        table.add_column("rule", overflow="fold")
        table.add_column("granted by", overflow="fold")
        for g in items:
            via = f" (as {g.subject})" if g.subject != subject else ""
            agg = f" ← {g.aggregated_from}" if g.aggregated_from else ""
            table.add_row(g.rule.text(), f"{g.binding}{via} → {g.role}{agg}")
        _print(table)
    return exit_codes.OK


# -- who-can -------------------------------------------------------------------------------
def _who_can(args: argparse.Namespace, analysis: Analysis) -> int:
    request = Request.parse(args.verb, args.resource, namespace=args.namespace,
                            subresource=args.subresource, name=args.name)
    if not request.path and request.group is None:
        print(f"note: {request.resource!r} is not a built-in resource; matching any API group "
              "(write RESOURCE.GROUP to be exact)", file=sys.stderr)
    grants = analysis.rbac.who_can(request)
    if args.format == "json":
        _json({"request": {"verb": request.verb, "resource": request.resource,
                           "subresource": request.subresource, "name": request.name,
                           "namespace": request.namespace, "apiGroup": request.group,
                           "nonResourceURL": request.path or None},
               "grants": [g.as_dict() for g in grants]})
        return exit_codes.OK
    what = request.path or "/".join(p for p in (
        f"{request.resource}.{request.group}" if request.group else request.resource, request.subresource) if p)
    where = f" in namespace {request.namespace}" if request.namespace else ""
    table = Table(title=f"Who can {request.verb} {what}{where} ({len({g.subject for g in grants})} subjects)",
                  show_edge=False)
    for col in ("subject", "scope", "binding", "role", "rule"):
        table.add_column(col, overflow="fold")
    for g in grants:
        role = f"{g.role} ← {g.aggregated_from}" if g.aggregated_from else str(g.role)
        table.add_row(str(g.subject), g.scope or "*", str(g.binding), role, g.rule.text())
    _print(table)
    return exit_codes.OK


# -- paths ---------------------------------------------------------------------------------
def _paths(args: argparse.Namespace, analysis: Analysis) -> int:
    paths = analysis.attack_paths(internal=args.internal, target=args.target)
    if not args.include_system:
        shown = [p for p in paths if p.source.namespace not in analysis.system_namespaces]
        if len(shown) < len(paths):
            print(f"{len(paths) - len(shown)} paths from workloads in system namespaces are hidden; "
                  "use --include-system", file=sys.stderr)
        paths = shown
    if args.format == "json":
        _json([p.model_dump(mode="json") for p in paths])
        return exit_codes.OK
    if not paths:
        _print(Text("no attack paths found" + ("" if args.internal else
                    " from the internet (try --internal for paths from a compromised pod)")))
        return exit_codes.OK
    from kspm_tui.scan import load_ruleset

    ruleset = load_ruleset(settings_from(args)[0])
    for rank, path in enumerate(paths, 1):
        _print(_path_block(rank, path, ruleset))
    return exit_codes.OK


def _path_block(rank: int, path: AttackPath, ruleset: RuleSet) -> Text:
    severity = path_severity(ruleset, path.target)
    origin = "from the internet" if path.exposed else "from inside the cluster"
    text = Text.assemble(f"{rank}. ", (f" {severity.value} ", SEVERITY_STYLE[severity]), " ",
                         (f"{path.source} → {path.target_label}", "bold"),
                         f"  ({origin}, score {path.score})\n")
    for edge in path.edges:
        text.append(f"   {edge.source} ", "dim")
        text.append(f"─{edge.relation}→ ", "cyan")
        text.append(f"{edge.target}\n")
        text.append(f"      {edge.evidence}\n", "dim")
    if path.cut is not None:
        label = "cut (keeps the workload running)" if path.cut.keeps_workload else "cheapest cut"
        text.append(f"   {label}: {path.cut.description}\n", "green")
        if path.cut.effect:
            text.append(f"      effect: {path.cut.effect}\n", "dim")
        if path.cut.kubectl:
            text.append("      " + path.cut.kubectl.replace("\n", "\n      ") + "\n")
        if path.cut.guidance:
            text.append(f"      {path.cut.guidance}\n", "dim")
    return text
