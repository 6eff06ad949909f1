"""Pod Security levels computed from the PSS rules' own results: one fact for the whole tool.

A workload satisfies `restricted` when no rule mapped to `pss-baseline:` or `pss-restricted:`
fails on it, `baseline` when only restricted ones fail, else only `privileged`. A namespace's
level is the strictest one every workload in it satisfies. The namespace rule "enforces a level
its workloads violate", the Pod Security label fix and the safety verdicts all read this.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

LEVELS = ("privileged", "baseline", "restricted")


def rank(level: str) -> int:
    """privileged 0 < baseline 1 < restricted 2; an unknown or empty label counts as privileged."""
    return LEVELS.index(level) if level in LEVELS else 0


def level_of_failures(frameworks: list[list[str]]) -> tuple[str, list[str]]:
    """The level a workload satisfies given the framework lists of the rules it fails,
    and the PSS controls that keep it from the next level up."""
    baseline = sorted({f.split(":", 1)[1] for fs in frameworks for f in fs if f.startswith("pss-baseline:")})
    if baseline:
        return "privileged", baseline
    restricted = sorted({f.split(":", 1)[1] for fs in frameworks for f in fs if f.startswith("pss-restricted:")})
    return ("baseline", restricted) if restricted else ("restricted", [])


@dataclass(slots=True)
class PodSecurityLevels:
    """Each workload's level (kind, namespace, name) and what blocks the next one."""

    workloads: dict[tuple[str, str | None, str], tuple[str, list[str]]] = field(default_factory=dict)

    def add(self, kind: str, namespace: str | None, name: str, failed_frameworks: list[list[str]]) -> None:
        self.workloads[(kind, namespace, name)] = level_of_failures(failed_frameworks)

    def level(self, kind: str, namespace: str | None, name: str) -> str | None:
        known = self.workloads.get((kind, namespace, name))
        return known[0] if known else None

    def namespace_fact(self) -> dict[str, dict[str, Any]]:
        """namespace → {level, blocking: {baseline: [...], restricted: [...]}} for `ns.podSecurity`.

        `blocking[L]` names the workloads (`Kind/name`) that would be rejected if L were enforced.
        """
        out: dict[str, dict[str, Any]] = defaultdict(
            lambda: {"level": "restricted", "blocking": {"baseline": [], "restricted": []}})
        for (kind, namespace, name), (level, _) in sorted(self.workloads.items(), key=lambda kv: (
                kv[0][1] or "", kv[0][0], kv[0][2])):
            fact = out[namespace or ""]
            for wanted in ("baseline", "restricted"):
                if rank(level) < rank(wanted):
                    fact["blocking"][wanted].append(f"{kind}/{name}")
            if rank(level) < rank(fact["level"]):
                fact["level"] = level
        return dict(out)


def empty_fact() -> dict[str, Any]:
    return {"level": "restricted", "blocking": {"baseline": [], "restricted": []}}
