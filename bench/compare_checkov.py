"""Time Checkov and kspm-tui on the same N-workload cluster (README comparison; optional).

Checkov is never a project dependency: install it in a throwaway venv and pass its binary.

    python3 -m venv /tmp/checkov && /tmp/checkov/bin/pip install checkov
    python bench/compare_checkov.py --checkov /tmp/checkov/bin/checkov [--size 1000]

Checkov ignores `kind: List` files (it reports 0 resources for `kubectl get -o yaml` output),
so both tools scan the same objects rewritten as one multi-document YAML stream per
namespace, the layout Checkov reads.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402
from run import child_env, measure  # noqa: E402

_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def as_streams(manifests: Path, target: Path) -> int:
    """Rewrite every `kind: List` file as a multi-document stream; returns the object count."""
    count = 0
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(manifests.glob("*.yaml")):
        items = yaml.load(path.read_text(), Loader=_Loader)["items"]  # noqa: S506
        count += len(items)
        (target / path.name).write_text(yaml.dump_all(items, Dumper=_Dumper, sort_keys=True, width=4096))
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkov", required=True, help="path to the checkov executable")
    parser.add_argument("--size", type=int, default=1000)
    args = parser.parse_args(argv)
    manifests = generate.ensure(args.size) / "manifests"
    with tempfile.TemporaryDirectory(prefix="kspm-checkov-") as tmp:
        work = Path(tmp)
        streams = work / "streams"
        objects = as_streams(manifests, streams)
        env = child_env(work)
        ck_wall, ck_rss, ck_out = measure([args.checkov, "-d", str(streams), "--framework", "kubernetes",
                                           "--skip-download", "--quiet", "--compact", "-o", "json"],
                                          {**env, "BC_SKIP_MAPPING": "TRUE"})
        summary = json.loads(ck_out).get("summary", {}) if ck_out.strip() else {}
        our_wall, our_rss, _ = measure([sys.executable, "-m", "kspm_tui", "scan", str(streams),
                                        "--format", "json", "--output", str(work / "ours.json")], env)
        ours = json.loads((work / "ours.json").read_bytes())
    result = {
        "size": args.size, "objects": objects,
        "checkov": {"wall_s": round(ck_wall, 2), "peak_rss_mb": round(ck_rss), "resources": summary.get("resource_count"),
                    "failed": summary.get("failed"), "version": summary.get("checkov_version")},
        "kspm_tui": {"wall_s": round(our_wall, 2), "peak_rss_mb": round(our_rss), "findings": len(ours["findings"])},
        "speedup": round(ck_wall / our_wall, 1),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
