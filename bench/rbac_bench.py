"""RBAC graph benchmark: build time and who-can latency next to the time to load the objects.

    python bench/rbac_bench.py [--bindings 50000 --roles 5000 --service-accounts 20000] [--repeat 5]

A deterministic synthetic RBAC set (Roles, ClusterRoles with aggregation, RoleBindings,
ClusterRoleBindings, ServiceAccounts across 200 namespaces; wildcards, subresources,
resourceNames, groups and users in the mix) is written as one `kind: List` JSON file (the
shape `kubectl get -o json` and the live source produce), then measured in this process:

- load: reading that file and indexing the snapshot (`read_paths` + `Snapshot`) — the floor
  any command pays before the graph exists;
- build: `build_rbac(snapshot)` (roles, aggregation, binding and subject indexes), target ≤ 2 s;
- who-can: a set of typical queries, each repeated, target ≤ 50 ms (worst query's median);
- risks: subject facts for every subject (what the `subject`-scope rules read), for context.

Figures go to stdout and to `bench/results/rbac-<time>.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kspm_tui.graph.rbac import Request, build_rbac
from kspm_tui.graph.risks import RiskIndex
from kspm_tui.snapshot import Snapshot
from kspm_tui.sources.files import read_paths

RESULTS = Path(__file__).resolve().parent / "results"
BUILD_TARGET_S = 2.0
QUERY_TARGET_MS = 50.0
NAMESPACES = 200
RBAC = "rbac.authorization.k8s.io/v1"
RESOURCES = [("", "pods"), ("", "services"), ("", "configmaps"), ("", "secrets"), ("", "pods/log"),
             ("", "pods/exec"), ("", "serviceaccounts"), ("", "endpoints"), ("apps", "deployments"),
             ("apps", "statefulsets"), ("apps", "deployments/scale"), ("batch", "jobs"),
             ("networking.k8s.io", "ingresses"), ("example.com", "widgets"), ("", "*"), ("apps", "*")]
VERBS = [["get"], ["get", "list", "watch"], ["create", "update", "patch"], ["delete"], ["*"], ["list"]]
QUERIES = [
    ("get secrets -n ns-17", lambda: Request.parse("get", "secrets", namespace="ns-17")),
    ("list secrets (any ns)", lambda: Request.parse("list", "secrets")),
    ("create pods/exec -n ns-3", lambda: Request.parse("create", "pods/exec", namespace="ns-3")),
    ("get pods (any ns)", lambda: Request.parse("get", "pods")),
    ("patch deployments.apps/scale -n ns-42", lambda: Request.parse("patch", "deployments.apps/scale", namespace="ns-42")),
    ("bind clusterroles", lambda: Request.parse("bind", "clusterroles.rbac.authorization.k8s.io")),
    ("get /metrics", lambda: Request.parse("get", "/metrics")),
]


def _rules(rng: random.Random) -> list[dict[str, Any]]:
    rules = []
    for _ in range(rng.randint(2, 6)):
        group, resource = rng.choice(RESOURCES)
        rule: dict[str, Any] = {"apiGroups": [group], "resources": [resource], "verbs": rng.choice(VERBS)}
        if rng.random() < 0.1:
            rule["resourceNames"] = [f"obj-{rng.randint(0, 50)}"]
        rules.append(rule)
    if rng.random() < 0.02:
        rules.append({"nonResourceURLs": [rng.choice(["/metrics", "/healthz", "/logs/*"])], "verbs": ["get"]})
    return rules


def generate(bindings: int, roles: int, service_accounts: int, seed: int = 20261125) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    namespaces = [f"ns-{i}" for i in range(NAMESPACES)]
    objects: list[dict[str, Any]] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
                                     for ns in ["kube-system", *namespaces]]
    sas = [(namespaces[i % NAMESPACES], f"sa-{i}") for i in range(service_accounts)]
    objects += [{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": n, "namespace": ns}}
                for ns, n in sas]
    cluster_roles = roles // 5
    aggregate_label = "bench.example.com/aggregate-to-ops"
    for i in range(cluster_roles):
        meta: dict[str, Any] = {"name": f"cr-{i}"}
        if i % 20 == 1:
            meta["labels"] = {aggregate_label: "true"}
        role: dict[str, Any] = {"apiVersion": RBAC, "kind": "ClusterRole", "metadata": meta, "rules": _rules(rng)}
        if i % 100 == 0:
            role["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": {aggregate_label: "true"}}]}
        objects.append(role)
    for i in range(roles - cluster_roles):
        objects.append({"apiVersion": RBAC, "kind": "Role",
                        "metadata": {"name": f"role-{i}", "namespace": namespaces[i % NAMESPACES]},
                        "rules": _rules(rng)})
    roles_per_ns = max(1, (roles - cluster_roles) // NAMESPACES)
    for i in range(bindings):
        subjects = []
        for _ in range(rng.randint(1, 3)):
            pick = rng.random()
            if pick < 0.8:
                ns, name = rng.choice(sas)
                subjects.append({"kind": "ServiceAccount", "name": name, "namespace": ns})
            elif pick < 0.9:
                subjects.append({"kind": "User", "name": f"user-{rng.randint(0, 2000)}@example.com"})
            else:
                subjects.append({"kind": "Group", "name": f"team-{rng.randint(0, 300)}"})
        if i % 17 == 0:
            objects.append({"apiVersion": RBAC, "kind": "ClusterRoleBinding", "metadata": {"name": f"crb-{i}"},
                            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                        "name": f"cr-{rng.randrange(cluster_roles)}"},
                            "subjects": subjects})
            continue
        ns_index = rng.randrange(NAMESPACES)
        if rng.random() < 0.5:
            ref = {"kind": "Role", "name": f"role-{ns_index + NAMESPACES * rng.randrange(roles_per_ns)}"}
        else:
            ref = {"kind": "ClusterRole", "name": f"cr-{rng.randrange(cluster_roles)}"}
        objects.append({"apiVersion": RBAC, "kind": "RoleBinding",
                        "metadata": {"name": f"rb-{i}", "namespace": namespaces[ns_index]},
                        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", **ref}, "subjects": subjects})
    return objects


def timed(fn: Any) -> tuple[float, Any]:
    """Wall seconds and the value; see `cpu_timed` for the shared-machine view."""
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def cpu_timed(fn: Any) -> tuple[float, float, Any]:
    """(wall, CPU) seconds: on a loaded shared machine wall time includes waiting for a core."""
    w0, c0 = time.perf_counter(), time.process_time()
    value = fn()
    return time.perf_counter() - w0, time.process_time() - c0, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bindings", type=int, default=50_000)
    parser.add_argument("--roles", type=int, default=5_000)
    parser.add_argument("--service-accounts", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    args = parser.parse_args(argv)

    objects = generate(args.bindings, args.roles, args.service_accounts)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rbac.json"  # what `kubectl get -o json` and the live source read
        path.write_bytes(orjson.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
        size_mb = path.stat().st_size / 1e6
        load_s, snapshot = timed(lambda: Snapshot(read_paths([str(path)]).objects))
    del objects
    build_runs, build_cpu = [], []
    for _ in range(args.repeat):
        seconds, cpu, graph = cpu_timed(lambda: build_rbac(snapshot))
        build_runs.append(seconds)
        build_cpu.append(cpu)
    queries = {}
    for label, make in QUERIES:
        request = make()
        runs, cpus, grants = [], [], []
        for _ in range(args.repeat):
            seconds, cpu, grants = cpu_timed(lambda request=request: graph.who_can(request))
            runs.append(seconds * 1000)
            cpus.append(cpu * 1000)
        queries[label] = {"median_ms": round(statistics.median(runs), 2), "max_ms": round(max(runs), 2),
                          "cpu_median_ms": round(statistics.median(cpus), 2),
                          "grants": len(grants), "subjects": len({g.subject for g in grants})}
    risks = RiskIndex(graph, ["kube-system"])
    risks_s, subjects = timed(lambda: [risks.facts(s, ["kube-system"]) for s in graph.subjects()])
    build_s = statistics.median(build_runs)
    worst_query = max(q["median_ms"] for q in queries.values())
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count(), "loadavg_1m": round(os.getloadavg()[0], 2)},
        "input": {"bindings": args.bindings, "roles": args.roles, "service_accounts": args.service_accounts,
                  "namespaces": NAMESPACES, "objects": len(snapshot), "json_mb": round(size_mb, 1)},
        "load_s": round(load_s, 3),
        "build_s": {"median": round(build_s, 3), "max": round(max(build_runs), 3),
                    "cpu_median": round(statistics.median(build_cpu), 3), "target": BUILD_TARGET_S},
        "who_can": queries,
        "who_can_worst_median_ms": worst_query,
        "who_can_target_ms": QUERY_TARGET_MS,
        "subject_facts_s": {"subjects": len(subjects), "seconds": round(risks_s, 3)},
        "ok": build_s <= BUILD_TARGET_S and worst_query <= QUERY_TARGET_MS,
        "ok_cpu": statistics.median(build_cpu) <= BUILD_TARGET_S
        and max(q["cpu_median_ms"] for q in queries.values()) <= QUERY_TARGET_MS,
    }
    print(f"input: {len(snapshot)} objects ({size_mb:.1f} MB JSON): {args.bindings} bindings, "
          f"{args.roles} roles, {args.service_accounts} service accounts")
    print(f"load (read + snapshot)  {load_s:8.3f} s")
    print(f"build_rbac              {build_s:8.3f} s   (max {max(build_runs):.3f}, CPU "
          f"{statistics.median(build_cpu):.3f}; target <= {BUILD_TARGET_S} s)")
    for label, q in queries.items():
        print(f"who-can {label:<40} {q['median_ms']:7.2f} ms  (max {q['max_ms']:.2f}, CPU "
              f"{q['cpu_median_ms']:.2f}; {q['subjects']} subjects, {q['grants']} grants)")
    print(f"load average (1 min) {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"subject facts for {len(subjects)} subjects  {risks_s:.3f} s")
    print("targets: " + ("met" if result["ok"] else "MISSED") + " on wall time, "
          + ("met" if result["ok_cpu"] else "MISSED") + " on CPU time")
    if not args.no_save:
        RESULTS.mkdir(exist_ok=True)
        out = RESULTS / f"rbac-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {out.relative_to(ROOT)}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
