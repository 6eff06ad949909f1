"""One context's row in the fleet (kept light: the explorer builds rows before the engine loads)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from kspm_tui.model import Finding, Severity, Status

if TYPE_CHECKING:
    from kspm_tui.fleet.reports import Rebuilt

OK, NO_REPORTER, UNREACHABLE, NO_ACCESS = "ok", "no reporter", "unreachable", "no access"
TOP_RULES = 3


@dataclass(slots=True)
class ClusterPosture:
    """One context's row in the fleet: how its reports were read and what they say."""

    context: str
    status: str = "waiting"  # waiting | reading | ok | no reporter | unreachable | no access
    reason: str = ""
    server: str | None = None
    rebuilt: Rebuilt | None = None

    @property
    def readable(self) -> bool:
        """The cluster answered (with reports or without): what exit code 3/4 count against."""
        return self.status in (OK, NO_REPORTER)

    @property
    def score(self) -> int | None:
        return self.rebuilt.result.summary.score if self.rebuilt else None

    @property
    def by_severity(self) -> dict[str, int]:
        return self.rebuilt.result.summary.by_severity if self.rebuilt else {}

    @property
    def scanned_at(self) -> datetime | None:
        return self.rebuilt.scanned_at if self.rebuilt else None

    @property
    def findings(self) -> list[Finding]:
        return self.rebuilt.result.findings if self.rebuilt else []

    def top_rules(self, limit: int = TOP_RULES) -> list[tuple[str, Severity, int]]:
        """The rules failing most, worst severity first: (rule, severity, failing findings)."""
        counts: Counter[tuple[str, Severity]] = Counter(
            (f.rule, f.severity) for f in self.findings if f.status is Status.fail)
        ranked = sorted(counts.items(), key=lambda kv: (-kv[0][1].rank, -kv[1], kv[0][0]))
        return [(rule, severity, n) for (rule, severity), n in ranked[:limit]]


def age(then: datetime | None, now: datetime) -> str:
    """How old the reports are, the way kubectl shows an AGE: `45s`, `12m`, `3h`, `9d` ("" unknown)."""
    if then is None:
        return ""
    seconds = max(0, int((now - then).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
