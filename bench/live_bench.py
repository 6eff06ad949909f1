"""Live scan of a synthetic 10k-workload cluster vs the floor, measured in the same run.

The cluster is served by the test API server (tests/apiserver) in its own process. Then, each
in a fresh Python process so peak memory is its own:

- floor: a bare, sequential, paginated GET (limit 500) + orjson parse of every kind the live
  scan lists (same Accept headers), keeping every parsed page;
- live: what `kspm-tui scan --context` does after start-up: load rules, discover, list all
  kinds concurrently, build the snapshot, evaluate, build the result (in process);
- cli: the whole CLI process as a user runs it (`python -m kspm_tui scan --context bench -o json
  --output FILE`: interpreter start-up, imports, the scan, the report written, the history
  entry saved to a throwaway config directory), and again with `--no-history`;
- steps (`--steps`, once): the same CLI scan run inside a measuring process, with the CPU time
  (`time.process_time`) of each step (STEPS): where the whole process's time goes.

Reports wall time, CPU time (user + system, from `wait4`) and peak RSS of each (best of
--repeat runs) and the ratios against the targets (time ≤ 1.5× floor, peak memory ≤ 2× floor;
the issue's whole-process target is ≤ 1.5× for both). On a shared machine the CPU-time ratio
is the steadier figure. Objects come from the bench generator (`bench/generate.py`) when it is
present, else from a simple built-in one.

    python bench/live_bench.py [--workloads 10000] [--repeat 3] [--steps] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TIME_TARGET = 1.5
MEMORY_TARGET = 2.0


# -- the cluster ---------------------------------------------------------------------------
def simple_cluster(workloads: int) -> list[dict[str, Any]]:
    """Fallback generator: Deployments with a ReplicaSet and two Pods each, plus a Service and ConfigMap."""
    objects: list[dict[str, Any]] = [{"apiVersion": "v1", "kind": "Namespace",
                                      "metadata": {"name": "kube-system", "uid": "bench-kube-system"}}]
    for i in range(workloads):
        ns = f"team-{i // 100}"
        if i % 100 == 0:
            objects.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        name = f"app-{i}"
        template = {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{
            "name": "main", "image": f"registry.example.com/{ns}/{name}:1.{i % 17}",
            "env": [{"name": "INDEX", "value": str(i)}],
            "resources": {"requests": {"cpu": "100m", "memory": f"{64 + i % 8 * 32}Mi"}},
            "securityContext": {"privileged": i % 13 == 0, "runAsNonRoot": i % 3 != 0}}]}}
        uid = f"uid-deploy-{i}"
        objects.append({"apiVersion": "apps/v1", "kind": "Deployment",
                        "metadata": {"name": name, "namespace": ns, "uid": uid},
                        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}}, "template": template}})
        rs = {"name": f"{name}-7c9", "namespace": ns, "uid": f"uid-rs-{i}", "ownerReferences": [
            {"apiVersion": "apps/v1", "kind": "Deployment", "name": name, "uid": uid, "controller": True}]}
        objects.append({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": rs,
                        "spec": {"selector": {"matchLabels": {"app": name}}, "template": template}})
        for p in range(2):
            objects.append({"apiVersion": "v1", "kind": "Pod", "metadata": {
                "name": f"{name}-7c9-{p}", "namespace": ns, "labels": {"app": name}, "ownerReferences": [
                    {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs["name"], "uid": rs["uid"],
                     "controller": True}]}, "spec": template["spec"], "status": {"phase": "Running"}})
        objects.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
                        "spec": {"selector": {"app": name}, "ports": [{"port": 80}]}})
        objects.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns},
                        "data": {"config.yaml": f"index: {i}\n" * 5}})
    return objects


def cluster(workloads: int) -> tuple[list[dict[str, Any]], str]:
    try:
        from bench.generate import build
    except ImportError:
        return simple_cluster(workloads), "live_bench.simple_cluster"
    files, _ = build(workloads)
    return [obj for objs in files.values() for obj in objs], "bench/generate.py"


def serve(workloads: int, conn: Any) -> None:
    """Server process: build the cluster, serve it, report where, wait to be told to stop."""
    from tests.apiserver.server import ApiServer

    objects, generator = cluster(workloads)
    server = ApiServer(objects).start()
    conn.send({"url": server.url, "ca": server.ca_pem.decode(), "token": server.token,
               "objects": len(objects), "generator": generator,
               "kubeconfig": server.kubeconfig(context="bench")})
    conn.recv()
    server.stop()


# -- measured children ------------------------------------------------------------------------
def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def floor(spec: dict[str, Any]) -> dict[str, Any]:
    import orjson
    import urllib3

    ca = Path(tempfile.mkstemp(suffix=".pem")[1])
    ca.write_text(spec["ca"])
    http = urllib3.PoolManager(ca_certs=str(ca))
    headers = {"Authorization": f"Bearer {spec['token']}"}
    baseline = rss_kb()
    t0 = time.perf_counter()
    pages, items = [], 0
    for path, accept in spec["lists"]:
        token = ""
        while True:
            url = f"{spec['url']}{path}?limit=500" + (f"&continue={token}" if token else "")
            page = orjson.loads(http.request("GET", url, headers={**headers, "Accept": accept}).data)
            pages.append(page)
            items += len(page.get("items") or ())
            token = (page.get("metadata") or {}).get("continue") or ""
            if not token:
                break
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "items": items, "baseline_kb": baseline,
            "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


def live(spec: dict[str, Any]) -> dict[str, Any]:
    import yaml

    from kspm_tui.scan import ScanSettings, load_ruleset, scan
    from kspm_tui.sources.kubeconfig import connect
    from kspm_tui.sources.live import Collector

    config = Path(tempfile.mkstemp(suffix=".yaml")[1])
    config.write_text(yaml.safe_dump(spec["kubeconfig"]))
    baseline = rss_kb()
    t0 = time.perf_counter()
    connection = connect("bench", str(config))
    settings = ScanSettings(context="bench", cluster_name="bench", server=connection.server)
    ruleset = load_ruleset(settings)
    t_rules = time.perf_counter()
    collected = Collector(connection).run().collected
    t_collect = time.perf_counter()
    collect_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = scan(collected, settings, ruleset)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "rules_s": t_rules - t0, "collect_s": t_collect - t_rules,
            "evaluate_s": time.perf_counter() - t_collect, "objects": result.summary.objects,
            "workloads": result.summary.workloads, "findings": len(result.findings),
            "rules": len(ruleset.rules), "baseline_kb": baseline, "collect_peak_kb": collect_peak,
            "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


def child(mode: str, spec: dict[str, Any]) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, f"--{mode}-child"], input=json.dumps(spec),
                          capture_output=True, text=True, cwd=ROOT, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{mode} run failed:\n{proc.stderr}")
    return json.loads(proc.stdout.splitlines()[-1])


def whole_cli(spec: dict[str, Any], *extra: str) -> dict[str, Any]:
    """The CLI as its own process: wall time, CPU time and peak RSS from wait4."""
    import yaml

    with tempfile.TemporaryDirectory() as home:
        config = Path(home) / "kubeconfig.yaml"
        config.write_text(yaml.safe_dump(spec["kubeconfig"]))
        env = {**os.environ, "XDG_CONFIG_HOME": str(Path(home) / "config"), "XDG_DATA_HOME": str(Path(home) / "data"),
               "XDG_STATE_HOME": str(Path(home) / "state"), "HOME": home}
        errors = Path(home) / "stderr.txt"
        t0 = time.perf_counter()
        with errors.open("wb") as stderr:
            proc = subprocess.Popen([sys.executable, "-m", "kspm_tui", "scan", "--context", "bench", "--kubeconfig",
                                     str(config), "-o", "json", "--output", str(Path(home) / "report.json"), *extra],
                                    cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
            _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1, 4):  # findings at or above --fail-on exit 1; a partial scan 4
            raise SystemExit(f"cli run failed ({code}):\n{errors.read_text()}")
    return {"seconds": seconds, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_kb": usage.ru_maxrss,
            "args": list(extra)}


# (module, attribute, step): what the per-step table times, each call's CPU added to its step.
# Nested steps (indented) are inside the one above them; "interning" runs on the listing
# threads, so it is timed with each thread's own clock and summed.
STEPS = (
    ("kspm_tui.scan", "load_ruleset", "rule pack"),
    ("kspm_tui.sources.live:Collector", "run", "discovery + listing"),
    ("kspm_tui.sources.live", "interned", "  interning listed values"),
    ("kspm_tui.scan", "Snapshot", "snapshot"),
    ("kspm_tui.scan", "evaluate_snapshot", "evaluation"),
    ("kspm_tui.engine.graph_scopes:GraphScopes", "run", "  graph (attack paths, subjects)"),
    ("kspm_tui.fixes.safety:Assessor", "assess_all", "  fix verdicts"),
    ("kspm_tui.scan", "result_of", "result (sort, summary, inventory)"),
    ("kspm_tui.scan", "save_history", "history entry saved"),
    ("kspm_tui.cli.scan", "atomic_write", "JSON report written"),
)


def steps(spec: dict[str, Any]) -> dict[str, Any]:
    """The CLI scan run in this process with `time.process_time()` around each step (STEPS)."""
    import importlib

    started = resource.getrusage(resource.RUSAGE_SELF)
    from kspm_tui import cli

    spent: dict[str, float] = {}
    for where, name, step in STEPS:
        module, _, cls = where.partition(":")
        owner = getattr(importlib.import_module(module), cls) if cls else importlib.import_module(module)
        clock = time.thread_time if step.strip().startswith("interning") else time.process_time
        setattr(owner, name, _timed(getattr(owner, name), step, spent, clock))
    with tempfile.TemporaryDirectory() as home:
        config = Path(home) / "kubeconfig.yaml"
        import yaml

        config.write_text(yaml.safe_dump(spec["kubeconfig"]))
        for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
            os.environ[var] = str(Path(home) / var.lower())
        code = cli.main(["scan", "--context", "bench", "--kubeconfig", str(config), "-o", "json",
                         "--output", str(Path(home) / "report.json")])
    usage = resource.getrusage(resource.RUSAGE_SELF)
    total = usage.ru_utime + usage.ru_stime
    top = sum(v for k, v in spent.items() if not k.startswith(" "))
    return {"exit_code": code, "cpu_s": round(total, 3),
            "before_main_cpu_s": round(started.ru_utime + started.ru_stime, 3),
            "steps_cpu_s": {step: round(spent.get(step, 0.0), 3) for _, _, step in STEPS},
            "rest_cpu_s": round(total - top, 3), "peak_kb": usage.ru_maxrss}


def _timed(func: Any, step: str, spent: dict[str, float], clock: Any) -> Any:
    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = clock()
        try:
            return func(*args, **kwargs)
        finally:
            spent[step] = spent.get(step, 0.0) + clock() - t0
    return timed


def floor_process(spec: dict[str, Any]) -> dict[str, Any]:
    """The floor as its own process too, so both sides pay interpreter start-up and imports."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "--floor-child"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    out, err = proc.communicate(json.dumps(spec).encode())
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"floor run failed:\n{err.decode()}")
    return {**json.loads(out.decode().splitlines()[-1]), "process_seconds": seconds}


