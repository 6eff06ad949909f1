"""`kspm-tui rules list|show|test`: browse the rule pack and test your own rules."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.table import Table
from rich.text import Text

from kspm_tui import exit_codes
from kspm_tui.config import load_config
from kspm_tui.engine.loader import CompiledRule, RuleSet, load_rules
from kspm_tui.frameworks import Framework, FrameworkError, coverage_lines, load_frameworks
from kspm_tui.locations import builtin_dir, user_rules_dir
from kspm_tui.report.table import SEVERITY_STYLE
from kspm_tui.safe_console import SafeConsole
from kspm_tui.scan import ScanSettings, load_ruleset
from kspm_tui.yamlio import dump_json


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    parser = sub.add_parser(name,
                            description="Browse the rule pack and test rule files.")
    parser.add_argument("--rules", action="append", type=Path, default=[], metavar="DIR",
                        help="extra rule directory (repeatable)")
    rsub = parser.add_subparsers(dest="rules_command", metavar="ACTION", required=True)
    lst = rsub.add_parser("list", help="rules as a table (filterable)",
                          epilog='example: kspm-tui rules list --framework cis --severity high')
    lst.add_argument("--category", help='e.g. "Pod Security", RBAC, Network')
    lst.add_argument("--framework", help="framework id (cis, pss-baseline, nsa-cisa, mitre, soc2, ...) or prefix (cis:5.1)")
    lst.add_argument("--severity", help="critical|high|medium|low|info")
    lst.add_argument("-o", "--format", choices=("table", "json"), default="table")
    show = rsub.add_parser("show", help="explain one rule: why, check, remediation, frameworks",
                           epilog="example: kspm-tui rules show K8S-PRIVILEGED")
    show.add_argument("rule_id", metavar="ID")
    test = rsub.add_parser("test", help="run the pass/fail manifests shipped in rule files",
                           epilog="example: kspm-tui rules test ~/my-rules/")
    test.add_argument("dirs", nargs="*", type=Path, metavar="DIR",
                      help="rule directories (default: built-in and user rules)")


def _ruleset(args: argparse.Namespace) -> RuleSet:
    config, _ = load_config()
    return load_ruleset(ScanSettings(rules_dirs=list(args.rules), config=config))


def _report_rule_errors(ruleset: RuleSet) -> None:
    for err in ruleset.errors:
        print(err.line(), file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    return {"list": _list, "show": _show, "test": _test}[args.rules_command](args)


def _selected(ruleset: RuleSet, args: argparse.Namespace) -> list[CompiledRule]:
    rules = ruleset.rules
    if args.category:
        rules = [r for r in rules if r.rule.category.value.lower() == args.category.lower()]
    if args.framework:
        prefix = args.framework.lower()
        framework = _catalog().get(prefix)
        rules = [r for r in rules if (framework.selects(r.rule) if framework else
                                      any(f.lower().startswith(prefix) for f in r.rule.frameworks))]
    if args.severity:
        rules = [r for r in rules if r.rule.severity.value == args.severity.lower()]
    return rules


def _list(args: argparse.Namespace) -> int:
    ruleset = _ruleset(args)
    rules = _selected(ruleset, args)
    if args.format == "json":
        sys.stdout.write(dump_json([r.rule.model_dump(mode="json", by_alias=True, exclude={"tests"})
                                    for r in rules], indent=True).decode() + "\n")
    else:
        table = Table(title=f"{len(rules)} rules", show_edge=False)
        for col in ("id", "severity", "category", "scope", "title", "frameworks"):
            table.add_column(col, overflow="fold")
        for r in rules:
            rule = r.rule
            table.add_row(rule.id, Text(rule.severity.value, SEVERITY_STYLE[rule.severity]),
                          rule.category.value, rule.scope.value, rule.title, " ".join(rule.frameworks))
        console = SafeConsole()
        console.print(table)
        for line in _coverage(rules):
            console.print(line, highlight=False)
    _report_rule_errors(ruleset)
    return exit_codes.INPUT_ERRORS if ruleset.errors else exit_codes.OK


def _catalog() -> dict[str, Framework]:
    try:
        return load_frameworks()
    except FrameworkError as exc:
        print(f"warning: framework catalog unreadable: {exc}", file=sys.stderr)
        return {}


def _coverage(rules: list[CompiledRule]) -> list[str]:
    """`coverage:` lines under the table (rules per category and per framework)."""
    return ["coverage: " + line for line in coverage_lines([r.rule for r in rules], _catalog())]


def _show(args: argparse.Namespace) -> int:
    ruleset = _ruleset(args)
    compiled = ruleset.by_id().get(args.rule_id.upper())
    if compiled is None:
        print(f"kspm-tui rules show: no rule {args.rule_id!r} (see `kspm-tui rules list`)", file=sys.stderr)
        return exit_codes.INPUT_ERRORS
    from kspm_tui.cli.rule_view import render_rule

    SafeConsole().print(render_rule(compiled))
    return exit_codes.OK


def _test(args: argparse.Namespace) -> int:
    from kspm_tui.engine.testing import run_rule_tests

    dirs = args.dirs or [builtin_dir("rules"), user_rules_dir()]
    missing = [d for d in dirs if args.dirs and not d.is_dir()]
    if missing:
        print(f"kspm-tui rules test: not a directory: {missing[0]}", file=sys.stderr)
        return exit_codes.INPUT_ERRORS
    ruleset = load_rules(dirs)
    console = SafeConsole()
    failed = 0
    for rule in ruleset.rules:
        for case in run_rule_tests(rule):
            mark = Text("PASS", "green") if case.ok else Text("FAIL", "bold red")
            failed += not case.ok
            if not case.ok:
                console.print(mark, f"{case.rule} {case.expect}[{case.index}]: {case.detail}")
    console.print(f"{len(ruleset.rules)} rules tested, {failed} failed")
    _report_rule_errors(ruleset)
    if ruleset.errors:
        return exit_codes.INPUT_ERRORS
    return exit_codes.FINDINGS if failed else exit_codes.OK



