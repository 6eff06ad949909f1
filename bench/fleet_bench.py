"""Reading a cluster's posture from the reporter's PolicyReports vs the floor of parsing them.

The N-workload cluster of `bench/generate.py` is scanned offline once; its findings become the
PolicyReports the in-cluster reporter would keep (the contract's shape, made by the test
helper), written as the JSON list bodies the API server would send. Then, each in a fresh
process so peak RSS is its own:

- floor: orjson-parse the list bodies (what any reader of the reports must do);
- fleet: parse the same bodies, load the rules, rebuild the findings into a ScanResult with its
  summary, score and top rules (what `kspm-tui fleet` does per context after the GETs).

CPU time (user+sys of the process, `resource.getrusage`) rather than wall time: the machine is
shared. The HTTP transfer is left out of both (it is the same bytes either way).

    python bench/fleet_bench.py [--workloads 10000] [--repeat 3] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def prepare(workloads: int, out: Path) -> dict[str, Any]:
    """The reports of the generated cluster, as the list bodies a GET returns."""
    import orjson

    from bench.generate import ensure
    from kspm_tui.scan import run_scan
    from kspm_tui.target import ScanSettings, Target
    from tests.fleet_helpers import contract_reports

    target = ensure(workloads)
    scanned = run_scan(Target("paths", paths=(str(target / "manifests"),)), ScanSettings(), keep_graph=False)
    reports = contract_reports(scanned)
    namespaced = [r for r in reports if r["kind"] == "PolicyReport"]
    cluster = [r for r in reports if r["kind"] == "ClusterPolicyReport"]
    for name, items, kind in (("policyreports", namespaced, "PolicyReportList"),
                              ("clusterpolicyreports", cluster, "ClusterPolicyReportList")):
        body = {"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": kind, "metadata": {}, "items": items}
        (out / f"{name}.json").write_bytes(orjson.dumps(body))
    results = sum(len(r["results"]) for r in reports)
    return {"workloads": workloads, "reports": len(reports), "results": results,
            "bytes": sum(p.stat().st_size for p in out.glob("*.json"))}


def child(mode: str, folder: Path) -> dict[str, Any]:
    import orjson

    before = resource.getrusage(resource.RUSAGE_SELF)
    reports = []
    for name, kind in (("policyreports", "PolicyReport"), ("clusterpolicyreports", "ClusterPolicyReport")):
        doc = orjson.loads((folder / f"{name}.json").read_bytes())
        reports += [{**item, "kind": kind} for item in doc["items"]]
    out: dict[str, Any] = {"reports": len(reports)}
    if mode == "fleet":
        from kspm_tui.fleet.posture import ClusterPosture
        from kspm_tui.fleet.reports import Place, rebuild
        from kspm_tui.scan import load_ruleset
        from kspm_tui.target import ScanSettings

        parsed = resource.getrusage(resource.RUSAGE_SELF)
        ruleset = load_ruleset(ScanSettings())
        loaded = resource.getrusage(resource.RUSAGE_SELF)
        posture = ClusterPosture("bench", "ok", rebuilt=rebuild(reports, ruleset, Place("bench", "bench")))
        out.update(findings=len(posture.findings), score=posture.score, top=posture.top_rules(),
                   parse_s=round(_cpu(parsed) - _cpu(before), 3), rules_s=round(_cpu(loaded) - _cpu(parsed), 3))
    after = resource.getrusage(resource.RUSAGE_SELF)
    out["cpu_s"] = round(_cpu(after) - _cpu(before), 3)
    out["peak_kb"] = after.ru_maxrss
    if mode == "fleet":
        out["rebuild_s"] = round(_cpu(after) - _cpu(loaded), 3)
    return out


def _cpu(usage: Any) -> float:
    return usage.ru_utime + usage.ru_stime


def run_child(mode: str, folder: Path) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, "--child", mode, str(folder)], capture_output=True, text=True,
                          check=True, cwd=ROOT)
    return json.loads(proc.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", nargs=2, metavar=("MODE", "DIR"), help=argparse.SUPPRESS)
    parser.add_argument("--prepare", type=Path, metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]))))
        return 0
    if args.prepare:
        print(json.dumps(prepare(args.workloads, args.prepare)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # in its own process: a child's peak RSS starts from its parent's, so the parent stays small
        shape = json.loads(subprocess.run([sys.executable, __file__, "--workloads", str(args.workloads), "--prepare",
                                           tmp], capture_output=True, text=True, check=True, cwd=ROOT).stdout)
        print(f"{shape['workloads']} workloads: {shape['reports']} reports, {shape['results']} results, "
              f"{shape['bytes'] / 1e6:.1f} MB of list bodies", file=sys.stderr)
        runs = {mode: [run_child(mode, folder) for _ in range(args.repeat)] for mode in ("floor", "fleet")}
    best = {mode: min(r, key=lambda x: x["cpu_s"]) for mode, r in runs.items()}
    summary = {**shape, "floor": best["floor"], "fleet": best["fleet"],
               "cpu_ratio": round(best["fleet"]["cpu_s"] / best["floor"]["cpu_s"], 2),
               "rss_ratio": round(best["fleet"]["peak_kb"] / best["floor"]["peak_kb"], 2)}
    print(f"floor (parse): {best['floor']['cpu_s']:.2f} s CPU, {best['floor']['peak_kb'] / 1024:.0f} MiB peak")
    print(f"fleet (parse + rules + rebuild): {best['fleet']['cpu_s']:.2f} s CPU (rules "
          f"{best['fleet']['rules_s']:.2f} s, rebuild {best['fleet']['rebuild_s']:.2f} s), "
          f"{best['fleet']['peak_kb'] / 1024:.0f} MiB peak, {best['fleet']['findings']} findings, "
          f"score {best['fleet']['score']}")
    print(f"ratios: CPU {summary['cpu_ratio']}x, peak RSS {summary['rss_ratio']}x")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
