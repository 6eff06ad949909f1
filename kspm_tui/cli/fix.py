"""`kspm-tui fix SCOPE`: the fix plans of a workload, a namespace or a rule, as a script or YAML.

The script holds one `kubectl patch` per object, resolving every `safe` finding at once; `review`
items and withheld fixes are listed as comments with their reasons. `-o yaml` prints the patched
objects instead, for committing to a GitOps repository.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from kspm_tui import exit_codes
from kspm_tui.cli.common import IntermixedParser, add_source_arguments, settings_from, target_from, usage_error
from kspm_tui.fixes.plan import Plan, plans
from kspm_tui.textsafe import visible
from kspm_tui.yamlio import dump_yaml

# kubectl's names and short names for the kinds a plan can patch.
KIND_NAMES = {
    "deploy": "Deployment", "deployment": "Deployment", "deployments": "Deployment",
    "sts": "StatefulSet", "statefulset": "StatefulSet", "statefulsets": "StatefulSet",
    "ds": "DaemonSet", "daemonset": "DaemonSet", "daemonsets": "DaemonSet",
    "rs": "ReplicaSet", "replicaset": "ReplicaSet", "rc": "ReplicationController",
    "job": "Job", "jobs": "Job", "cj": "CronJob", "cronjob": "CronJob", "cronjobs": "CronJob",
    "po": "Pod", "pod": "Pod", "pods": "Pod", "sa": "ServiceAccount", "serviceaccount": "ServiceAccount",
    "ns": "Namespace", "namespace": "Namespace",
}


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    parser = sub.add_parser(
        name,
        description="Scan, then print the fix plan of each object in SCOPE: one `kubectl patch` "
                    "resolving every safe finding, with review items listed as comments. "
                    "Exit 0 when plans were printed, 2 on usage or input errors (or nothing in SCOPE), "
                    "3 when nothing could be scanned.",
        epilog="SCOPE: KIND/NAME (deploy/web, ds/agent; with -n NS), ns/NAME (every object in a "
               "namespace), rule/K8S-ID or K8S-ID (that rule's findings), all\n\nexamples:\n"
               "  kspm-tui fix deploy/web -n shop k8s/ > fix.sh\n"
               "  kspm-tui fix ns/shop --context prod\n"
               "  kspm-tui fix K8S-SECCOMP-REQUIRED k8s/ -o yaml > patched.yaml",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.__class__ = IntermixedParser  # subparsers build ArgumentParser; PATHs may follow -n NS
    parser.add_argument("scope", metavar="SCOPE", help="what to fix (see below)")
    add_source_arguments(parser)  # -n NS: the namespace of a KIND/NAME scope, or narrows any scope
    parser.add_argument("-o", "--format", choices=("script", "yaml"), default="script",
                        help="script (default): kubectl commands; yaml: the patched objects")


def run(args: argparse.Namespace) -> int:
    target = target_from(args)
    if target is None:
        return usage_error("kspm-tui fix", "nothing to scan: give manifest PATHs, - for stdin, --demo, or --context NAME")
    try:
        select = _selector(args.scope, target.namespace)
    except ValueError as exc:
        return usage_error("kspm-tui fix", str(exc))
    settings, warnings = settings_from(args)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    from kspm_tui.scan import run_scan

    scanned = run_scan(target, settings, keep_graph=False)
    result = scanned.result
    for err in result.errors:
        print(err.input_line(), file=sys.stderr)
    findings = [f for f in result.findings if select(f.kind, f.namespace, f.name, f.rule)]
    chosen = [p for p in plans(findings, scanned.snapshot, scanned.settings.context) if p.patch or p.review]
    if not chosen:
        print(f"kspm-tui fix: nothing to fix in {args.scope}"
              + (f" -n {target.namespace}" if target.namespace else ""), file=sys.stderr)
        return exit_codes.INPUT_ERRORS if not findings else exit_codes.OK
    sys.stdout.write(render_yaml(chosen) if args.format == "yaml" else render_script(chosen, args.scope))
    return exit_codes.INPUT_ERRORS if result.errors else exit_codes.OK


Selector = Callable[[str, str | None, str, str], bool]  # (kind, namespace, name, rule) → in scope


def _selector(scope: str, namespace: str | None) -> Selector:
    """A predicate over (kind, namespace, name, rule) for SCOPE; ValueError names a bad one."""
    def in_ns(ns: str | None) -> bool:
        return namespace is None or ns == namespace
    if scope == "all":
        return lambda kind, ns, name, rule: in_ns(ns)
    if scope.startswith(("K8S-", "rule/")):
        rule_id = scope.removeprefix("rule/")
        return lambda kind, ns, name, rule: rule == rule_id and in_ns(ns)
    head, sep, target = scope.partition("/")
    kind = KIND_NAMES.get(head.lower())
    if not sep or not target or kind is None:
        raise ValueError(f"unknown SCOPE {scope!r}: use KIND/NAME (deploy/web), ns/NAME, rule/K8S-ID or all")
    if kind == "Namespace":
        return lambda k, ns, name, rule: ns == target or (k == "Namespace" and name == target)
    return lambda k, ns, name, rule: k == kind and name == target and in_ns(ns)


def _comment(text: str) -> str:
    """Text from manifests made safe for one shell comment line (hidden characters, newlines included, escaped)."""
    return visible(text)


def render_script(chosen: list[Plan], scope: str) -> str:
    fixes = sum(len(p.applied) for p in chosen)
    title = (f"# kspm-tui fix {_comment(scope)}: {len(chosen)} objects, {fixes} safe fixes "
             "(review items are listed, not applied)")
    lines = ["#!/bin/sh", title, "set -eu", ""]
    for plan in chosen:
        lines.append(f"# {_comment(plan.ref)} (cost: {plan.cost})")
        for f in plan.applied:
            lines.append(f"#   fixes {f.rule}{' [' + _comment(f.container) + ']' if f.container else ''}: "
                         f"{_comment(f.remediation.safety_reason)}")
        for f, why in plan.review:
            lines.append(f"#   review {f.rule}{' [' + _comment(f.container) + ']' if f.container else ''}: {_comment(why)}")
        if plan.kubectl:
            lines.append(plan.kubectl)
        elif plan.patch:
            lines.append("#   cannot be patched in place: apply `kspm-tui fix ... -o yaml` to its manifest and re-create it")
        lines.append("")
    return "\n".join(lines)


def render_yaml(chosen: list[Plan]) -> str:
    docs = [dump_yaml(p.patched()) for p in chosen if p.patched() is not None]
    return "---\n".join(docs)
