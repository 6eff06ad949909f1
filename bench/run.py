"""One command: scan time and memory next to the YAML parse floor, per cluster, and cold start.

    python bench/run.py [--clusters 1000,10000,heavy:10000] [--repeat N]

For every cluster (N workloads of `bench/generate.py`'s default shape, or `heavy:N` for its
findings-heavy shape) the files are generated (or reused from `bench/.cache/`), then each
measurement runs in its own fresh Python process, so that its CPU time and peak RSS (both
from `wait4`) belong to that measurement alone. CPU time (user + system) is the figure: the
machine is shared, and wall time there includes waiting for a core; wall is recorded too.

- floor (the reference): `yaml.load_all(file, Loader=yaml.CSafeLoader)` over every file with
  Python's cyclic garbage collector off, keeping the documents, nothing else: the least a
  Python tool reading this YAML with the stock libyaml loader can do;
- floor, GC on (second column): the same with the collector on, as a naive tool runs; most of
  its time is the collector re-walking the growing heap;
- scan: `python -m kspm_tui scan DIR -o json --output FILE --no-cache`, the real CLI with the
  full built-in rule pack: reading, parsing, snapshot, evaluation, the JSON report written;
- scan, cached: the same scan re-run with the parse cache filled by a first run (the re-open
  of an unchanged folder); the filling run is recorded as "scan, cache cold";
- rules: loading and compiling the built-in rule pack (target < 0.3 s);
- cold start: `--version`, `--help` and `scan --demo` (with and without the parse cache, and
  with its bytecode cached), next to a bare interpreter, and the heaviest imports of
  `scan --demo` (`-X importtime`);
- explorer: `kspm-tui DIR` in tmux, time (wall and CPU) to the first namespace row and to the
  judged overview (`bench/tui_bench.py`; `--no-explorer` skips it; default shape only).

Targets: scan CPU ≤ 0.8× the GC-off floor's; peak RSS ≤ 1.2× its; `scan --demo` ≤ 0.4 s CPU.
The table and a JSON file under `bench/results/` hold every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402
import tui_bench  # noqa: E402

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
TIME_TARGET = 0.8  # scan CPU ÷ GC-off floor CPU
MEMORY_TARGET = 1.2  # scan peak RSS ÷ GC-off floor peak RSS
RULES_TARGET_S = 0.3
DEMO_TARGET_S = 0.4

FLOOR = """
import gc, sys, yaml
from pathlib import Path
if sys.argv[2:] == ["--no-gc"]:
    gc.disable()
docs = []
for path in sorted(Path(sys.argv[1]).rglob("*.yaml")):
    with open(path, encoding="utf-8") as fh:
        docs.extend(yaml.load_all(fh, Loader=yaml.CSafeLoader))
"""

RULES = """
import sys, time
from pathlib import Path
t0 = time.perf_counter()
from kspm_tui.scan import ScanSettings, load_ruleset
t1 = time.perf_counter()
ruleset = load_ruleset(ScanSettings(rules_dirs=[Path(p) for p in sys.argv[1:]]), parse_cache=False)  # parsed
t2 = time.perf_counter()
print(t2 - t1, t1 - t0, len(ruleset.rules), len(ruleset.errors))
"""


def measure(argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run one child process: its CPU seconds, wall seconds, peak RSS (MB) and stdout."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if code not in (0, 1, 2):
        raise SystemExit(f"{argv[:4]} failed with exit code {code}:\n{stderr}")
    return {"cpu_s": round(usage.ru_utime + usage.ru_stime, 3), "wall_s": round(wall, 3),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1), "stdout": stdout, "stderr": stderr}


def best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the least CPU time (what the code costs, least disturbed by the others)."""
    return {k: v for k, v in min(runs, key=lambda r: r["cpu_s"]).items() if k not in ("stdout", "stderr")}


def child_env(workdir: Path) -> dict[str, str]:
    """A user with no config, no user rules and an empty parse cache: the built-in pack only."""
    return {**os.environ, "KSPM_TUI_CONFIG_DIR": str(workdir / "config"),
            "KSPM_TUI_DATA_DIR": str(workdir / "data"), "KSPM_TUI_CACHE_DIR": str(workdir / "cache"),
            "PYTHONHASHSEED": "0"}


