"""The same input gives the same report, byte for byte, from one process to the next.

CEL maps come back in hash order, which Python varies per process (`PYTHONHASHSEED`): patches
and the evidence an `evidenceExpression` builds (a ClusterRole rule's apiGroups/resources/verbs)
must not carry that order into reports a CI job diffs or stores."""

from __future__ import annotations

import json
from pathlib import Path


def findings_of(path: Path) -> str:
    return json.dumps(json.loads(path.read_text())["findings"])


def test_two_processes_with_different_hash_seeds_write_the_same_findings(run_cli, tmp_path: Path) -> None:
    outputs = []
    for seed in ("1", "2", "3"):
        out = tmp_path / f"demo-{seed}.json"
        result = run_cli("scan", "--demo", "--no-history", "-o", "json", "--output", str(out),
                         env={"PYTHONHASHSEED": seed})
        assert result.code == 0, result.stderr
        outputs.append(findings_of(out))
    assert outputs[0] == outputs[1] == outputs[2]
