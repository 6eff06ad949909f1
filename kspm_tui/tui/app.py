"""Placeholder until the explorer lands: points users at the headless commands."""

from __future__ import annotations

import argparse
import sys


def run(args: argparse.Namespace) -> int:
    print("The interactive explorer is not built yet; use `kspm-tui scan --demo` or "
          "`kspm-tui scan PATH` (see `kspm-tui --help`).", file=sys.stderr)
    return 2