def parse_cluster(spec: str) -> tuple[str, int]:
    shape, _, size = spec.rpartition(":")
    return shape or "bench", int(size)


def bench_cluster(spec: str, repeat: int, env: dict[str, str], workdir: Path, extra: list[str],
                  quick: bool = False) -> dict[str, Any]:
    shape, size = parse_cluster(spec)
    target = generate.ensure(size, shape=shape)
    info = generate.describe(target)
    manifests = target / "manifests"
    report = workdir / f"scan-{shape}-{size}.json"
    scan = [sys.executable, "-m", "kspm_tui", "scan", str(manifests), "-o", "json", "--output", str(report), *extra]
    cache = {**env, "KSPM_TUI_CACHE_DIR": str(workdir / f"cache-{shape}-{size}")}
    runs: dict[str, list[dict[str, Any]]] = {"floor": [], "floor_gc_on": [], "scan": [], "scan_cache_cold": [],
                                             "scan_cached": []}
    for _ in range(repeat):
        runs["floor"].append(measure([sys.executable, "-c", FLOOR, str(manifests), "--no-gc"], env))
        if not quick:
            runs["floor_gc_on"].append(measure([sys.executable, "-c", FLOOR, str(manifests)], env))
        runs["scan"].append(measure([*scan, "--no-cache"], env))
    result = json.loads(report.read_bytes())
    report_bytes = report.stat().st_size
    if not quick:
        runs["scan_cache_cold"].append(measure(scan, cache))
        for _ in range(repeat):
            runs["scan_cached"].append(measure(scan, cache))
    figures = {name: best(r) for name, r in runs.items() if r}
    floor, scanned = figures["floor"], figures["scan"]
    floor_gc, cached = figures.get("floor_gc_on"), figures.get("scan_cached")
    findings = len(result["findings"])
    return {
        "cluster": spec, "shape": shape, "size": size, "workloads": info["workloads"], "objects": info["objects"],
        "yaml_mb": round(info["bytes"] / 1e6, 1), "files": sum(1 for _ in manifests.glob("*.yaml")),
        **figures,
        "findings": findings, "report_mb": round(report_bytes / 1e6, 1),
        "report_bytes_per_finding": round(report_bytes / max(findings, 1)),
        "input_errors": len(result["errors"]), "rule_errors": len(result["rule_errors"]),
        "runs": {name: [best([r]) for r in rs] for name, rs in runs.items()},
        "time_ratio": round(scanned["cpu_s"] / floor["cpu_s"], 2),
        "memory_ratio": round(scanned["peak_rss_mb"] / floor["peak_rss_mb"], 2),
        "time_ratio_gc_on": round(scanned["cpu_s"] / floor_gc["cpu_s"], 2) if floor_gc else None,
        "memory_ratio_gc_on": round(scanned["peak_rss_mb"] / floor_gc["peak_rss_mb"], 2) if floor_gc else None,
        "cached_time_ratio": round(cached["cpu_s"] / floor["cpu_s"], 2) if cached else None,
    }


def bench_rules(env: dict[str, str], repeat: int, rules_dirs: list[str]) -> dict[str, Any]:
    """Cold rule-pack load + compile in a fresh process (imports timed separately)."""
    runs = []
    for _ in range(max(3, repeat)):
        out = measure([sys.executable, "-c", RULES, *rules_dirs], env)["stdout"]
        load, imports, rules, errors = out.split()
        runs.append((float(load), float(imports), int(rules), int(errors)))
    load, imports, rules, errors = min(runs)
    return {"load_compile_s": round(load, 4), "imports_s": round(imports, 3), "rules": rules,
            "rule_errors": errors, "target_s": RULES_TARGET_S, "runs_s": [round(r[0], 4) for r in runs]}


