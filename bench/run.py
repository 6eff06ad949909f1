"""One command: scan speed and memory next to the YAML parse floor, for each cluster size.

    python bench/run.py [--sizes 1000,10000] [--heavy 10000] [--repeat N]

For every size the synthetic cluster is generated (or reused from `bench/.cache/`), then each
measurement runs in its own fresh Python process so that its peak RSS (`ru_maxrss` from
`wait4`) belongs to that measurement alone:

- floor: `yaml.load_all(file, Loader=yaml.CSafeLoader)` over every file, keeping the
  documents, nothing else — the least any Python tool reading this YAML can do;
- floor, gc off: the same with Python's cyclic garbage collector disabled (for reference:
  most of the floor's time is the collector re-walking the growing heap, which the scan
  avoids by pausing it);
- scan: `python -m kspm_tui scan DIR --format json --output FILE` — the real CLI with the
  full built-in rule pack, reading, snapshot, evaluation and the JSON report written out;
- rules: loading and compiling the built-in rule pack (target < 0.3 s);
- the findings-heavy shape (`generate.py --shape heavy`, ~4x the findings per workload) at the
  `--heavy` sizes, measured the same way: the memory a scan's findings and reports cost.

Memory is judged against the GC-off floor (peak RSS, `mem × gc-off`); the JSON report's size
per finding is printed with it.

Wall times are whole-process (interpreter start-up included, for both). The table and a JSON
file under `bench/results/` hold the figures and the scan÷floor ratios.
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

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
TARGET_RATIO = 1.5
RULES_TARGET_S = 0.3

FLOOR = """
import gc, sys, time, yaml
from pathlib import Path
if sys.argv[2:] == ["--no-gc"]:
    gc.disable()
t0 = time.perf_counter()
docs = []
for path in sorted(Path(sys.argv[1]).rglob("*.yaml")):
    with open(path, encoding="utf-8") as fh:
        docs.extend(yaml.load_all(fh, Loader=yaml.CSafeLoader))
print(time.perf_counter() - t0)
"""

RULES = """
import sys, time
from pathlib import Path
t0 = time.perf_counter()
from kspm_tui.scan import ScanSettings, load_ruleset
t1 = time.perf_counter()
ruleset = load_ruleset(ScanSettings(rules_dirs=[Path(p) for p in sys.argv[1:]]))
t2 = time.perf_counter()
print(t2 - t1, t1 - t0, len(ruleset.rules), len(ruleset.errors))
"""


def measure(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run one child process: (wall seconds, peak RSS in MB, stdout)."""
    with tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.PIPE, env=env, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        stderr = proc.stderr.read().decode() if proc.stderr else ""
        out.seek(0)
        stdout = out.read().decode()
    if proc.returncode not in (0, 1, 2):
        raise SystemExit(f"{argv[:4]} failed with exit code {proc.returncode}:\n{stderr}")
    return wall, usage.ru_maxrss / 1024, stdout  # ru_maxrss is in KiB on Linux


def child_env(workdir: Path) -> dict[str, str]:
    """A user with no config and no user rules: the built-in pack only."""
    return {**os.environ, "KSPM_TUI_CONFIG_DIR": str(workdir / "config"),
            "KSPM_TUI_DATA_DIR": str(workdir / "data"), "PYTHONHASHSEED": "0"}


def bench_size(size: int, repeat: int, env: dict[str, str], workdir: Path, extra: list[str],
               shape: str = "bench") -> dict[str, Any]:
    target = generate.ensure(size, shape=shape)
    info = generate.describe(target)
    manifests = target / "manifests"
    report = workdir / f"scan-{size}.json"
    floors, nogc, scans = [], [], []
    for _ in range(repeat):
        wall, rss, out = measure([sys.executable, "-c", FLOOR, str(manifests)], env)
        floors.append({"wall_s": round(wall, 3), "parse_s": round(float(out), 3), "peak_rss_mb": round(rss, 1)})
        wall, rss, out = measure([sys.executable, "-c", FLOOR, str(manifests), "--no-gc"], env)
        nogc.append({"wall_s": round(wall, 3), "parse_s": round(float(out), 3), "peak_rss_mb": round(rss, 1)})
        wall, rss, _ = measure([sys.executable, "-m", "kspm_tui", "scan", str(manifests), "--format", "json",
                                "--output", str(report), *extra], env)
        scans.append({"wall_s": round(wall, 3), "peak_rss_mb": round(rss, 1)})
    result = json.loads(report.read_bytes())
    floor = min(floors, key=lambda r: r["wall_s"])
    scan = min(scans, key=lambda r: r["wall_s"])
    scan = {**scan, "scan_duration_s": result["duration_s"], "findings": len(result["findings"]),
            "report_mb": round(report.stat().st_size / 1e6, 1), "input_errors": len(result["errors"]),
            "rule_errors": len(result["rule_errors"])}
    scan["json_bytes_per_finding"] = round(report.stat().st_size / max(1, len(result["findings"])))
    floor_gc_off = min(nogc, key=lambda r: r["wall_s"])
    return {
        "size": size, "shape": shape, "workloads": info["workloads"], "objects": info["objects"],
        "yaml_mb": round(info["bytes"] / 1e6, 1), "files": sum(1 for _ in manifests.glob("*.yaml")),
        "floor": floor, "floor_gc_off": floor_gc_off, "scan": scan,
        "runs": {"floor": floors, "floor_gc_off": nogc, "scan": scans},
        "time_ratio": round(scan["wall_s"] / floor["wall_s"], 2),
        "memory_ratio": round(scan["peak_rss_mb"] / floor["peak_rss_mb"], 2),
        "memory_ratio_gc_off": round(scan["peak_rss_mb"] / floor_gc_off["peak_rss_mb"], 2),
    }


