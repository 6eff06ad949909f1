"""Watch cost: the CLI watch (`kspm-tui scan --context C --watch`) under a steady stream of changes.

The cluster (the bench generator's, 1k workloads by default) is served by the test API server
in its own process. The CLI runs as its own process, as a user runs it. After its initial
events, it is left idle for a while (the floor: watches, bookmarks), then the cluster changes
at --rate changes per second for --seconds: Pods relabelled, RoleBindings re-pointed at another
ServiceAccount, Services switched between ClusterIP and LoadBalancer, NetworkPolicies narrowed
and widened, ConfigMaps edited, and once a second a new privileged Pod (the marker).

Reported: the CLI process's CPU (user + system, from /proc, all threads) per second of wall
time while idle and while churning — "cores" — and the latency from each marker Pod's write
to its `finding opened` line on the CLI's stdout (p50, p95, max). CPU time, not wall time, is
the figure: the machine is shared.

With --batches N it also drives the watch service in this process (started against the same
server, fed batches of --per-batch changes directly, as `_apply_loop` would) and splits the
CPU of each batch: applying it and finding the units (graph deltas), evaluating those units,
and publishing them (their findings replacing their units' own, judged against accepted risks,
counted and diffed into events: `watch_publish.py`).

With --reporter the subject is the in-cluster reporter instead (`kspm-tui reporter`, its write
rate raised so the first full set is written at once; the server accepts PolicyReport writes):
its CPU under the same churn, for the watch loop it runs for weeks. It prints no events, so no
latency is reported for it.

    python bench/watch_bench.py [--workloads 1000] [--rate 10] [--seconds 60] [--batches 100] [--reporter] [--json FILE]
"""

from __future__ import annotations

import argparse
import copy
import json
import multiprocessing
import os
import queue
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TICKS = os.sysconf("SC_CLK_TCK")


