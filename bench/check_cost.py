"""What the rule checks cost in a scan, part by part: the `cel` package vs our memo around it.

Scans the synthetic cluster (`bench/generate.py`, read once) in process, twice: once plain
(CPU time of `kspm_tui.scan.scan`), once with timers around the parts of every
`engine.cel.ProgramSet.run`. The timers wrap the existing methods (no copy of `run`):

- projection: cutting each variable to the fields its checks read (the memo's input);
- memo keys: digesting that cut (`ProgramSet._key`);
- CEL execute: running the programs (`ProgramSet._execute`, only when the memo misses);
- the rest of `run`: the values converted into CEL (`Context.update`, a method of the `cel`
  package's C type, which cannot be wrapped), the memo lookups, and the inner timers' own cost.

Each timer costs ~0.3 µs (`time.process_time`, twice per call), so the instrumented scan takes
longer than the plain one and "the rest" is an upper bound; the plain figure is the scan's.

    python bench/check_cost.py [--workloads 10000]
"""

from __future__ import annotations

import argparse
import functools
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from kspm_tui.engine import cel  # noqa: E402
from kspm_tui.scan import collect, load_ruleset, scan  # noqa: E402
from kspm_tui.target import ScanSettings, Target  # noqa: E402

clock = time.process_time


def timed(parts: dict[str, float], calls: dict[str, int], part: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = clock()
        try:
            return fn(*args, **kwargs)
        finally:
            parts[part] += clock() - started
            calls[part] += 1
    return wrapper


def instrument(parts: dict[str, float], calls: dict[str, int]) -> None:
    """Timers around ProgramSet's parts, for every ProgramSet made from now on."""
    init, run, execute, key = cel.ProgramSet.__init__, cel.ProgramSet.run, cel.ProgramSet._execute, cel.ProgramSet._key

    def new_init(self: cel.ProgramSet, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self._cut = [(name, timed(parts, calls, "projection", project)) for name, project in self._cut]

    cel.ProgramSet.__init__ = new_init  # type: ignore[method-assign]
    cel.ProgramSet.run = timed(parts, calls, "run", run)  # type: ignore[method-assign]
    cel.ProgramSet._execute = timed(parts, calls, "execute", execute)  # type: ignore[method-assign]
    cel.ProgramSet._key = staticmethod(timed(parts, calls, "keys", key))  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", type=int, default=10000)
    args = parser.parse_args()
    out = subprocess.run([sys.executable, str(BENCH / "generate.py"), str(args.workloads)],
                         check=True, capture_output=True, text=True)
    folder = Path((out.stdout or out.stderr).strip().split(":")[0])
    settings = ScanSettings()
    ruleset = load_ruleset(settings)
    collected = collect(Target("paths", paths=tuple(str(p) for p in sorted(folder.iterdir()))), settings)
    started = clock()
    findings = len(scan(collected, settings, ruleset).findings)
    plain = clock() - started
    parts = dict.fromkeys(("run", "projection", "keys", "execute"), 0.0)
    calls = dict.fromkeys(parts, 0)
    instrument(parts, calls)
    started = clock()
    scan(collected, settings, ruleset)
    instrumented = clock() - started
    rest = parts["run"] - parts["projection"] - parts["keys"] - parts["execute"]
    print(f"{args.workloads} workloads, {findings} findings: scan {plain:.2f} s CPU ({instrumented:.2f} s instrumented)")
    print(f"checks: {calls['run']} group runs, {calls['execute']} executed "
          f"({100 * (1 - calls['execute'] / max(calls['run'], 1)):.0f} % from the memo)")
    print(f"  all of ProgramSet.run      {parts['run']:.2f} s")
    print(f"  projection (memo input)    {parts['projection']:.2f} s")
    print(f"  memo keys                  {parts['keys']:.2f} s")
    print(f"  CEL execute                {parts['execute']:.2f} s")
    print(f"  values into CEL + lookups  {rest:.2f} s")


if __name__ == "__main__":
    main()
