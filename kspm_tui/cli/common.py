"""Options every cluster- or source-reading subcommand shares (scan, rbac, doctor, the explorer),
with kubectl's names and meanings, and the `Target` they describe."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from kspm_tui.config import load_config
from kspm_tui.model import Severity
from kspm_tui.sources.files import DEFAULT_MAX_FILE_SIZE, parse_size
from kspm_tui.target import ScanSettings, Target

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def request_timeout(value: str) -> float | None:
    """kubectl's --request-timeout: a bare number of seconds or a duration (`10s`, `1m`, `1m30s`,
    `500ms`); 0 means no timeout of our own (the defaults apply)."""
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        parts = _DURATION.findall(text)
        if not parts or "".join(n + unit for n, unit in parts) != text:
            raise argparse.ArgumentTypeError(
                f"invalid --request-timeout {value!r}: use seconds (10) or a duration (10s, 1m, 500ms)") from None
        seconds = sum(float(n) * _SECONDS[unit] for n, unit in parts)
    if seconds < 0:
        raise argparse.ArgumentTypeError(f"invalid --request-timeout {value!r}: must not be negative")
    return seconds or None


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


def add_source_arguments(parser: argparse.ArgumentParser, *, namespace: bool = True) -> None:
    """PATHs, --demo, the cluster flags, --include-system and --rules (`namespace=False` where the
    subcommand's own -n means something else, as in `rbac who-can -n`)."""
    group = parser.add_argument_group("what to scan")
    group.add_argument("paths", nargs="*", metavar="PATH",
                       help="manifest files or directories (recursive .yaml/.yml/.json); - for stdin")
    group.add_argument("--demo", action="store_true", help="the bundled demo cluster (no cluster needed)")
    add_context_arguments(group, namespace=namespace)
    group.add_argument("--include-system", action="store_true",
                       help="also report workloads in system namespaces (kube-system, ...)")
    group.add_argument("--rules", action="append", type=Path, default=[], metavar="DIR",
                       help="extra rule directory (repeatable; overrides built-in ids)")
    group.add_argument("--max-file-size", type=_size, default=DEFAULT_MAX_FILE_SIZE, metavar="SIZE",
                       help="refuse a manifest file (or stdin) larger than SIZE, e.g. 512MiB "
                            "(default 128MiB)")
    add_cache_argument(group)


def add_cache_argument(group: argparse._ActionsContainer) -> None:
    group.add_argument("--no-cache", dest="parse_cache", action="store_false",
                       help="parse every manifest (and rule file) again instead of reading unchanged ones "
                            "from the parse cache (user cache dir, or $KSPM_TUI_CACHE_DIR)")


def _size(value: str) -> int:
    try:
        return parse_size(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_context_arguments(group: argparse._ActionsContainer, *, namespace: bool = True) -> None:
    """`--kubeconfig`, `--context`, `-n/--namespace`, `-A/--all-namespaces`, `--request-timeout`,
    meaning what they mean to kubectl."""
    group.add_argument("--context", metavar="NAME",
                       help="scan this kube context live (read-only; see `kspm-tui contexts`)")
    group.add_argument("--kubeconfig", metavar="FILE",
                       help="kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)")
    group.add_argument("--request-timeout", type=request_timeout, metavar="DURATION", default=None,
                       help="give up on an API request after DURATION (10, 10s, 1m, 500ms; default: 10s to "
                            "connect, 60s to read)")
    if namespace:
        group.add_argument("-n", "--namespace", metavar="NS",
                           help="only namespace NS (live: list only there; manifests: objects without a "
                                "namespace go into NS, as with `kubectl apply -n NS -f`)")
        group.add_argument("-A", "--all-namespaces", action="store_true",
                           help="every namespace (the default; overrides -n, as in kubectl)")


def target_from(args: argparse.Namespace, *, current_context: bool = False) -> Target | None:
    """The Target the flags name; with `current_context`, no PATH/--demo/--context means the
    kubeconfig's current context (None when nothing is named and that is not wanted)."""
    # Only the -n that add_context_arguments added (it comes with -A) scopes what is read.
    scoped = hasattr(args, "all_namespaces") and not args.all_namespaces
    namespace = getattr(args, "namespace", None) if scoped else None
    reach = {"kubeconfig": getattr(args, "kubeconfig", None), "namespace": namespace,
             "request_timeout": getattr(args, "request_timeout", None),
             "max_file_size": getattr(args, "max_file_size", None),
             "parse_cache": getattr(args, "parse_cache", True)}
    if getattr(args, "context", None):
        return Target("context", context=args.context, **reach)
    if getattr(args, "demo", False):
        return Target("demo", paths=tuple(args.paths), **reach)
    if getattr(args, "paths", None):
        return Target("paths", paths=tuple(args.paths), **reach)
    if current_context:
        return Target("context", **reach)
    return None


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
    settings = ScanSettings(rules_dirs=list(getattr(args, "rules", [])),
                            include_system=getattr(args, "include_system", False), config=config)
    return settings, [warning] if warning else []


def usage_error(parser_prog: str, message: str) -> int:
    print(f"{parser_prog}: error: {message}", file=sys.stderr)
    return 2