def serve(workloads: int, conn: Any, reports: bool = False) -> None:
    """Server process: serve the cluster; apply the changes the parent sends until told to stop."""
    from bench.live_bench import cluster
    from tests.apiserver.server import ApiServer

    objects, _ = cluster(workloads)
    server = ApiServer(objects)
    server.allow_report_writes = reports
    server.start()
    conn.send({"objects": len(objects), "kubeconfig": server.kubeconfig(context="bench")})
    while True:
        command, obj = conn.recv()
        if command == "stop":
            break
        if command == "put":
            server.store.put(obj)
        else:
            server.store.delete(obj)
    server.stop()


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and all its threads so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def changes(objects: list[dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """The next ordinary change, round the kinds that churn, for ever."""
    def of(kind: str) -> list[dict[str, Any]]:
        return [copy.deepcopy(o) for o in objects if o["kind"] == kind][:50]

    pods, bindings, services = of("Pod"), of("RoleBinding"), of("Service")
    policies, maps = of("NetworkPolicy"), of("ConfigMap")
    accounts = [o for o in objects if o["kind"] == "ServiceAccount"]
    n = {"i": 0}

    def pod() -> dict[str, Any]:
        obj = pods[n["i"] % len(pods)]
        obj["metadata"].setdefault("labels", {})["bench-touch"] = str(n["i"])
        return obj

    def binding() -> dict[str, Any]:
        obj = bindings[n["i"] % len(bindings)]
        ns = obj["metadata"]["namespace"]
        names = [a["metadata"]["name"] for a in accounts if a["metadata"].get("namespace") == ns] or ["default"]
        obj["subjects"] = [{"kind": "ServiceAccount", "name": names[n["i"] % len(names)], "namespace": ns}]
        return obj

    def service() -> dict[str, Any]:
        obj = services[n["i"] % len(services)]
        obj["spec"]["type"] = "LoadBalancer" if obj["spec"].get("type") != "LoadBalancer" else "ClusterIP"
        obj["spec"].pop("clusterIP", None)
        return obj

    def policy() -> dict[str, Any]:
        obj = policies[n["i"] % len(policies)]
        obj["spec"]["podSelector"] = {} if obj["spec"].get("podSelector") else {"matchLabels": {"app": "x"}}
        return obj

    def config() -> dict[str, Any]:
        obj = maps[n["i"] % len(maps)]
        obj.setdefault("data", {})["bench"] = str(n["i"])
        return obj

    makers = [m for m, items in ((pod, pods), (binding, bindings), (service, services), (policy, policies),
                                 (config, maps), (pod, pods), (service, services), (binding, bindings),
                                 (pod, pods)) if items]

    def next_change() -> dict[str, Any]:
        n["i"] += 1
        return makers[n["i"] % len(makers)]()

    return next_change


def marker(i: int, namespace: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"bench-marker-{i}", "namespace": namespace},
            "spec": {"containers": [{"name": "c", "image": "busybox:1.36", "securityContext": {"privileged": True}}]}}


def in_process(kubeconfig: Path, objects: list[dict[str, Any]], batches: int, per_batch: int) -> dict[str, Any]:
    """CPU per batch of the watch service's parts, fed batches directly (see the module docstring)."""
    from kspm_tui.scan import ScanSettings, load_ruleset
    from kspm_tui.sources.kubeconfig import connect
    from kspm_tui.sources.live import Collector
    from kspm_tui.sources.watch import Change
    from kspm_tui.watch_scan import WatchService

    connection = connect("bench", str(kubeconfig))
    settings = ScanSettings(context="bench", cluster_name="bench")
    service = WatchService(connection, settings, load_ruleset(settings), Collector(connection).run())
    service.start()
    next_change = changes(objects)
    parts: dict[str, list[float]] = {"apply": [], "evaluate": [], "publish": []}
    units = []
    try:
        for _ in range(batches):
            batch = [Change("MODIFIED", copy.deepcopy(next_change())) for _ in range(per_batch)]
            t0 = time.process_time()
            only = service._apply(batch)
            t1 = time.process_time()
            evaluation = service._evaluate(only)
            t2 = time.process_time()
            service._reevaluated(only, evaluation)
            t3 = time.process_time()
            parts["apply"].append(t1 - t0)
            parts["evaluate"].append(t2 - t1)
            parts["publish"].append(t3 - t2)
            units.append(-1 if only is None else len(only))
    finally:
        service.close()
    # the mean too: a few batches reach every workload (an ingress controller's Service) and the
    # median does not show them, while the CPU a watch uses is the mean times the batch rate
    return {"batches": batches, "changes_per_batch": per_batch,
            "cpu_ms_per_batch_median": {k: round(statistics.median(v) * 1000, 1) for k, v in parts.items()},
            "cpu_ms_per_batch_mean": {k: round(statistics.mean(v) * 1000, 1) for k, v in parts.items()},
            "full_re_evaluations": units.count(-1), "units_median": statistics.median(units),
            "units_mean": round(statistics.mean(units), 1), "units_max": max(units)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workloads", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=10.0, help="changes per second")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the cluster changes")
    parser.add_argument("--idle", type=float, default=20.0, help="idle seconds measured before the changes")
    parser.add_argument("--batches", type=int, default=0, help="also measure this many batches in process")
    parser.add_argument("--per-batch", type=int, default=3, help="changes per in-process batch (10/s, 0.3 s batches)")
    parser.add_argument("--reporter", action="store_true", help="measure `kspm-tui reporter` instead of the CLI watch")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    import yaml

    from bench.live_bench import cluster

    objects, generator = cluster(args.workloads)
    parent, server_end = multiprocessing.Pipe()
    server = multiprocessing.get_context("fork").Process(target=serve, args=(args.workloads, server_end, args.reporter),
                                                         daemon=True)
    server.start()
    info = parent.recv()
    config = Path(tempfile.mkstemp(suffix=".yaml")[1])
    config.write_text(yaml.safe_dump(info["kubeconfig"]))
    if args.reporter:  # its log on stderr: the first "applied" line says the first set is written
        env = {**os.environ, "KSPM_TUI_CONFIG_DIR": tempfile.mkdtemp(), "KSPM_TUI_DATA_DIR": tempfile.mkdtemp()}
        env.pop("KUBERNETES_SERVICE_HOST", None)
        proc = subprocess.Popen([sys.executable, "-m", "kspm_tui", "reporter", "--kubeconfig", str(config),
                                 "--context", "bench", "--listen", "127.0.0.1:0", "--write-qps", "1000",
                                 "--write-burst", "5000"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True, cwd=ROOT, env=env)
        output = proc.stderr
    else:
        proc = subprocess.Popen([sys.executable, "-m", "kspm_tui", "scan", "--context", "bench", "--watch",
                                 "--kubeconfig", str(config)], stdout=subprocess.PIPE,
                                stderr=open(os.environ.get("WATCH_BENCH_STDERR", os.devnull), "w"), text=True, cwd=ROOT)
        output = proc.stdout
    lines: queue.Queue[tuple[float, str]] = queue.Queue()
    threading.Thread(target=lambda: [lines.put((time.monotonic(), line)) for line in output or ()],
                     daemon=True).start()
    try:
        started = time.monotonic()
        initial = 0
        while True:  # the initial events (or the reporter's first writes) begin ...
            line = lines.get(timeout=600)[1]
            if not args.reporter or " applied, " in line:
                initial += 1
                break
        while True:  # ... and end
            try:
                lines.get(timeout=3)
                initial += 1
            except queue.Empty:
                break
        ready = time.monotonic() - started
        print(f"{info['objects']} objects, {initial} initial events after {ready:.1f}s", file=sys.stderr)
        c0, t0 = cpu_seconds(proc.pid), time.monotonic()
        time.sleep(args.idle)
        idle = (cpu_seconds(proc.pid) - c0) / (time.monotonic() - t0)
        namespace = next(o["metadata"]["namespace"] for o in objects if o["kind"] == "Deployment"
                         and not o["metadata"]["namespace"].startswith("kube-"))
        next_change = changes(objects)
        sent: dict[str, float] = {}
        c0, t0 = cpu_seconds(proc.pid), time.monotonic()
        count = int(args.seconds * args.rate)
        for i in range(count):
            due = t0 + i / args.rate
            time.sleep(max(0.0, due - time.monotonic()))
            if i % max(1, int(args.rate)) == 0:
                obj = marker(i, namespace)
                sent[obj["metadata"]["name"]] = time.monotonic()
            else:
                obj = next_change()
            parent.send(("put", obj))
        wall = time.monotonic() - t0
        churn = (cpu_seconds(proc.pid) - c0) / wall
        seen: dict[str, float] = {}
        events = 0
        deadline = time.monotonic() + (0 if args.reporter else 30)
        while len(seen) < len(sent) and time.monotonic() < deadline:
            try:
                at, line = lines.get(timeout=1)
            except queue.Empty:
                continue
            events += 1
            event = json.loads(line)
            name = event["finding"]["name"]
            if name in sent and event["finding"]["rule"] == "K8S-PRIVILEGED" and event["event"] == "finding opened":
                seen[name] = at
        latencies = sorted(seen[name] - sent[name] for name in seen)
        proc.send_signal(signal.SIGTERM)  # as Ctrl-C; SIGINT is ignored when the bench runs in the background
        proc.wait(20)
        parts = in_process(config, objects, args.batches, args.per_batch) if args.batches else None
    finally:
        proc.send_signal(signal.SIGTERM)  # as Ctrl-C; SIGINT is ignored when the bench runs in the background
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        parent.send(("stop", None))
        server.join(10)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT,
                            check=False).stdout.strip()
    report = {
        "commit": commit, "subject": "reporter" if args.reporter else "cli", "workloads": args.workloads, "objects": info["objects"], "generator": generator,
        "rate": args.rate, "seconds": round(wall, 1), "changes": count, "initial_events": initial,
        "cores_idle": round(idle, 3), "cores_churn": round(churn, 3),
        "markers": len(sent), "markers_seen": len(seen), "events_after_churn": events,
        "latency_s": {"p50": round(statistics.median(latencies), 2) if latencies else None,
                      "p95": round(latencies[int(0.95 * (len(latencies) - 1))], 2) if latencies else None,
                      "max": round(latencies[-1], 2) if latencies else None},
        "in_process": parts,
        "load_average": os.getloadavg(),
    }
    from bench.live_bench import emit

    return emit(report, args.json)


if __name__ == "__main__":
    sys.exit(main())