def list_specs(info: dict[str, Any]) -> list[tuple[str, str]]:
    """The (path, Accept) of every kind the live scan lists, from discovery against the server."""
    import yaml

    from kspm_tui.sources.apiclient import ApiReader
    from kspm_tui.sources.kubeconfig import connect
    from kspm_tui.sources.live import Discovery

    config = Path(tempfile.mkstemp(suffix=".yaml")[1])
    config.write_text(yaml.safe_dump(info["kubeconfig"]))
    connection = connect("bench", str(config))
    resources, _ = Discovery(ApiReader(connection)).resources()
    connection.close()
    return [(r.list_path, r.accept) for r in resources]


def emit(report: dict[str, Any], path: Path | None) -> int:
    """Print a benchmark's figures as JSON and, with --json, keep them in `path`."""
    text = json.dumps(report, indent=2)
    print(text)
    if path:
        path.write_text(text + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workloads", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--floor-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--steps", action="store_true",
                        help="also run the CLI once in process with the CPU time of each step (`steps`)")
    parser.add_argument("--live-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--steps-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.floor_child or args.live_child or args.steps_child:
        spec = json.loads(sys.stdin.read())
        print(json.dumps((floor if args.floor_child else live if args.live_child else steps)(spec)))
        return 0

    parent, server_end = multiprocessing.Pipe()
    server = multiprocessing.get_context("fork").Process(target=serve, args=(args.workloads, server_end), daemon=True)
    started = time.perf_counter()
    server.start()
    info = parent.recv()
    print(f"serving {info['objects']} objects ({args.workloads} workloads, {info['generator']}) "
          f"in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    info["lists"] = list_specs(info)
    floors, lives, clis, bare = [], [], [], []
    load = [os.getloadavg()]  # wall ratios mean little on a busy machine: say how busy it was
    try:
        for i in range(args.repeat):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            floors.append(floor_process(info))
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            floors[-1]["cpu_s"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
            lives.append(child("live", info))
            clis.append(whole_cli(info))
            bare.append(whole_cli(info, "--no-history"))
            print(f"run {i + 1}: floor {floors[-1]['process_seconds']:.2f}s ({floors[-1]['cpu_s']:.2f}s CPU) "
                  f"{floors[-1]['peak_kb'] / 1024:.0f} MiB, live in process {lives[-1]['seconds']:.2f}s "
                  f"{lives[-1]['peak_kb'] / 1024:.0f} MiB, cli {clis[-1]['seconds']:.2f}s ({clis[-1]['cpu_s']:.2f}s "
                  f"CPU) {clis[-1]['peak_kb'] / 1024:.0f} MiB, cli --no-history {bare[-1]['seconds']:.2f}s "
                  f"({bare[-1]['cpu_s']:.2f}s CPU) {bare[-1]['peak_kb'] / 1024:.0f} MiB, "
                  f"load average {os.getloadavg()[0]:.1f}", file=sys.stderr)
            load.append(os.getloadavg())
        stepped = child("steps", info) if args.steps else None
    finally:
        parent.send("stop")
        server.join(10)
    best_floor = min(floors, key=lambda r: r["seconds"])
    best_live = min(lives, key=lambda r: r["seconds"])
    floor_peak = min(r["peak_kb"] for r in floors)
    live_peak = min(r["peak_kb"] for r in lives)
    floor_work = min(r["peak_kb"] - r["baseline_kb"] for r in floors)
    live_work = min(r["peak_kb"] - r["baseline_kb"] for r in lives)
    report = {
        "workloads": args.workloads, "objects_served": info["objects"], "generator": info["generator"],
        "kinds": len(info["lists"]), "cpus": os.cpu_count(), "repeat": args.repeat,
        "load_average": [[round(x, 2) for x in one] for one in load],  # 1/5/15 min: at start, after each run
        "floor": best_floor, "live": best_live,
        "time_ratio": round(best_live["seconds"] / best_floor["seconds"], 2),
        "peak_rss_ratio": round(live_peak / floor_peak, 2),
        "peak_above_baseline_ratio": round(live_work / floor_work, 2),
        "targets": {"time_ratio": TIME_TARGET, "peak_rss_ratio": MEMORY_TARGET},
    }
    report["meets_targets"] = report["time_ratio"] <= TIME_TARGET and report["peak_rss_ratio"] <= MEMORY_TARGET
    floor_process_s = min(r["process_seconds"] for r in floors)
    floor_cpu = min(r["cpu_s"] for r in floors)
    for name, runs in (("cli", clis), ("cli_no_history", bare)):
        best = min(runs, key=lambda r: r["seconds"])
        report[name] = {**best, "time_ratio": round(best["seconds"] / floor_process_s, 2),
                        "cpu_ratio": round(min(r["cpu_s"] for r in runs) / floor_cpu, 2),
                        "peak_rss_ratio": round(min(r["peak_kb"] for r in runs) / floor_peak, 2)}
    report["floor_process"] = {"seconds": floor_process_s, "cpu_s": floor_cpu}
    if stepped is not None:
        report["steps"] = stepped
    return emit(report, args.json)


if __name__ == "__main__":
    sys.exit(main())
