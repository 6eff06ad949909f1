"""`kspm-tui`: opens the explorer by default; subcommands run headless.

    kspm-tui                      explorer (context picker, or welcome without kubeconfig)
    kspm-tui --demo | PATH ...    explorer on the demo cluster / on manifests
    kspm-tui scan ...             headless scan (table, json, ...)
    kspm-tui fix SCOPE ...        fix plans per workload (kubectl script, or patched YAML)
    kspm-tui rules ...            list, show and test rules
    kspm-tui policy ...           export rules as admission policies; test policies offline
    kspm-tui rbac ...             who can do what, and attack paths
    kspm-tui contexts             kube contexts from the kubeconfig
    kspm-tui fleet ...            every cluster's posture from its in-cluster reporter's PolicyReports
    kspm-tui doctor ...           check the read permissions a live scan needs
    kspm-tui reporter ...         in the cluster: keep PolicyReports current, serve /metrics
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from kspm_tui import __version__, exit_codes
from kspm_tui.textsafe import VisibleStream

# name → module (in kspm_tui.cli) with add_parser(subparsers, name) and run(args) -> int; order is
# --help order. Imported only when used: the explorer's start-up must not pay for the engine,
# and `--help`/`--version` import none of them (no pydantic model is built).
SUBCOMMANDS = ("scan", "fix", "rules", "policy", "rbac", "diff", "history", "exceptions", "contexts", "fleet",
               "doctor", "reporter")
# The one-line summary `kspm-tui --help` lists for each; a subcommand without one here is
# imported to build its listing (its own add_parser then passes help=).
SUMMARIES = {
    "scan": "scan manifests, the demo or a cluster and report findings",
    "fix": "print one fix plan per workload (a shell script, or patched YAML)",
    "rules": "list, show and test rules",
    "policy": "export rules as admission policies; try policies offline",
    "rbac": "who can do what (RBAC) and attack paths from the internet",
    "diff": "show drift between saved scans (new/resolved findings, workloads, images, RBAC)",
    "history": "list saved scans and the score trend (what `diff` compares)",
    "exceptions": "list accepted risks: active, expired, or matching nothing",
    "contexts": "list kube contexts (name, cluster, server, user, namespace)",
    "fleet": "every cluster's posture from its in-cluster reporter's PolicyReports",
    "doctor": "check the read permissions a live scan needs; print a ClusterRole to grant",
    "reporter": "run in a cluster: keep PolicyReports of its findings current, serve /metrics",
}


def subcommand(name: str) -> ModuleType:
    return importlib.import_module(f"kspm_tui.cli.{name}")


EPILOG = """\
examples:
  kspm-tui --demo                         explore the bundled demo cluster
  kspm-tui ./manifests --theme kspm-light explore a folder of manifests (themes: kspm-dark,
                                          kspm-light, kspm-high-contrast, or your own)
  kspm-tui --context prod                 explore a live cluster (no argument: pick a context)
  kspm-tui --kubeconfig k.yaml -n shop    the explorer takes kubectl's --kubeconfig, --context,
                                          -n, -A, --request-timeout (as scan does), --rules, --exceptions
  kspm-tui scan --demo                    headless scan of the demo, summary table
  kspm-tui scan ./manifests -o json       scan a folder of manifests, JSON to stdout
  kubectl get deploy -A -o yaml | kspm-tui scan -
  kspm-tui scan k8s/ --fail-on high       CI gate: exit 1 on high or critical findings
  kspm-tui rules list --category "Pod Security"
  kspm-tui rules show K8S-PRIVILEGED
  kspm-tui policy export --category "Pod Security" --action warn | kubectl apply -f -
  kspm-tui rbac who-can get secrets -n prod ./cluster-dump/
  kspm-tui rbac paths --demo              ranked attack paths from the internet
  kspm-tui fix deploy/web -n shop k8s/    one kubectl patch per workload, safe fixes only
  kspm-tui diff                           what changed since the previous scan
  kspm-tui contexts                       kube contexts (name, cluster, server, user, namespace)
  kspm-tui scan --context prod            live, read-only scan of one cluster (--all-contexts: each)
  kspm-tui scan --context prod --watch    keep watching; finding opened/resolved as JSON lines
  kspm-tui fleet --fail-on critical       every context's posture from its in-cluster PolicyReports
  kspm-tui doctor --context prod          which read permissions you have; ClusterRole to grant
  kspm-tui reporter --in-cluster          in a Pod: keep PolicyReports current (deploy/, docs/reporter.md)

exit codes: 0 ok, 1 findings at/above --fail-on, 2 usage or input errors, 3 cannot scan,
            4 a cluster only partly read (403s, missing APIs, connection lost; see --allow-partial)
"""


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The CLI parser. Only `command`'s module is imported for its options; the other
    subcommands are listed by their summary alone."""
    parser = argparse.ArgumentParser(
        prog="kspm-tui",
        description="Kubernetes security posture explorer: find what is wrong, read why, copy the fix.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"kspm-tui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        if name == command or name not in SUMMARIES:
            subcommand(name).add_parser(sub, name)
        else:
            sub.add_parser(name, help=SUMMARIES[name], add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] in SUBCOMMANDS or any(a in ("-h", "--help", "--version") for a in args_list[:1]):
        parser = build_parser(args_list[0] if args_list[0] in SUBCOMMANDS else None)
        args = parser.parse_args(args_list)
        if args.command is None:
            parser.print_help()
            return exit_codes.OK
        from kspm_tui.sources import SourceUnavailable

        stderr, sys.stderr = sys.stderr, VisibleStream(sys.stderr)  # errors quote names from anyone
        try:
            return int(subcommand(args.command).run(args))
        except SourceUnavailable as exc:
            print(f"kspm-tui: {exc}", file=sys.stderr)
            return exit_codes.UNAVAILABLE
        except KeyboardInterrupt:
            return 130
        except BrokenPipeError:
            return exit_codes.OK
        finally:
            sys.stderr = stderr
    from kspm_tui.cli import explore

    return explore.main(args_list)


# What a headless scan leaves for the process's exit to drop (see `entry`); only filled when
# `entry` runs the command, never when `main` is called in a longer-lived process (tests).
_left_for_exit: list[object] = []
_exiting_after = False


def leave_for_exit(*objects: object) -> None:
    """Keep `objects` until the process exits instead of freeing them now (see `entry`)."""
    if _exiting_after:
        _left_for_exit.extend(objects)


def entry() -> None:
    """The `kspm-tui` command. A scan's snapshot and findings are millions of small objects
    (10k workloads: ~0.45 s CPU to free one by one); a scan leaves them here and the process
    exits without freeing them, once what is buffered for stdout and stderr is written."""
    global _exiting_after
    _exiting_after = True
    code = main()
    if _left_for_exit:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # a closed pipe (`| head`) or stream: nothing more to say
                pass
        os._exit(code)
    sys.exit(code)
