"""`kspm-tui reporter`: run in the cluster, keep PolicyReports current, serve /metrics.

In a Pod (`--in-cluster`, or KUBERNETES_SERVICE_HOST set and no --context/--kubeconfig) it
authenticates with the Pod's service account; elsewhere with kubectl's flags. See docs/reporter.md.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from datetime import UTC, datetime

from kspm_tui import exit_codes

HELP = """\
examples:
  kspm-tui reporter --in-cluster --exceptions /etc/kspm-tui/exceptions.yaml   (the deploy/ Deployment)
  kspm-tui reporter --context prod --listen 127.0.0.1:9090                     (from a laptop, for a try)
  kspm-tui reporter --context prod --once                                      (one sync, then exit)

exit codes: 0 stopped (SIGTERM, Ctrl-C) or --once wrote every report, 2 usage error, 3 the cluster
            cannot be read or serves no PolicyReport CRDs, 4 --once could not write every report
"""


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    from kspm_tui.cli.common import add_context_arguments
    from kspm_tui.cli.triage import add_selection_arguments

    parser = sub.add_parser(name, help="keep PolicyReports in the cluster current (in-cluster reporter)",
                            description=__doc__, epilog=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_argument_group("cluster")
    where.add_argument("--in-cluster", action="store_true",
                       help="use the Pod's service account (the default in a Pod without --context/--kubeconfig)")
    add_context_arguments(where, namespace=False)
    what = parser.add_argument_group("rules and accepted risks")
    add_selection_arguments(what)
    what.add_argument("--rules", action="append", default=[], metavar="DIR",
                      help="extra rule directory (repeatable; overrides built-in ids)")
    what.add_argument("--include-system", action="store_true",
                      help="also report workloads in system namespaces (kube-system, ...)")
    run = parser.add_argument_group("serving and writing")
    run.add_argument("--listen", default=":8080", metavar="ADDR",
                     help="serve /metrics, /healthz and /readyz on ADDR (default :8080; HOST:PORT)")
    run.add_argument("--write-qps", type=float, default=50.0, metavar="N",
                     help="PolicyReport writes per second after the burst (default 50)")
    run.add_argument("--write-burst", type=int, default=100, metavar="N", help="writes allowed at once (default 100)")
    run.add_argument("--once", action="store_true", help="write the reports once and exit (a CronJob's mode)")


def _log(text: str) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(f"{stamp} kspm-tui reporter: {text}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from kspm_tui.cli.common import settings_from, usage_error
    from kspm_tui.cli.triage import apply_selection
    from kspm_tui.reporter.metrics import Endpoints, Metrics
    from kspm_tui.reporter.service import Reporter, WriteOptions
    from kspm_tui.scan import load_ruleset
    from kspm_tui.sources.kubeconfig import IN_CLUSTER
    from kspm_tui.target import Target

    prog = "kspm-tui reporter"
    in_pod = bool(os.environ.get("KUBERNETES_SERVICE_HOST"))
    if args.in_cluster and (args.context or args.kubeconfig):
        return usage_error(prog, "--in-cluster uses the Pod's service account: drop --context/--kubeconfig")
    if args.in_cluster and not in_pod:
        return usage_error(prog, "--in-cluster needs KUBERNETES_SERVICE_HOST (set in every Pod)")
    context = IN_CLUSTER if args.in_cluster or (in_pod and not (args.context or args.kubeconfig)) else args.context
    target = Target("context", context=context, kubeconfig=args.kubeconfig, request_timeout=args.request_timeout)
    settings, warnings = settings_from(args)
    settings.rules_dirs = [Path(d) for d in args.rules]
    settings.user_exceptions = False  # accepted risks come from --exceptions (a ConfigMap) and annotations
    apply_selection(args, settings)
    for warning in warnings:
        _log(f"warning: {warning}")
    ruleset = load_ruleset(settings)
    for error in ruleset.errors:
        _log(f"rules: {error.file}: {error.message}")
    metrics = Metrics()
    reporter = Reporter(target, settings, ruleset, metrics, log=_log,
                        writes=WriteOptions(qps=args.write_qps, burst=args.write_burst))
    try:
        endpoints = Endpoints(metrics, args.listen, healthy=lambda: reporter.alive,
                              ready=reporter.ready.is_set)
    except ValueError as exc:
        return usage_error(prog, str(exc))
    except OSError as exc:
        return usage_error(prog, f"cannot listen on {args.listen}: {exc.strerror}")
    _log(f"serving /metrics, /healthz, /readyz on port {endpoints.port}")
    signal.signal(signal.SIGTERM, lambda *_: reporter.stop())
    try:
        return reporter.run(once=args.once)
    except KeyboardInterrupt:
        reporter.stop()
        return exit_codes.OK
    finally:
        endpoints.close()
