"""`kspm-tui [PATH ...] [--demo] [--context NAME] [--theme NAME]`: open the explorer (the Textual app)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kspm-tui", add_help=False)
    parser.add_argument("paths", nargs="*")
    parser.add_argument("--demo", action="store_true")
    parser.add_argument("--context")
    parser.add_argument("--theme")
    parser.add_argument("--include-system", action="store_true")
    return parser


def main(argv: Sequence[str]) -> int:
    args, unknown = build_parser().parse_known_args(list(argv))
    if unknown:
        from kspm_tui.cli import build_parser as top

        top().parse_args(list(argv))  # prints the proper usage error and exits 2
    from kspm_tui.tui.app import run

    return run(args)
