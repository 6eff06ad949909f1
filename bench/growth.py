"""What grows in a long watch: tracemalloc and object-count diffs across churn, relists and faults.

The soak's server and churn (`soak.serve`: 1k workloads, 10 changes/s, cuts, 5xx/429, compactions,
outages) in its own process; this process runs a `WatchService` as the CLI does, traced by
tracemalloc from before the initial list (`--frames` deep: an object replaced later was traced
when made), or not traced (`--no-trace`: tracing inflates RSS). After `--warmup` seconds, then
every `--every` seconds, when no relist is under way, with the apply thread held
(`service.lock`) and after a full collection, it records: traced memory and a snapshot, the
allocators' figures (Python's small-object arenas held and bytes live in them, glibc's heap held
and in use), RSS, and live objects by type (gc-tracked objects outside the permanent generation:
what the first scan froze is not counted, so this count rises as churn replaces those objects
while `frozen` falls). Printed: each point, and the largest growths between the first and the
last point, by traceback and by type (memory, not time).

    python bench/growth.py [--minutes 8] [--warmup 60] [--every 60] [--json results.json]
"""

from __future__ import annotations

import argparse
import collections
import ctypes
import gc
import multiprocessing
import os
import re
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from bench.live_bench import emit  # noqa: E402
from bench.soak import proc_sample, serve  # noqa: E402


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                     "fsmblks", "uordblks", "fordblks", "keepcost")]


def allocators() -> dict[str, float]:
    """Where the process's memory is, MB: Python's small-object allocator (arenas held, bytes in
    live blocks: what RSS keeps after a peak when a few survivors pin an arena) and glibc's heap
    (held, in use), from `sys._debugmallocstats` (CPython) and `mallinfo2` (glibc)."""
    out: dict[str, float] = {}
    with tempfile.TemporaryFile("w+") as capture:
        saved = os.dup(2)
        sys.stderr.flush()
        os.dup2(capture.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        capture.seek(0)
        stats = dict(re.findall(r"^# (arenas allocated current|bytes in allocated blocks|bytes in available blocks)"
                                r"\s*=\s*([\d,]+)", capture.read(), re.M))
    arenas = int(stats.get("arenas allocated current", "0").replace(",", ""))
    out["pymalloc_arenas_mb"] = round(arenas * 2**20 / 2**20, 1)  # 1 MiB arenas (CPython 3.10+ on 64-bit)
    out["pymalloc_live_mb"] = round(int(stats.get("bytes in allocated blocks", "0").replace(",", "")) / 2**20, 1)
    try:
        libc = ctypes.CDLL(None)
        libc.mallinfo2.restype = _MallInfo2
        info = libc.mallinfo2()
        out["glibc_heap_mb"] = round(info.arena / 2**20, 1)
        out["glibc_in_use_mb"] = round(info.uordblks / 2**20, 1)
        out["glibc_mmapped_mb"] = round(info.hblkhd / 2**20, 1)
    except (OSError, AttributeError):
        pass
    return out


def histogram() -> collections.Counter[str]:
    return collections.Counter(type(o).__qualname__ for o in gc.get_objects())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=8)
    parser.add_argument("--workloads", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=60)
    parser.add_argument("--every", type=float, default=60)
    parser.add_argument("--frames", type=int, default=10)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--no-trace", action="store_true",
                        help="no tracemalloc: the allocators' figures and RSS only (tracing inflates RSS)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--dump", type=Path, help="also dump each snapshot here (point-N.tracemalloc) to compare any two")
    args = parser.parse_args(argv)

    from kspm_tui.scan import ScanSettings, load_ruleset
    from kspm_tui.sources.kubeconfig import connect
    from kspm_tui.sources.live import Collector
    from kspm_tui.watch_scan import WatchService

    ours, theirs = multiprocessing.Pipe()
    seconds = args.minutes * 60
    server = multiprocessing.get_context("fork").Process(target=serve, args=(args.workloads, args.rate, seconds, theirs),
                                                         daemon=True)
    server.start()
    info = ours.recv()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "kubeconfig"
        path.write_text(yaml.safe_dump(info["kubeconfig"]))
        connection = connect(None, str(path))
    settings = ScanSettings(context="soak", cluster_name="soak")
    if not args.no_trace:
        tracemalloc.start(args.frames)  # from the start: an object replaced later was traced when made
    service = WatchService(connection, settings, load_ruleset(settings), Collector(connection).run(),
                           on_event=lambda event: None)
    service.start()
    ours.send("churn")
    t0 = time.monotonic()
    time.sleep(args.warmup)
    points: list[dict[str, Any]] = []
    snaps: list[tracemalloc.Snapshot] = []
    hists: list[collections.Counter[str]] = []

    def quiet() -> bool:
        """No relist under way: its pages (read, waiting, applied) are not growth."""
        return not service._incremental._relisting and not service.watcher.pending._relists

    while True:
        while not quiet():
            time.sleep(0.05)
        with service.lock:
            gc.collect()
            snap = None if args.no_trace else tracemalloc.take_snapshot().filter_traces(
                [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<frozen importlib._bootstrap>")])
            hist = histogram()
            memory = allocators()
            current, _ = tracemalloc.get_traced_memory()
            rss, cpu = proc_sample(os.getpid())
            beat = service.heartbeat()
        if snap is not None:
            snaps.append(snap)
        if args.dump and snap is not None:
            args.dump.mkdir(parents=True, exist_ok=True)
            snap.dump(str(args.dump / f"point-{len(snaps) - 1}.tracemalloc"))
        hists.append(hist)
        points.append({"t": round(time.monotonic() - t0), "traced_mb": round(current / 2**20, 2),
                       "rss_mb": round(rss, 1), "cpu_s": round(cpu, 1), "objects": sum(hist.values()),
                       "batches": beat.batches, "relists": beat.relists, "watched_objects": beat.objects, **memory})
        print(points[-1], file=sys.stderr, flush=True)
        if time.monotonic() - t0 + args.every > seconds:
            break
        time.sleep(args.every)
    grown: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    if snaps:  # between the first point (after warm-up) and the last
        grown = [{"kb": round(s.size_diff / 1024, 1), "count": s.count_diff,
                  "where": [f"{f.filename.replace(str(ROOT) + '/', '')}:{f.lineno}" for f in s.traceback][::-1]}
                 for s in snaps[-1].compare_to(snaps[0], "traceback")[:args.top]]
        lines = [{"kb": round(s.size_diff / 1024, 1), "count": s.count_diff, "where": str(s.traceback)}
                 for s in snaps[-1].compare_to(snaps[0], "lineno")[:args.top]]
    types = (hists[-1] - hists[0]).most_common(args.top)
    service.close()
    ours.recv()
    ours.send("stop")
    server.join(30)
    for g in grown:
        print(g["kb"], g["count"], "\n    " + "\n    ".join(g["where"]), file=sys.stderr)
    return emit({"bench": "growth", "points": points, "grown_by_traceback": grown, "grown_by_line": lines,
                 "grown_types": types, "measured": "tracemalloc (Python allocations) and gc.get_objects by type, "
                                                   "RSS from /proc"}, args.json)


if __name__ == "__main__":
    raise SystemExit(main())