def bench_cold_start(env: dict[str, str], repeat: int, workdir: Path) -> dict[str, Any]:
    """CPU of whole short processes, fewest of `repeat` (at least 5), and where imports go.

    The rows run as the environment says; with PYTHONDONTWRITEBYTECODE set (as on the shared
    bench machine) and an editable install, that includes compiling kspm_tui's sources on every
    run, which an installed wheel (compiled by pip) never does: "scan --demo, bytecode cached"
    is the same command with its bytecode kept in a cache of its own (PYTHONPYCACHEPREFIX)."""
    cli = [sys.executable, "-m", "kspm_tui"]
    commands = {"python -c pass": [sys.executable, "-c", "pass"], "--version": [*cli, "--version"],
                "--help": [*cli, "--help"], "scan --demo --no-cache": [*cli, "scan", "--demo", "--no-cache"],
                "scan --demo": [*cli, "scan", "--demo"]}
    measure(commands["scan --demo"], env)  # fills the parse cache
    figures = {name: best([measure(argv, env) for _ in range(max(5, repeat))]) for name, argv in commands.items()}
    compiled = {**env, "PYTHONPYCACHEPREFIX": str(workdir / "pycache")}
    compiled.pop("PYTHONDONTWRITEBYTECODE", None)
    measure(commands["scan --demo"], compiled)  # fills the bytecode cache
    figures["scan --demo, bytecode cached"] = best([measure(commands["scan --demo"], compiled)
                                                    for _ in range(max(5, repeat))])
    timed = measure([sys.executable, "-X", "importtime", "-m", "kspm_tui", "scan", "--demo"], env)["stderr"]
    return {"commands": figures, "demo_target_s": DEMO_TARGET_S, "imports": heaviest_imports(timed)}


def heaviest_imports(importtime: str, count: int = 8) -> list[dict[str, Any]]:
    """Top-level imports (and kspm_tui's own, one level down) by cumulative microseconds."""
    rows = []
    for line in importtime.splitlines():
        if not line.startswith("import time:") or "|" not in line[13:] or "cumulative" in line:
            continue
        _, cumulative, name = (part.strip() if i else part for i, part in enumerate(line[12:].split("|")))
        depth = (len(name) - len(name.lstrip())) // 2
        if depth == 0 or (depth == 1 and name.strip().startswith("kspm_tui")):
            rows.append({"module": name.strip(), "cumulative_ms": round(int(cumulative) / 1000, 1)})
    return sorted(rows, key=lambda r: -r["cumulative_ms"])[:count]


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpus": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "platform": platform.platform(), "load_average": os.getloadavg()}


def print_table(results: dict[str, Any]) -> None:
    rules = results["rules"]
    print(f"\nrule pack: {rules['rules']} rules, load+compile {rules['load_compile_s'] * 1000:.0f} ms "
          f"(target < {RULES_TARGET_S * 1000:.0f} ms) {'OK' if rules['load_compile_s'] < RULES_TARGET_S else 'OVER'}")
    print("\nCPU seconds and peak RSS (MB) per process; × = scan ÷ floor (GC off: the reference; GC on: second)")
    head = (f"{'cluster':>12} {'objects':>7} {'YAML MB':>7} | {'floor s':>7} {'MB':>5} | {'GC-on s':>7} {'MB':>5} | "
            f"{'scan s':>6} {'MB':>5} {'findings':>8} {'B/find':>6} | {'time ×':>6} {'mem ×':>5} | "
            f"{'GC-on: time ×':>13} {'mem ×':>5} | {'cached s':>8} {'×':>5}")
    print(head)
    print("-" * len(head))
    for r in results["clusters"]:
        floor, scan = r["floor"], r["scan"]
        gc_on, cached = r.get("floor_gc_on") or {}, r.get("scan_cached") or {}
        ok = r["time_ratio"] <= TIME_TARGET and r["memory_ratio"] <= MEMORY_TARGET
        print(f"{r['cluster']:>12} {r['objects']:>7} {r['yaml_mb']:>7.1f} | {floor['cpu_s']:>7.2f} "
              f"{floor['peak_rss_mb']:>5.0f} | {_cell(gc_on.get('cpu_s'), 7, 2)} {_cell(gc_on.get('peak_rss_mb'), 5, 0)} | "
              f"{scan['cpu_s']:>6.2f} {scan['peak_rss_mb']:>5.0f} {r['findings']:>8} "
              f"{r['report_bytes_per_finding']:>6} | {r['time_ratio']:>6.2f} {r['memory_ratio']:>5.2f} | "
              f"{_cell(r['time_ratio_gc_on'], 13, 2)} {_cell(r['memory_ratio_gc_on'], 5, 2)} | "
              f"{_cell(cached.get('cpu_s'), 8, 2)} {_cell(r['cached_time_ratio'], 5, 2)}  "
              f"{'OK' if ok else f'targets {TIME_TARGET}x time, {MEMORY_TARGET}x memory'}")
    cold = results.get("cold_start")
    if cold:
        print("\ncold start (CPU s, peak RSS MB):")
        for name, fig in cold["commands"].items():
            mark = ""
            if name.startswith("scan --demo") and "--no-cache" not in name:
                mark = f"  target ≤ {DEMO_TARGET_S} s: {'OK' if fig['cpu_s'] <= DEMO_TARGET_S else 'OVER'}"
            print(f"  {name:<30} {fig['cpu_s']:>6.3f} {fig['peak_rss_mb']:>6.0f}{mark}")
        print("  heaviest imports of scan --demo (ms, cumulative, wall): "
              + ", ".join(f"{i['module']} {i['cumulative_ms']:.0f}" for i in cold["imports"]))


