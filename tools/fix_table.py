"""The README's "Fixes you can paste" table: per install, failing findings by what their fix is.

    .venv/bin/python tools/fix_table.py [PATH ...]     (default: the two real installs and the demo)

Runs `kspm-tui scan PATH --include-system -o json` and counts the failing findings whose fix is a
`safe` patch, a `review` patch, withheld ("No patch offered:", grouped by why), or guidance only
(the rule offers no patch). A superseding finding counts once, with the rules it covers.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

WITHHELD = "No patch offered: "  # kspm_tui/fixes/safety.py: how a withheld fix's guidance starts

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "fixes"
DEFAULT = [str(FIXTURES / "metallb-native.yaml"), str(FIXTURES / "metrics-server-release.yaml"), "--demo"]


def why(guidance: str) -> str:
    text = guidance.removeprefix(WITHHELD)
    if "is a node agent" in text:
        return "node agent"
    if text.startswith("the result would be refused"):
        return "refused by the API server"
    if "starts as root" in text:
        return "image needs root"
    return "image cannot run read-only" if "read-only" in text or "readOnly" in text else text[:40]


def counts(source: str) -> tuple[Counter[str], Counter[str]]:
    scan = subprocess.run([sys.executable, "-m", "kspm_tui", "scan", source, "--include-system", "-o", "json"],
                          capture_output=True, text=True, check=False)
    out: Counter[str] = Counter()
    withheld: Counter[str] = Counter()
    for f in json.loads(scan.stdout)["findings"]:
        if f["status"] != "fail":
            continue
        rem = f["remediation"]
        if rem["patch"] is not None:
            out[rem.get("safety") or "no verdict"] += 1
        elif rem["guidance"].startswith(WITHHELD):
            out["withheld"] += 1
            withheld[why(rem["guidance"])] += 1
        else:
            out["guidance only"] += 1
    return out, withheld


def main(argv: list[str]) -> int:
    print("| source | safe | review | withheld (why) | guidance only |")
    print("|---|---|---|---|---|")
    for source in argv or DEFAULT:
        c, w = counts(source)
        whys = ", ".join(f"{n} {k}" for k, n in w.most_common())
        print(f"| {Path(source).name} | {c['safe']} | {c['review']} | {c['withheld']}{f' ({whys})' if whys else ''} "
              f"| {c['guidance only']} |" + (f" no verdict: {c['no verdict']}" if c["no verdict"] else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
