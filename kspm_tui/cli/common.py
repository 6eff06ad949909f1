"""Options every source-reading subcommand shares (scan, rbac, ...), and reading them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from kspm_tui.config import load_config
from kspm_tui.model import Severity
from kspm_tui.scan import ScanSettings
from kspm_tui.sources import Collected


class IntermixedParser(argparse.ArgumentParser):
    """Lets manifest PATHs come after options, as in `fix deploy/web -n shop ./k8s/`."""

    _inner = False

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        if self._inner:
            return super().parse_known_args(args, namespace)
        self._inner = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inner = False


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("what to scan")
    group.add_argument("paths", nargs="*", metavar="PATH",
                       help="manifest files or directories (recursive .yaml/.yml/.json); - for stdin")
    group.add_argument("--demo", action="store_true", help="the bundled demo cluster (no cluster needed)")
    add_context_arguments(group)
    group.add_argument("--include-system", action="store_true",
                       help="also report workloads in system namespaces (kube-system, ...)")
    group.add_argument("--rules", action="append", type=Path, default=[], metavar="DIR",
                       help="extra rule directory (repeatable; overrides built-in ids)")


def add_context_arguments(group: argparse._ArgumentGroup | argparse.ArgumentParser) -> None:
    """`--context` and `--kubeconfig`, meaning what they mean to kubectl."""
    group.add_argument("--context", metavar="NAME",
                       help="scan this kube context live (read-only; see `kspm-tui contexts`)")
    group.add_argument("--kubeconfig", metavar="FILE",
                       help="kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)")
    group.add_argument("--request-timeout", type=float, metavar="SECONDS", default=None,
                       help="give up on an API request after SECONDS (default: 10 to connect, 60 to read)")


def severity(value: str) -> Severity | None:
    if value == "none":
        return None
    try:
        return Severity(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid severity {value!r}: choose critical, high, medium, low, info or none") from None


def settings_from(args: argparse.Namespace) -> tuple[ScanSettings, list[str]]:
    """ScanSettings from flags and the config file, plus warnings to show."""
    config, warning = load_config()
    settings = ScanSettings(rules_dirs=list(args.rules), include_system=args.include_system,
                            config=config)
    return settings, [warning] if warning else []


def collect(args: argparse.Namespace, settings: ScanSettings) -> Collected:
    """Read the chosen source: a kube context (live), --demo, or paths.

    A live source raises `SourceUnavailable` (one sentence, exit 3) when nothing can be read.
    """
    if getattr(args, "context", None):
        return collect_context(args.context, args, settings)
    if args.demo:
        from kspm_tui.sources.demo import read_demo

        settings.cluster_name = "demo"
        collected = read_demo()
        if args.paths:
            from kspm_tui.sources.files import read_paths

            collected.extend(read_paths(args.paths))
        return collected
    from kspm_tui.sources.files import read_paths

    return read_paths(args.paths)


def collect_context(context: str | None, args: argparse.Namespace, settings: ScanSettings) -> Collected:
    """Collect one context live, with a progress bar on stderr when it is a terminal."""
    from kspm_tui.cli.progress import collection_progress
    from kspm_tui.sources.kubeconfig import connect
    from kspm_tui.sources.live import Collector

    connection = connect(context, args.kubeconfig, timeout=args.request_timeout)
    settings.context = settings.cluster_name = connection.context.name
    settings.server = connection.server
    try:
        with collection_progress(connection.context.name) as progress:
            return Collector(connection, progress=progress).run().collected
    finally:
        connection.close()


def usage_error(parser_prog: str, message: str) -> int:
    print(f"{parser_prog}: error: {message}", file=sys.stderr)
    return 2