def _cell(value: float | None, width: int, digits: int) -> str:
    return f"{value:>{width}.{digits}f}" if value is not None else f"{'-':>{width}}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="kspm-tui scan vs the YAML parse floor, and cold start")
    parser.add_argument("--clusters", default="1000,10000,heavy:10000",
                        help="comma-separated N (default shape) or SHAPE:N (e.g. heavy:10000)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement; the least CPU is reported")
    parser.add_argument("--output", type=Path, help="results file (default bench/results/<time>-<commit>.json)")
    parser.add_argument("--rules", action="append", default=[], metavar="DIR",
                        help="extra rule directory on top of the built-in pack (as `scan --rules`)")
    parser.add_argument("--no-cold-start", dest="cold_start", action="store_false", help="skip the cold start")
    parser.add_argument("--quick", action="store_true",
                        help="only the GC-off floor and the scan (no GC-on column, no parse-cache runs)")
    parser.add_argument("--no-explorer", action="store_true",
                        help="skip the explorer's time to first rows (bench/tui_bench.py, needs tmux)")
    args = parser.parse_args(argv)
    extra = [arg for d in args.rules for arg in ("--rules", str(Path(d).resolve()))]
    clusters = [c.strip() for c in args.clusters.split(",") if c.strip()]
    with tempfile.TemporaryDirectory(prefix="kspm-bench-") as tmp:
        workdir = Path(tmp)
        env = child_env(workdir)
        results: dict[str, Any] = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "commit": git("rev-parse", "--short", "HEAD") + ("-dirty" if git("status", "--porcelain") else ""),
            "machine": machine(),
            "method": "CPU = ru_utime + ru_stime of each child process (wait4); peak RSS = ru_maxrss",
            "rules": bench_rules(env, args.repeat, [str(Path(d).resolve()) for d in args.rules]),
            "extra_rules": args.rules,
            "clusters": [],
        }
        if args.cold_start:
            print("cold start ...", file=sys.stderr, flush=True)
            results["cold_start"] = bench_cold_start(env, args.repeat, workdir)
        for spec in clusters:
            print(f"cluster {spec}: generating/measuring ...", file=sys.stderr, flush=True)
            results["clusters"].append(bench_cluster(spec, args.repeat, env, workdir, extra, args.quick))
            shape, size = parse_cluster(spec)
            if not args.no_explorer and shape == "bench":  # tui_bench generates the default shape
                results["clusters"][-1]["explorer"] = tui_bench.measure_first_rows(size)
    print_table(results)
    for r in results["clusters"]:
        if "explorer" in r:
            print()
            tui_bench.print_first_rows(r["workloads"], 1, r["explorer"])
    RESULTS.mkdir(exist_ok=True)
    stamp = results["date"].replace(":", "").replace("-", "")[:15]
    path = args.output or RESULTS / f"{stamp}-{results['commit']}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nresults written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
