"""`kspm-tui [PATH ...] [--demo] [--context NAME] [--kubeconfig FILE] [-n NS] ...`: open the explorer.

The flags mean what they mean to `scan` (the same Target and ScanSettings are built); the
explorer then scans through the same service.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from kspm_tui import exit_codes
from kspm_tui.cli.common import add_cache_argument, add_context_arguments, target_from


def build_parser() -> argparse.ArgumentParser:
    from kspm_tui.cli.triage import add_selection_arguments

    parser = argparse.ArgumentParser(prog="kspm-tui", add_help=False)
    parser.add_argument("paths", nargs="*")
    parser.add_argument("--demo", action="store_true")
    add_context_arguments(parser)
    add_cache_argument(parser)
    parser.add_argument("--theme")
    parser.add_argument("--include-system", action="store_true")
    parser.add_argument("--rules", action="append", type=Path, default=[])
    add_selection_arguments(parser)
    return parser


def main(argv: Sequence[str]) -> int:
    args, unknown = build_parser().parse_known_args(list(argv))
    if unknown:
        from kspm_tui.cli import build_parser as top

        top().parse_args(list(argv))  # prints the proper usage error and exits 2
    return run(args)


def run(args: argparse.Namespace) -> int:
    """Check the target, build settings as `scan` does, run the explorer until the user quits."""
    for raw in args.paths or ():
        if raw != "-" and not Path(raw).exists():
            print(f"kspm-tui: error: {raw}: no such file or directory", file=sys.stderr)
            return exit_codes.INPUT_ERRORS
    if sum(map(bool, (args.paths, args.demo, args.context))) > 1:
        print("kspm-tui: error: open one thing: PATHs, --demo or --context NAME", file=sys.stderr)
        return exit_codes.INPUT_ERRORS
    if "-" in (args.paths or ()):
        print("kspm-tui: error: the explorer cannot read stdin (it needs the terminal); "
              "use `kspm-tui scan -` or save the manifests to a file", file=sys.stderr)
        return exit_codes.INPUT_ERRORS
    from kspm_tui.cli.common import settings_from
    from kspm_tui.cli.triage import apply_selection

    settings, warnings = settings_from(args)
    for warning in warnings:
        print(warning, file=sys.stderr)
    apply_selection(args, settings)
    from kspm_tui.tui.app import KspmApp

    app = KspmApp(target_from(args), settings=settings, theme=args.theme,
                  reach=target_from(args, current_context=True))
    app.run()
    return exit_codes.INPUT_ERRORS if app._crash is not None else int(app.return_code or 0)
