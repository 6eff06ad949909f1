"""What grows in a long watch: tracemalloc and object-count diffs across churn, relists and faults.

The soak's server and churn (`soak.serve`: 1k workloads, 10 changes/s, cuts, 5xx/429, compactions,
outages) in its own process; this process runs a `WatchService` as the CLI does. After
`--warmup` seconds tracemalloc starts (`--frames` deep); then every `--every` seconds, with the
apply thread held (`service.lock`) and a full collection, a snapshot and a histogram of live
objects by type are taken. Printed: traced memory and RSS at each point, and the largest growths
between the first and the last point, by traceback and by type (memory, not time).

    python bench/growth.py [--minutes 8] [--warmup 60] [--every 60] [--json results.json]
"""

from __future__ import annotations

import argparse
import collections
import gc
import multiprocessing
import os
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
    service = WatchService(connection, settings, load_ruleset(settings), Collector(connection).run(),
                           on_event=lambda event: None)
    service.start()
    ours.send("churn")
    t0 = time.monotonic()
    time.sleep(args.warmup)
    tracemalloc.start(args.frames)
    points: list[dict[str, Any]] = []
    snaps: list[tracemalloc.Snapshot] = []
    hists: list[collections.Counter[str]] = []
    while True:
        with service.lock:
            gc.collect()
            snap = tracemalloc.take_snapshot().filter_traces(
                [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<frozen importlib._bootstrap>")])
            hist = histogram()
            current, _ = tracemalloc.get_traced_memory()
            rss, cpu = proc_sample(os.getpid())
            beat = service.heartbeat()
        snaps.append(snap)
        if args.dump:
            args.dump.mkdir(parents=True, exist_ok=True)
            snap.dump(str(args.dump / f"point-{len(snaps) - 1}.tracemalloc"))
        hists.append(hist)
        points.append({"t": round(time.monotonic() - t0), "traced_mb": round(current / 2**20, 2),
                       "rss_mb": round(rss, 1), "cpu_s": round(cpu, 1), "objects": sum(hist.values()),
                       "batches": beat.batches, "relists": beat.relists, "heap_objects": beat.objects})
        print(points[-1], file=sys.stderr, flush=True)
        if time.monotonic() - t0 + args.every > seconds:
            break
        time.sleep(args.every)
    first, last = snaps[min(1, len(snaps) - 1)], snaps[-1]  # the first point is when tracing began
    grown = [{"kb": round(s.size_diff / 1024, 1), "count": s.count_diff,
              "where": [f"{f.filename.replace(str(ROOT) + '/', '')}:{f.lineno}" for f in s.traceback][::-1]}
             for s in last.compare_to(first, "traceback")[:args.top]]
    lines = [{"kb": round(s.size_diff / 1024, 1), "count": s.count_diff, "where": str(s.traceback)}
             for s in last.compare_to(first, "lineno")[:args.top]]
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
