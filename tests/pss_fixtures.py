"""The upstream Pod Security Standards fixtures (tests/conformance/pss), bare and wrapped.

Shared by the conformance test and the kubectl remediation test: each fixture is a Pod; the
same pod spec is also placed in the pod template of every workload kind, as a user would
write it, and read back through the real manifest parser.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kspm_tui.engine.loader import RuleSet
from kspm_tui.sources.files import read_text
from kspm_tui.yamlio import dump_yaml, load_yaml

PSS_DIR = Path(__file__).resolve().parent / "conformance" / "pss"
LEVELS = ("baseline", "restricted")
WRAPPERS = (
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
    "ReplicationController",
)
_API = {
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "ReplicaSet": "apps/v1",
    "Job": "batch/v1",
    "CronJob": "batch/v1",
    "ReplicationController": "v1",
    "Pod": "v1",
}


@dataclass(frozen=True)
class Fixture:
    level: str  # baseline | restricted
    expect: str  # pass | fail
    path: Path

    @property
    def check(self) -> str:
        """Upstream check id from the file name (`capabilities_baseline3` → `capabilities_baseline`)."""
        return re.sub(r"\d+$", "", self.path.stem)

    @property
    def label(self) -> str:
        return f"{self.level}/{self.expect}/{self.path.name}"

    def pod(self) -> dict[str, Any]:
        return load_yaml(self.path.read_text(encoding="utf-8"))


def fixtures(expect: str | None = None) -> list[Fixture]:
    return [
        Fixture(level, kind, path)
        for level in LEVELS
        for kind in ("fail", "pass")
        if expect in (None, kind)
        for path in sorted((PSS_DIR / level / kind).glob("*.yaml"))
    ]


def wrap(pod: dict[str, Any], kind: str) -> dict[str, Any]:
    """The fixture Pod as `kind`: its metadata and spec become the pod template."""
    pod = copy.deepcopy(pod)
    if kind == "Pod":
        return pod
    meta = pod.get("metadata") or {}
    name = meta["name"]
    labels = {"app": name.replace("_", "-")}
    template = {
        "metadata": {**{k: v for k, v in meta.items() if k != "name"}, "labels": labels},
        "spec": pod["spec"],
    }
    obj: dict[str, Any] = {
        "apiVersion": _API[kind],
        "kind": kind,
        "metadata": {"name": name, "namespace": "default"},
    }
    if kind == "CronJob":
        obj["spec"] = {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": template}}}
    elif kind == "Job":
        obj["spec"] = {"template": template}
    elif kind == "ReplicationController":
        obj["spec"] = {"selector": labels, "template": template}
    else:
        obj["spec"] = {"selector": {"matchLabels": labels}, "template": template}
        if kind == "StatefulSet":
            obj["spec"]["serviceName"] = labels["app"]
    return obj


def parse(obj: dict[str, Any], name: str = "fixture.yaml") -> list[Any]:
    """Dump and re-read an object through the real manifest reader (as a file would be)."""
    collected = read_text(dump_yaml(obj).encode(), name)
    assert not collected.errors, collected.errors
    return collected.objects


def pss_rules(ruleset: RuleSet, level: str) -> dict[str, set[str]]:
    """Rule id → PSS controls it is mapped to, for rules that count at `level`."""
    prefixes = ("pss-baseline:",) if level == "baseline" else ("pss-baseline:", "pss-restricted:")
    out: dict[str, set[str]] = {}
    for rule in ruleset.rules:
        controls = {f.split(":", 1)[1] for f in rule.rule.frameworks if f.startswith(prefixes)}
        if controls:
            out[rule.id] = controls
    return out