def bench_rules(env: dict[str, str], repeat: int, rules_dirs: list[str]) -> dict[str, Any]:
    """Cold rule-pack load + compile in a fresh process (imports timed separately)."""
    runs = []
    for _ in range(max(3, repeat)):
        _, _, out = measure([sys.executable, "-c", RULES, *rules_dirs], env)
        load, imports, rules, errors = out.split()
        runs.append((float(load), float(imports), int(rules), int(errors)))
    load, imports, rules, errors = min(runs)
    return {"load_compile_s": round(load, 4), "imports_s": round(imports, 3), "rules": rules,
            "rule_errors": errors, "target_s": RULES_TARGET_S, "runs_s": [round(r[0], 4) for r in runs]}


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
            "platform": platform.platform()}


def print_table(results: dict[str, Any]) -> None:
    rules = results["rules"]
    print(f"\nrule pack: {rules['rules']} rules, load+compile {rules['load_compile_s'] * 1000:.0f} ms "
          f"(target < {RULES_TARGET_S * 1000:.0f} ms) {'OK' if rules['load_compile_s'] < RULES_TARGET_S else 'OVER'}")
    head = (f"{'workloads':>9} {'objects':>8} {'YAML MB':>8} | {'floor s':>8} {'floor MB':>9} "
            f"{'gc-off s':>8} | "
            f"{'scan s':>7} {'scan MB':>8} {'findings':>9} | {'time ×':>6} {'mem ×':>6} "
            f"{'mem × gc-off':>12} {'JSON B/finding':>14}")
    print(head + "\n(h: the findings-heavy shape; mem × gc-off target ≤ 1.2)")
    print("-" * len(head))
    for r in results["sizes"]:
        ok = r["time_ratio"] <= TARGET_RATIO and r["memory_ratio"] <= TARGET_RATIO
        print(f"{r['workloads']:>9}{'h' if r.get('shape') == 'heavy' else ' '}{r['objects']:>8} {r['yaml_mb']:>8.1f} | {r['floor']['wall_s']:>8.2f} "
              f"{r['floor']['peak_rss_mb']:>9.0f} {r['floor_gc_off']['wall_s']:>8.2f} | {r['scan']['wall_s']:>7.2f} {r['scan']['peak_rss_mb']:>8.0f} "
              f"{r['scan']['findings']:>9} | {r['time_ratio']:>6.2f} {r['memory_ratio']:>6.2f} "
              f"{r['memory_ratio_gc_off']:>12.2f} {r['scan']['json_bytes_per_finding']:>14}"
              f"  {'OK' if ok else f'over {TARGET_RATIO}x'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="kspm-tui scan vs YAML parse floor")
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated workload counts")
    parser.add_argument("--heavy", default="10000",
                        help="comma-separated workload counts for the findings-heavy shape ('' for none)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement; the fastest is reported")
    parser.add_argument("--output", type=Path, help="results file (default bench/results/<time>-<commit>.json)")
    parser.add_argument("--rules", action="append", default=[], metavar="DIR",
                        help="extra rule directory on top of the built-in pack (as `scan --rules`)")
    args = parser.parse_args(argv)
    extra = [arg for d in args.rules for arg in ("--rules", str(Path(d).resolve()))]
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    with tempfile.TemporaryDirectory(prefix="kspm-bench-") as tmp:
        workdir = Path(tmp)
        env = child_env(workdir)
        results: dict[str, Any] = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "commit": git("rev-parse", "--short", "HEAD") + ("-dirty" if git("status", "--porcelain") else ""),
            "machine": machine(),
            "rules": bench_rules(env, args.repeat, [str(Path(d).resolve()) for d in args.rules]),
            "extra_rules": args.rules,
            "sizes": [],
        }
        for size in sizes:
            print(f"size {size}: generating/measuring ...", file=sys.stderr, flush=True)
            results["sizes"].append(bench_size(size, args.repeat, env, workdir, extra))
        for size in (int(s) for s in args.heavy.split(",") if s.strip()):
            print(f"size {size}, findings-heavy: generating/measuring ...", file=sys.stderr, flush=True)
            results["sizes"].append(bench_size(size, args.repeat, env, workdir, extra, shape="heavy"))
    print_table(results)
    RESULTS.mkdir(exist_ok=True)
    stamp = results["date"].replace(":", "").replace("-", "")[:15]
    path = args.output or RESULTS / f"{stamp}-{results['commit']}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nresults written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
