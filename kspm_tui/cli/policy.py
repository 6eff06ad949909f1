"""`kspm-tui policy export|list|test`: the rules as admission policies, and trying them offline."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rich.table import Table

from kspm_tui import exit_codes
from kspm_tui.cli.common import add_source_arguments, settings_from, target_from, usage_error
from kspm_tui.engine.loader import CompiledRule
from kspm_tui.model import Status
from kspm_tui.policy import celenv
from kspm_tui.policy.export import ExportOptions, NotExportable, export_rule, exportable
from kspm_tui.rule_selection import split_patterns
from kspm_tui.safe_console import SafeConsole
from kspm_tui.textsafe import visible

EPILOG = """\
examples:
  kspm-tui policy export --rule K8S-PRIVILEGED --action warn | kubectl apply -f -
  kspm-tui policy export --category "Pod Security" -n prod -n staging > psp.yaml
  kspm-tui policy export --framework cis --control 5.2.1
  kspm-tui policy export --failing ./manifests --exceptions accepted.yaml
  kspm-tui policy export --rule 'K8S-HOST-*' --format kyverno
  kspm-tui policy list                       which rules export, and why the others do not
  kspm-tui policy test policies.yaml ./manifests

exit codes: 0 ok, 1 nothing exportable (export) or an object denied (test), 2 usage or input errors
"""


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    parser = sub.add_parser(name,
                            description="Turn rules into ValidatingAdmissionPolicies (or Kyverno "
                                        "ClusterPolicies) that stop what the scan reports.",
                            epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    psub = parser.add_subparsers(dest="policy_command", metavar="ACTION", required=True)

    export = psub.add_parser("export", help="write policies for the chosen rules (multi-document YAML)",
                             epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    pick = export.add_argument_group("which rules (combined: a rule must match each given)")
    pick.add_argument("--rule", action="append", default=[], metavar="ID",
                      help="rule id or glob (K8S-HOST-*); repeatable, comma-separated")
    pick.add_argument("--category", help='e.g. "Pod Security"')
    pick.add_argument("--framework", help="framework id (cis, pss-baseline, nsa-cisa, ...)")
    pick.add_argument("--control", action="append", default=[], metavar="ID",
                      help="control of --framework (5.2.1; a prefix like 5.2 takes the section)")
    pick.add_argument("--failing", action="store_true",
                      help="only rules failing in a scan of PATH, --demo or --context")
    add_source_arguments(export, namespace=False)  # -n here: where the policies apply
    where = export.add_argument_group("what the policies do and where")
    where.add_argument("--action", choices=("deny", "warn", "audit"), default="deny",
                       help="binding validationActions (roll out with warn first)")
    where.add_argument("-n", "--namespace", action="append", default=[], metavar="NS",
                       help="only in these namespaces (repeatable)")
    where.add_argument("--exclude-namespace", action="append", default=[], metavar="NS",
                       help="never in these namespaces (repeatable; system namespaces are excluded "
                            "unless --include-system)")
    where.add_argument("--exceptions", action="append", type=Path, default=[], metavar="FILE",
                       help="accepted risks to leave out (matchConditions); the user exceptions.yaml "
                            "is read too")
    where.add_argument("--format", choices=("vap", "kyverno"), default="vap",
                       help="vap: ValidatingAdmissionPolicy + Binding; kyverno: ClusterPolicy (validate.cel)")
    where.add_argument("--kubernetes-version", default=celenv.DEFAULT_VERSION, metavar="1.N",
                       help=f"oldest API server to run on: picks its CEL functions (default {celenv.DEFAULT_VERSION})")
    where.add_argument("--explain", action="store_true",
                       help="also print, on stderr, a table of the selected rules and why some do not export")

    lst = psub.add_parser("list", help="every rule: does it export, and if not, why")
    lst.add_argument("--kubernetes-version", default=celenv.DEFAULT_VERSION, metavar="1.N")
    lst.add_argument("-o", "--format", choices=("table", "markdown"), default="table")
    lst.add_argument("--rules", action="append", type=Path, default=[], metavar="DIR")
    lst.add_argument("--include-system", action="store_true", help=argparse.SUPPRESS)

    test = psub.add_parser("test", help="evaluate policies against manifests offline, as the API server would",
                           epilog="example: kspm-tui policy test policies.yaml ./k8s/ (exit 1 if any denied)")
    test.add_argument("policy_file", metavar="POLICY.yaml")
    test.add_argument("paths", nargs="+", metavar="PATH", help="manifest files or directories; - for stdin")


def run(args: argparse.Namespace) -> int:
    return {"export": _export, "list": _list, "test": _test}[args.policy_command](args)


def _minor(args: argparse.Namespace) -> int:
    try:
        return celenv.parse_version(args.kubernetes_version)
    except ValueError as exc:
        raise SystemExit(usage_error("kspm-tui policy", str(exc))) from None


def _rules(args: argparse.Namespace) -> list[CompiledRule]:
    from kspm_tui.scan import load_ruleset

    settings, warnings = settings_from(args)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    ruleset = load_ruleset(settings)
    for err in ruleset.errors:
        print(f"rule error: {err.file}" + (f" [{err.rule}]" if err.rule else "") + f": {err.message}",
              file=sys.stderr)
    return ruleset.rules


def _select(rules: list[CompiledRule], args: argparse.Namespace) -> list[CompiledRule]:
    """The rules every given selector picks; raises SystemExit(2) for a selector that picks nothing."""
    from fnmatch import fnmatchcase

    def narrow(chosen: list[CompiledRule], keep: Any, what: str) -> list[CompiledRule]:
        left = [r for r in chosen if keep(r)]
        if not any(keep(r) for r in rules):
            raise SystemExit(usage_error("kspm-tui policy export", f"{what}: no rule matches"))
        return left

    chosen = rules
    patterns = split_patterns(args.rule)
    for pattern in patterns:
        narrow(rules, lambda r, p=pattern: fnmatchcase(r.id, p.upper()), f"--rule {pattern}")
    if patterns:
        chosen = [r for r in chosen if any(fnmatchcase(r.id, p.upper()) for p in patterns)]
    if args.category:
        chosen = narrow(chosen, lambda r: r.rule.category.value.lower() == args.category.lower(),
                        f"--category {args.category}")
    if args.control and not args.framework:
        raise SystemExit(usage_error("kspm-tui policy export", "--control needs --framework"))
    if args.framework:
        fw = args.framework.lower()
        controls = split_patterns(args.control)

        def in_framework(r: CompiledRule) -> bool:
            refs = [ref.partition(":")[2] for ref in r.rule.frameworks if ref.partition(":")[0].lower() == fw]
            return bool(refs) and (not controls or any(
                ref == c or ref.startswith(c + ".") for ref in refs for c in controls))

        what = f"--framework {args.framework}" + (f" --control {','.join(controls)}" if controls else "")
        chosen = narrow(chosen, in_framework, what)
    return chosen


def _failing(args: argparse.Namespace) -> set[str]:
    """Rule ids failing in a scan of the chosen source (exceptions applied): a finding's own rule
    and the superseded rules it covers (their failure at the same place is reported by it)."""
    from kspm_tui.scan import run_scan

    settings, _ = settings_from(args)
    settings.exception_files = list(args.exceptions)
    target = target_from(args)
    assert target is not None  # _export checked that PATH, --demo or --context was given
    result = run_scan(target, settings, keep_graph=False).result
    for error in result.errors:
        print(error.input_line(), file=sys.stderr)
    return {rid for f in result.findings if f.status is Status.fail for rid in (f.rule, *f.covers)}


def _export(args: argparse.Namespace) -> int:
    minor = _minor(args)
    if (args.paths or args.demo or args.context) and not args.failing:
        return usage_error("kspm-tui policy export", "PATH, --demo and --context choose what --failing scans")
    if args.failing and not (args.paths or args.demo or args.context):
        return usage_error("kspm-tui policy export", "--failing needs PATH, --demo or --context")
    rules = _select(_rules(args), args)
    if args.failing:
        failing = _failing(args)
        rules = [r for r in rules if r.id in failing]
    risks = _risks(args)
    from kspm_tui.config import load_config

    options = ExportOptions(action=args.action, kubernetes=minor, namespaces=args.namespace,
                            exclude_namespaces=args.exclude_namespace, include_system=args.include_system,
                            system_namespaces=tuple(load_config()[0].system_namespaces), risks=risks,
                            format=args.format)
    documents: list[dict[str, Any]] = []
    refused: list[tuple[str, str]] = []
    for rule in rules:
        try:
            documents.extend(export_rule(rule.rule, options))
        except NotExportable as exc:
            refused.append((rule.id, str(exc)))
    for rule_id, reason in refused:
        print(f"not exportable: {rule_id}: {reason}", file=sys.stderr)
    if args.explain:
        _table([(r.id, r.rule.scope.value, dict(refused).get(r.id)) for r in rules], sys.stderr)
    if not documents:
        print("kspm-tui policy export: none of the selected rules can run at admission"
              if rules else "kspm-tui policy export: no rule selected", file=sys.stderr)
        return exit_codes.FINDINGS
    from kspm_tui.yamlio import dump_yaml

    sys.stdout.write("---\n".join(dump_yaml(doc) for doc in documents))
    print(f"exported {len(rules) - len(refused)} of {len(rules)} selected rules "
          f"({args.format}, action {args.action}, Kubernetes 1.{minor}+)", file=sys.stderr)
    return exit_codes.OK


def _risks(args: argparse.Namespace) -> list[Any]:
    from kspm_tui.triage.acceptance import load_exceptions

    risks, errors = load_exceptions(list(args.exceptions))
    for error in errors:
        print(error.exceptions_line(), file=sys.stderr)
    return risks


def export_table(rules: list[CompiledRule], minor: int) -> list[tuple[str, str, str | None]]:
    """(rule id, scope, reason it does not export or None), for `policy list` and the README."""
    return [(r.id, r.rule.scope.value, exportable(r.rule, minor)) for r in rules]


def _table(rows: list[tuple[str, str, str | None]], stream: Any) -> None:
    table = Table(title=f"{sum(1 for r in rows if r[2] is None)} of {len(rows)} rules export", show_edge=False)
    for column in ("RULE", "SCOPE", "EXPORTS", "WHY NOT"):
        table.add_column(column)
    for rule_id, scope, reason in rows:
        table.add_row(rule_id, scope, "yes" if reason is None else "no", reason or "")
    SafeConsole(file=stream, highlight=False, soft_wrap=False).print(table)


def markdown_table(rows: list[tuple[str, str, str | None]]) -> str:
    lines = ["| rule | scope | exports | why not |", "|---|---|---|---|"]
    lines += [f"| {rid} | {scope} | {'yes' if why is None else 'no'} | {why or ''} |" for rid, scope, why in rows]
    return "\n".join(lines) + "\n"


def _list(args: argparse.Namespace) -> int:
    minor = _minor(args)
    rows = export_table(_rules(args), minor)
    if args.format == "markdown":
        sys.stdout.write(markdown_table(rows))
    else:
        _table(rows, sys.stdout)
    return exit_codes.OK


def _test(args: argparse.Namespace) -> int:
    from kspm_tui.policy.admission import Admission, PolicyFileError, load_policies
    from kspm_tui.sources.files import read_paths

    policy_source = read_paths([args.policy_file])
    status = exit_codes.OK
    for error in policy_source.errors:
        print(f"{args.policy_file}: {error.message}", file=sys.stderr)
        status = exit_codes.INPUT_ERRORS
    try:
        policies = load_policies([o.obj for o in policy_source.objects])
    except PolicyFileError as exc:
        return usage_error("kspm-tui policy test", f"{args.policy_file}: {exc}")
    if not policies:
        return usage_error("kspm-tui policy test", f"{args.policy_file}: no ValidatingAdmissionPolicy in it")
    collected = read_paths(args.paths)
    for error in collected.errors:
        print(f"input error: {error.file or ''}: {error.message}", file=sys.stderr)
        status = exit_codes.INPUT_ERRORS
    namespaces = {o.obj["metadata"]["name"]: o.obj for o in collected.objects
                  if o.obj.get("kind") == "Namespace" and (o.obj.get("metadata") or {}).get("name")}
    admission = Admission(policies, namespaces)
    counts = {"admitted": 0, "denied": 0, "warned": 0, "audited": 0}
    for sourced in collected.objects:
        obj = sourced.obj
        verdict = admission.admit(obj)
        counts[verdict.outcome] += 1
        meta = obj.get("metadata") or {}
        name = "/".join(filter(None, [str(meta.get("namespace") or ""), str(meta.get("name") or "")]))
        where = f"  ({sourced.source.file}#{sourced.source.document})" if sourced.source.file else ""
        print(visible(f"{verdict.outcome:<9} {obj.get('kind')} {name}{where}"))
        for outcome, policy, message in verdict.messages:
            print(visible(f"  {outcome}: {policy}: {message}"))
    print(", ".join(f"{n} {word}" for word, n in counts.items()), file=sys.stderr)
    return exit_codes.FINDINGS if counts["denied"] else status
