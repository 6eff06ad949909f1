"""The in-cluster reporter on a synthetic 10k-workload cluster served by the test API server.

The cluster (bench/generate.py, as in live_bench.py) is served, with PolicyReport writes
allowed, in its own process. Measured, in the same run:

- floor: live_bench.py's GET+parse floor (every kind listed, paginated, parsed), its own process;
- reporter: `kspm-tui reporter` as a process: time to the first full set of reports (wall time
  and the reporter's CPU time at that moment, from /proc), its peak RSS (ru_maxrss at exit);
  the write rate limit alone (default 50/s after a burst of 100) sets a floor of its own;
- churn: then 1% of the workloads change per minute (a Deployment's first image alternates
  between its tag and `:latest`, so most changes alter that workload's findings), for
  `--minutes` minutes: PolicyReport writes per minute as the API server's request log counts them,
  counted once the reporter has caught up (no write for 30 s; how long after the churn that was
  is `caught_up_s`).

Ratios are against the floor; CPU times are reported next to wall times because the machine
is shared (wall time there is noisy).

    python bench/reporter_bench.py [--workloads 10000] [--minutes 2] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.live_bench import child, cluster, emit, list_specs  # noqa: E402


def serve(workloads: int, conn: Any) -> None:
    """Server process: serve the cluster; on ("churn", n) change n Deployments; on ("writes",) count writes."""
    from tests.apiserver.server import ApiServer

    objects, generator = cluster(workloads)
    server = ApiServer(objects).start()
    server.allow_report_writes = True
    conn.send({"url": server.url, "ca": server.ca_pem.decode(), "token": server.token, "objects": len(objects),
               "generator": generator, "kubeconfig": server.kubeconfig(context="bench")})
    deployments = sorted(k for r, objs in server.store.objects.items() if r.kind == "Deployment" for k in objs)
    resource = next(r for r in server.store.objects if r.kind == "Deployment")
    turn = 0
    while True:
        message = conn.recv()
        if message[0] == "stop":
            break
        if message[0] == "churn":
            for _ in range(message[1]):
                key = deployments[turn % len(deployments)]
                obj = json.loads(json.dumps(server.store.objects[resource][key]))
                container = obj["spec"]["template"]["spec"]["containers"][0]
                image = container["image"]
                container["image"] = image.rsplit(":", 1)[0] + (":latest" if not image.endswith(":latest") else ":1.0")
                server.store.put(obj)
                turn += 1
            conn.send(turn)
        elif message[0] == "writes":
            entries = list(server.log)
            conn.send({"writes": sum(e.method in ("PATCH", "DELETE") for e in entries),
                       "reports": sum(len(objs) for r, objs in server.store.objects.items()
                                      if r.group == "wgpolicyk8s.io")})
    server.stop()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process, from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workloads", type=int, default=10_000)
    parser.add_argument("--minutes", type=float, default=2.0, help="how long 1%%/minute churn runs (default 2)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    import yaml

    parent, server_end = multiprocessing.Pipe()
    server = multiprocessing.get_context("fork").Process(target=serve, args=(args.workloads, server_end), daemon=True)
    server.start()
    info = parent.recv()
    print(f"serving {info['objects']} objects ({args.workloads} workloads, {info['generator']})", file=sys.stderr)
    info["lists"] = list_specs(info)
    report: dict[str, Any] = {"workloads": args.workloads, "objects_served": info["objects"],
                              "generator": info["generator"], "cpus": os.cpu_count()}
    try:
        report["floor"] = child("floor", info)
        print(f"floor: {report['floor']['seconds']:.1f}s {report['floor']['peak_kb'] / 1024:.0f} MiB", file=sys.stderr)
        config = Path(tempfile.mkstemp(suffix=".yaml")[1])
        config.write_text(yaml.safe_dump(info["kubeconfig"]))
        env = {**os.environ, "KSPM_TUI_CONFIG_DIR": tempfile.mkdtemp(), "KSPM_TUI_DATA_DIR": tempfile.mkdtemp()}
        env.pop("KUBERNETES_SERVICE_HOST", None)
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "kspm_tui", "reporter", "--kubeconfig", str(config),
                                 "--listen", "127.0.0.1:0"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
        first = threading.Event()
        lines: list[str] = []

        def read() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                lines.append(line.rstrip())
                if "applied" in line and "failed" not in line:
                    first.set()

        threading.Thread(target=read, daemon=True).start()
        while not first.wait(1):
            if proc.poll() is not None:
                raise SystemExit("reporter exited:\n" + "\n".join(lines[-20:]))
        report["first_reports_s"] = round(time.perf_counter() - t0, 2)
        report["first_reports_cpu_s"] = round(cpu_seconds(proc.pid), 2)
        parent.send(("writes",))
        initial = parent.recv()
        report["first_reports"] = initial
        print(f"first full set: {initial['reports']} reports in {report['first_reports_s']}s "
              f"(reporter CPU {report['first_reports_cpu_s']}s)", file=sys.stderr)

        per_minute = max(1, args.workloads // 100)
        interval = 60.0 / per_minute
        changes, deadline = 0, time.perf_counter() + args.minutes * 60
        cpu_before = cpu_seconds(proc.pid)
        while time.perf_counter() < deadline:
            parent.send(("churn", 1))
            parent.recv()
            changes += 1
            time.sleep(interval)
        churned = time.perf_counter()
        after, quiet_since = initial, time.perf_counter()
        while time.perf_counter() - quiet_since < 30 and time.perf_counter() - churned < 900:
            time.sleep(2)  # until the reporter has caught up: no write for 30 s
            parent.send(("writes",))
            now = parent.recv()
            if now["writes"] != after["writes"]:
                after, quiet_since = now, time.perf_counter()
        report["churn"] = {
            "minutes": args.minutes, "changes": changes, "changes_per_minute": round(changes / args.minutes, 1),
            "writes": after["writes"] - initial["writes"],
            "writes_per_minute": round((after["writes"] - initial["writes"]) / args.minutes, 1),
            "caught_up_s": round(max(0.0, quiet_since - churned), 1),
            "reporter_cpu_s": round(cpu_seconds(proc.pid) - cpu_before, 2)}
        proc.send_signal(signal.SIGTERM)
        _, status, usage = os.wait4(proc.pid, 0)
        report["reporter_exit"] = os.waitstatus_to_exitcode(status)
        report["reporter_peak_kb"] = usage.ru_maxrss
        report["reporter_cpu_s"] = round(usage.ru_utime + usage.ru_stime, 2)
        floor = report["floor"]
        report["first_reports_time_ratio"] = round(report["first_reports_s"] / floor["seconds"], 2)
        # What the write rate limit alone allows (burst, then --write-qps; the defaults 100 and 50/s).
        report["write_limit_floor_s"] = round(max(0, initial["reports"] - 100) / 50, 2)
        report["peak_rss_ratio"] = round(report["reporter_peak_kb"] / floor["peak_kb"], 2)
        report["log_tail"] = lines[-5:]
    finally:
        parent.send(("stop",))
        server.join(30)
    return emit(report, args.json)


if __name__ == "__main__":
    sys.exit(main())
