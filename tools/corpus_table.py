"""Print the "Precision on real installs" table: findings by severity per corpus install, before
(recorded from main at 1284552, tests/corpus/before-main-1284552.json) and now, and which
recorded findings are gone. Re-run after merging: `python tools/corpus_table.py`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
SEVERITIES = ("critical", "high", "medium", "low", "info")
UNKNOWN = "(namespace unknown)"


def scan(target: str) -> dict:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run([sys.executable, "-m", "kspm_tui", "scan", f"tests/corpus/{target}", "-o", "json",
                           "--no-history"], capture_output=True, text=True, cwd=ROOT, env=env, check=False)
    return json.loads(proc.stdout)


def counts(by_severity: dict[str, int]) -> str:
    return "/".join(str(by_severity.get(s, 0)) for s in SEVERITIES)


def main() -> int:
    before = json.loads((CORPUS / "before-main-1284552.json").read_text())
    print("| install | before: crit/high/med/low/info (errors, hidden) | after (errors) | no longer said to be "
          "in default | findings gone |")
    print("|---|---|---|---|---|")
    for spec_file in sorted((CORPUS / "expected").glob("*.yaml")):
        if spec_file.name.startswith("pending-"):
            continue
        target = yaml.safe_load(spec_file.read_text())["scan"]
        install = target.split("/")[0]
        old, now = before[install], scan(target)
        keys = {"|".join(str(f.get(k) or "") for k in ("rule", "kind", "namespace", "name", "container"))
                for f in now["findings"] if f["status"] == "fail"}
        missing = set(old["findings"]) - keys
        relabelled = {k for k in missing if k.replace("|default|", f"|{UNKNOWN}|", 1) in keys}
        gone = sorted(missing - relabelled)
        hidden = old["excluded"]["findings"]
        print(f"| {target} | {counts(old['by_severity'])} ({old['errors']} errors, {hidden} hidden) "
              f"| {counts(now['summary']['by_severity'])} ({len(now['errors'])} errors) | {len(relabelled)} "
              f"| {len(gone)}{': ' + ', '.join(gone[:3]) if gone else ''} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
