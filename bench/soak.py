"""Soak: the CLI watch and the explorer's live watch under churn and faults, side by side.

A synthetic cluster (`live_bench.cluster`) is served by the test API server in its own
process, which also drives the churn: Deployments flipping `privileged` (each flip must open
or resolve one K8S-PRIVILEGED finding), bare Pods created and deleted, RoleBindings and
Services edited (graph-wide changes) — and the faults: a dropped connection, 5xx/429 answers,
etcd compaction (410 Gone, every kind relists) and two outages. Two subjects watch it:

- cli: `kspm-tui scan --context soak --watch --heartbeat 30s` (events on stdout, lines on stderr);
- explorer: the real Textual app, headless (`run_test`), watch on (`w`), a key pressed every
  second (`down`), its response time measured.

Sampled every few seconds from /proc: RSS and CPU time (user+system; CPU, not wall time,
since the machine is shared). Reported: RSS slope (MB/hour, least squares after the first
fifth), CPU cores used, event latency (flip → event, from the CLI's JSON lines), key response
p50/p95, stderr lines per fault kind, and whether each subject's open findings at the end equal
a fresh scan of the same server.

    python bench/soak.py [--minutes 30] [--workloads 1000] [--rate 10] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.live_bench import cluster, emit  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
SETTLE_SECONDS = 40  # after the churn: for relists and the last batches to land


# -- the server and its churn ---------------------------------------------------------------
def serve(workloads: int, rate: float, seconds: float, conn: Any) -> None:
    """Server process: serve the cluster; on "churn", change it for `seconds`; report the flips."""
    from tests.apiserver.server import ApiServer

    objects, _ = cluster(workloads)
    server = ApiServer(objects).start()
    conn.send({"objects": len(objects), "kubeconfig": server.kubeconfig(context="soak")})
    assert conn.recv() == "churn"
    conn.send(churn(server, rate, seconds))
    assert conn.recv() == "stop"
    server.stop()


def churn(server: Any, rate: float, seconds: float) -> dict[str, Any]:
    """Change the cluster at `rate` per second with faults on a schedule; the flips and faults done."""
    store, rng = server.store, random.Random(7)

    def of_kind(kind: str) -> dict[Any, dict[str, Any]]:
        return next((objs for r, objs in store.objects.items() if r.kind == kind), {})

    def current(kind: str, key: Any) -> dict[str, Any]:
        """A copy of the object as served now (the store's own dicts are never edited in place)."""
        return json.loads(json.dumps(of_kind(kind)[key]))

    deployments, bindings, services = (list(of_kind(k)) for k in ("Deployment", "RoleBinding", "Service"))
    flips: list[dict[str, Any]] = []
    faults: list[tuple[float, str]] = []
    start = time.monotonic()
    outages = [seconds / 3, 2 * seconds / 3]
    outage_len = min(30.0, seconds / 20)
    plan = {"drop": seconds / 7, "errors": seconds / 5, "compact": seconds / 4}
    next_fault = dict(plan)
    n = 0
    while (elapsed := time.monotonic() - start) < seconds:
        if outages and elapsed >= outages[0]:
            outages.pop(0)
            faults.append((time.time(), "outage"))
            server.dead = True
            time.sleep(outage_len)
            server.dead = False
            continue
        for fault, every in plan.items():
            if elapsed >= next_fault[fault]:
                next_fault[fault] += every
                faults.append((time.time(), fault))
                if fault == "drop":
                    server.dead = True
                    time.sleep(0.3)
                    server.dead = False
                elif fault == "errors":
                    server.faults.errors["pods"] = [500, 429]
                    server.faults.errors["deployments"] = [503]
                    store.compact()  # so the next requests meet them
                else:
                    store.compact()
        n += 1
        pick = rng.random()
        if pick < 0.6:
            dep = current("Deployment", rng.choice(deployments))
            container = dep["spec"]["template"]["spec"]["containers"][0]
            now = not container.get("securityContext", {}).get("privileged", False)
            container.setdefault("securityContext", {})["privileged"] = now
            store.put(dep)
            flips.append({"t": time.time(), "name": dep["metadata"]["name"],
                          "namespace": dep["metadata"]["namespace"], "privileged": now})
        elif pick < 0.8:
            name = f"soak-pod-{n % 50}"
            ref = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"}}
            if ("default", name) in of_kind("Pod"):
                store.delete(ref)
            else:
                store.put({**ref, "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}})
        elif pick < 0.9 and bindings:
            binding = current("RoleBinding", rng.choice(bindings))
            binding.setdefault("metadata", {}).setdefault("labels", {})["soak"] = str(n)
            store.put(binding)
        else:
            service = current("Service", rng.choice(services))
            service["metadata"].setdefault("labels", {})["soak"] = str(n)
            store.put(service)
        time.sleep(1 / rate)
    return {"flips": flips, "faults": faults, "changes": n, "outage_s": outage_len}


# -- measuring the subjects ------------------------------------------------------------------
def proc_sample(pid: int) -> tuple[float, float]:
    """(RSS MB, CPU seconds user+system) of a process."""
    rss = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return rss, (int(fields[11]) + int(fields[12])) / TICK


def slope_fit(samples: list[tuple[float, float, float]], skip: float = 0.2) -> tuple[float, float]:
    """(slope, its standard error), MB/hour, over the samples after the first `skip` of them:
    a slope within about two standard errors of 0 is flat for this run's noise."""
    kept = samples[int(len(samples) * skip):]
    if len(kept) < 3:
        return 0.0, 0.0
    xs, ys = [s[0] for s in kept], [s[1] for s in kept]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs) or 1.0
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den
    residual = sum((y - my - slope * (x - mx)) ** 2 for x, y in zip(xs, ys)) / (len(kept) - 2)
    return slope * 3600, (residual / den) ** 0.5 * 3600


def rss_figures(samples: list[tuple[float, float, float]]) -> dict[str, Any]:
    """RSS at start and end, slope after the first fifth (± its standard error) and over the
    second half (after the early relists' high-water marks), and every sample (t s, RSS MB)."""
    slope, error = slope_fit(samples)
    return {"rss_start_mb": round(samples[0][1], 1), "rss_end_mb": round(samples[-1][1], 1),
            "rss_max_mb": round(max(s[1] for s in samples), 1),
            "rss_slope_mb_per_h": round(slope, 1), "rss_slope_se_mb_per_h": round(error, 1),
            "rss_slope_second_half_mb_per_h": round(slope_fit(samples, 0.5)[0], 1),
            **dict(zip(("rss_slope_last_third_mb_per_h", "rss_slope_last_third_se_mb_per_h"),
                       (round(v, 1) for v in slope_fit(samples, 2 / 3)))),
            "rss_samples": [(round(t), round(rss, 1)) for t, rss, _ in samples]}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def explorer_child(kubeconfig: str, out: str, ready: str, stop: str) -> None:
    """The explorer, headless, watching; presses a key every second until `stop` exists."""
    import asyncio
    import gc

    from kspm_tui.model import Status
    from kspm_tui.target import Target
    from kspm_tui.tui.app import KspmApp

    async def run() -> None:
        app = KspmApp(Target("context", context="soak", kubeconfig=kubeconfig))
        keys: list[float] = []
        freeze: list[int] = []
        async with app.run_test(size=(150, 45)) as pilot:
            while app.scanned is None or app.scanning:
                await pilot.pause(0.2)
            await pilot.press("w")
            while app.live_watch.service is None:
                await pilot.pause(0.2)
            Path(ready).touch()
            while not Path(stop).exists():
                t0 = time.perf_counter()
                await pilot.press("down")
                await pilot.pause()
                keys.append(time.perf_counter() - t0)
                freeze.append(gc.get_freeze_count())
                await asyncio.sleep(1)
            failing = sorted(f.fingerprint for f in app.scanned.result.findings if f.status is Status.fail)
            Path(out).write_text(json.dumps({"keys": keys, "freeze": freeze, "failing": failing,
                                             "status": app.status_line()}))
            app.live_watch.stop()

    asyncio.run(run())


def fault_lines(stderr: str) -> dict[str, int]:
    kinds = {"lost": r"lost the API server", "recovered": r"answers again", "relisted": r"relisted ",
             "kind failed": r"the watch of \S+ failed \(", "resumed": r"resumed after",
             "heartbeat": r"heartbeat: ", "unexpected": r"failed unexpectedly|applying .* failed"}
    return {k: len(re.findall(p, stderr)) for k, p in kinds.items()}


def relist_rounds(faults: list[tuple[float, str]], lines: list[tuple[float, str]]) -> list[tuple[float, float]]:
    """(start, end) of each relist round: from a fault that makes every kind relist (compaction,
    5xx/429 with compaction) to the last "relisted" line before the next fault."""
    rounds = []
    for n, (start, fault) in enumerate(faults):
        if fault not in ("compact", "errors"):
            continue
        until = faults[n + 1][0] if n + 1 < len(faults) else float("inf")
        ends = [t for t, line in lines if start <= t < until and "relisted " in line]
        rounds.append((start, max(ends, default=start)))
    return rounds


def latency_by_phase(flip_times: list[float], latencies: list[float], faults: list[tuple[float, str]],
                     outage_s: float, lines: list[tuple[float, str]]) -> dict[str, Any]:
    """Event latency p50/p95 of the flips made during an outage, during a relist round, and the
    rest: which of them sets the overall p95. Also each relist round's length (wall time)."""
    rounds = relist_rounds(faults, lines)
    outages = [(t, t + outage_s) for t, fault in faults if fault == "outage"]
    phases: dict[str, list[float]] = {"outage": [], "relist round": [], "other": []}
    for t, latency in zip(flip_times, latencies):
        phase = ("outage" if any(a <= t < b for a, b in outages)
                 else "relist round" if any(a <= t <= b for a, b in rounds) else "other")
        phases[phase].append(latency)
    return {**{name: {"flips": len(values), "p50_s": round(percentile(values, 0.5), 2),
                      "p95_s": round(percentile(values, 0.95), 2)} for name, values in phases.items()},
            "relist_round_s": [round(b - a, 1) for a, b in rounds]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--workloads", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=10, help="changes per second")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--explorer-child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.explorer_child:
        explorer_child(*args.explorer_child)
        return 0

    seconds = args.minutes * 60
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT,
                            check=False).stdout.strip()  # the code the subjects run (HEAD may move meanwhile)
    parent, server_end = multiprocessing.Pipe()
    server = multiprocessing.get_context("fork").Process(
        target=serve, args=(args.workloads, args.rate, seconds, server_end), daemon=True)
    server.start()
    info = parent.recv()
    work = Path(tempfile.mkdtemp(prefix="kspm-soak-"))
    config = work / "kubeconfig"
    import yaml

    config.write_text(yaml.safe_dump(info["kubeconfig"]))
    env = {**os.environ, "KUBECONFIG": str(config), "KSPM_TUI_CONFIG_DIR": str(work / "config"),
           "KSPM_TUI_DATA_DIR": str(work / "data")}
    print(f"serving {info['objects']} objects ({args.workloads} workloads); soaking {args.minutes:g} min "
          f"at {args.rate:g} changes/s", file=sys.stderr)

    cli = subprocess.Popen([sys.executable, "-m", "kspm_tui", "scan", "--context", "soak", "--watch",
                            "--heartbeat", "30s", "--no-history"], cwd=ROOT, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    cli_out: list[tuple[float, dict[str, Any]]] = []
    cli_err: list[str] = []
    cli_err_at: list[float] = []  # when each stderr line came (to place relist rounds in time)
    threading.Thread(target=lambda: [cli_out.append((time.time(), json.loads(line))) for line in cli.stdout],
                     daemon=True).start()
    threading.Thread(target=lambda: [(cli_err.append(line), cli_err_at.append(time.time())) for line in cli.stderr],
                     daemon=True).start()
    ready, stop, out = work / "ready", work / "stop", work / "explorer.json"
    explorer = subprocess.Popen([sys.executable, __file__, "--explorer-child", str(config), str(out), str(ready),
                                 str(stop)], cwd=ROOT, env=env)
    while not (ready.exists() and any("watching context" in line for line in cli_err)):
        if cli.poll() is not None or explorer.poll() is not None:
            raise SystemExit("a subject ended before watching:\n" + "".join(cli_err))
        time.sleep(0.5)

    samples: dict[str, list[tuple[float, float, float]]] = {"cli": [], "explorer": []}
    pids = {"cli": cli.pid, "explorer": explorer.pid}
    t0 = time.monotonic()
    parent.send("churn")
    done: dict[str, Any] = {}
    threading.Thread(target=lambda: done.update(parent.recv()), daemon=True).start()
    settle_until: float | None = None
    while settle_until is None or time.monotonic() < settle_until:
        for name, pid in pids.items():
            rss, cpu = proc_sample(pid)
            samples[name].append((time.monotonic() - t0, rss, cpu))
        if done and settle_until is None:
            settle_until = time.monotonic() + SETTLE_SECONDS
        time.sleep(5)

    from kspm_tui.model import Status
    from kspm_tui.scan import ScanSettings, run_scan
    from kspm_tui.target import Target

    os.environ.update(env)
    fresh = run_scan(Target("context", context="soak", kubeconfig=str(config)), ScanSettings(), history_keep=None)
    want = {f.fingerprint for f in fresh.result.findings if f.status is Status.fail}

    stop.touch()
    cli.send_signal(signal.SIGTERM)  # as a supervisor stops it (SIGINT may be ignored in the background)
    for name, subject in (("explorer", explorer), ("cli", cli)):
        try:
            subject.wait(300)
        except subprocess.TimeoutExpired:
            print(f"{name} did not stop: killed", file=sys.stderr)
            subject.kill()
    parent.send("stop")
    shown = json.loads(out.read_text())

    open_cli: set[str] = set()
    for _, event in cli_out:
        (open_cli.add if event["event"] == "finding opened" else open_cli.discard)(event["finding"]["fingerprint"])
    latencies, flip_times = [], []
    events = [(when, e) for when, e in cli_out if e["finding"]["rule"] == "K8S-PRIVILEGED"
              and e["finding"]["kind"] == "Deployment"]
    for flip in done["flips"]:
        wanted = "finding opened" if flip["privileged"] else "finding resolved"
        for when, event in events:
            if when >= flip["t"] and event["event"] == wanted and event["finding"]["name"] == flip["name"] \
                    and event["finding"]["namespace"] == flip["namespace"]:
                latencies.append(when - flip["t"])
                flip_times.append(flip["t"])
                break
    span = {name: s[-1][0] - s[0][0] for name, s in samples.items()}
    results = {
        "minutes": args.minutes, "workloads": args.workloads, "objects": info["objects"], "rate": args.rate,
        "changes": done["changes"], "flips": len(done["flips"]), "faults": [f for _, f in done["faults"]],
        "fresh_scan_open": len(want),
        "cli": {**rss_figures(samples["cli"]),
                "cores": round((samples["cli"][-1][2] - samples["cli"][0][2]) / span["cli"], 3),
                "final_equals_fresh_scan": open_cli == want, "open": len(open_cli),
                "missing": len(want - open_cli), "extra": len(open_cli - want),
                "event_latency_p50_s": round(percentile(latencies, 0.5), 2),
                "event_latency_p95_s": round(percentile(latencies, 0.95), 2),
                "flips_seen": len(latencies),
                "event_latency_by_phase": latency_by_phase(flip_times, latencies, done["faults"], done["outage_s"],
                                                           list(zip(cli_err_at, cli_err))),
                "stderr_lines": fault_lines("".join(cli_err)),
                "exit": cli.returncode},
        "explorer": {**rss_figures(samples["explorer"]),
                     "cores": round((samples["explorer"][-1][2] - samples["explorer"][0][2]) / span["explorer"], 3),
                     "final_equals_fresh_scan": set(shown["failing"]) == want,
                     "missing": len(want - set(shown["failing"])), "extra": len(set(shown["failing"]) - want),
                     "key_p50_ms": round(percentile(shown["keys"], 0.5) * 1000, 1),
                     "key_p95_ms": round(percentile(shown["keys"], 0.95) * 1000, 1),
                     "freeze_count_first_last": [shown["freeze"][0], shown["freeze"][-1]] if shown["freeze"] else [],
                     "status": shown["status"]},
    }
    (work / "cli.stderr").write_text("".join(cli_err))
    results["logs"] = str(work)
    results["commit"] = commit
    results["load_average"] = os.getloadavg()
    emit(results, args.json)
    return 0 if results["cli"]["final_equals_fresh_scan"] and results["explorer"]["final_equals_fresh_scan"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
