"""A relist round's memory peak in the watching process: what the soak's RSS steps come from.

The synthetic cluster (`live_bench.cluster`) is served by the test API server in its own
process. This process opens a watch (`WatchService`, as the CLI does), lets it settle, then
compacts the server's history `--rounds` times: every kind meets 410 Gone and lists again, as
after etcd compaction, with a write after each compaction (so continue tokens stay valid).
Per round: tracemalloc's peak of Python allocations above what was in use before the round,
RSS from /proc before and after, and the round's length: this process's CPU time (watcher and
apply threads; the server runs apart) and wall time (from the compaction to the last page
applied: what events of a kind waiting for its turn to list wait; loaded by the shared machine).

    python bench/relist_peak.py [--workloads 1000] [--rounds 3] [--json results.json]
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from bench.live_bench import cluster, emit  # noqa: E402
from bench.soak import proc_sample  # noqa: E402


def serve(workloads: int, conn: Any) -> None:
    """Server process: serve the cluster; on "compact", forget history and change one object."""
    from tests.apiserver.server import ApiServer

    objects, _ = cluster(workloads)
    server = ApiServer(objects).start()
    conn.send(server.kubeconfig(context="relist"))
    while (message := conn.recv()) == "compact":
        server.store.compact()
        namespace = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "relist-round", "namespace": "default"}}
        server.store.put({**namespace, "metadata": {**namespace["metadata"], "labels": {"at": str(time.time())}}})
        conn.send("compacted")
    server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workloads", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    from kspm_tui.scan import ScanSettings, load_ruleset
    from kspm_tui.sources.kubeconfig import connect
    from kspm_tui.sources.live import Collector
    from kspm_tui.watch_scan import WatchService

    ours, theirs = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(args.workloads, theirs), daemon=True)
    server.start()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "kubeconfig"
        path.write_text(yaml.safe_dump(ours.recv()))
        connection = connect(None, str(path))
    settings = ScanSettings(context="relist", cluster_name="relist")
    service = WatchService(connection, settings, load_ruleset(settings), Collector(connection).run(),
                           on_event=lambda event: None)
    service.start()
    kinds = sum(1 for r in service.initial.resources if r.watchable)
    time.sleep(5)  # the first batches (the Namespace written) land
    rounds = []
    for n in range(1, args.rounds + 1):
        while len(service.watcher.pending):
            time.sleep(0.1)
        with service.lock:
            gc.collect()
        rss_before, _ = proc_sample(os.getpid())
        tracemalloc.start()
        in_use, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        cpu0, wall0 = time.process_time(), time.monotonic()
        ours.send("compact")
        ours.recv()
        while service.watcher.stats.relists < n * kinds or len(service.watcher.pending):
            time.sleep(0.05)
        time.sleep(0.1)  # the batch holding the last page was taken: its apply takes the lock first
        with service.lock:
            _, peak = tracemalloc.get_traced_memory()
            cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
        tracemalloc.stop()
        rss_after, _ = proc_sample(os.getpid())
        rounds.append({"python_peak_mb": round((peak - in_use) / 2**20, 1),
                       "rss_before_mb": round(rss_before, 1), "rss_after_mb": round(rss_after, 1),
                       "round_cpu_s": round(cpu, 2), "round_wall_s": round(wall, 2)})
        print(rounds[-1], file=sys.stderr, flush=True)
    service.close()
    ours.send("stop")
    server.join(30)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    return emit({"bench": "relist_peak", "commit": commit, "workloads": args.workloads, "kinds": kinds,
                 "objects": len(service.snapshot), "failure": service.failure, "rounds": rounds,
                 "measured": "tracemalloc peak above in-use at the round's start (Python allocations); "
                             "RSS from /proc; round CPU = this process's process_time, wall from the compaction "
                             "to the last page applied"}, args.json)


if __name__ == "__main__":
    raise SystemExit(main())
