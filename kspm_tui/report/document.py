"""The content of the human-readable reports (Markdown, HTML), computed once for both.

Sections: summary (score, counts by severity and status), one table per compliance
framework (each mapped control, its rule and whether it passed), failing findings, accepted
findings (who/why/until), and what could not be assessed or read.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from kspm_tui.labels import FRAMEWORK_TITLES
from kspm_tui.model import Exception_, Finding, RuleInfo, RuleStat, ScanResult, Severity, Status


@dataclass(slots=True)
class ControlRow:
    control: str
    rule: RuleInfo
    outcome: str  # pass | fail | accepted | not assessable | not evaluated
    failing: int
    accepted: int
    evaluated: int


@dataclass(slots=True)
class ReportDocument:
    result: ScanResult
    frameworks: dict[str, list[ControlRow]] = field(default_factory=dict)
    failing: list[Finding] = field(default_factory=list)
    accepted: list[Finding] = field(default_factory=list)
    not_assessable: list[RuleStat] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def severity_counts(self) -> list[tuple[Severity, int]]:
        by = self.result.summary.by_severity
        return [(s, by.get(s.value, 0)) for s in Severity]


def outcome(stat: RuleStat | None) -> str:
    if stat is None or (stat.evaluated == 0 and not stat.not_assessable):
        return "not evaluated"
    if stat.not_assessable:
        return "not assessable"
    if stat.failed > stat.accepted:
        return "fail"
    return "accepted" if stat.accepted else "pass"


def control_counts(rows: list[ControlRow]) -> str:
    """"16 controls, 3 failing": a control fails if any rule mapped to it fails."""
    controls = {row.control for row in rows}
    failing = {row.control for row in rows if row.outcome == "fail"}
    return f"{len(controls)} controls, {len(failing)} failing."


def framework_title(key: str) -> str:
    return FRAMEWORK_TITLES.get(key, key)


def rule_pack(result: ScanResult) -> str:
    """Which rules judged this scan, for an auditor: the tool version, the rule count and a digest
    of the rules' ids, titles, severities and framework mappings (changes when any of them does)."""
    text = "\n".join(f"{r.id}|{r.title}|{r.severity.value}|{','.join(r.frameworks)}"
                     for r in sorted(result.rules, key=lambda r: r.id))
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    return f"kspm-tui {result.tool.version}, {len(result.rules)} rules (digest {digest})"


def exceptions_in_force(accepted: list[Finding]) -> list[tuple[Exception_, int]]:
    """Each exception that accepts at least one finding, with how many: the cover's list."""
    counts: Counter[tuple[str, str, str, str]] = Counter()
    first: dict[tuple[str, str, str, str], Exception_] = {}
    for f in accepted:
        if f.acceptance is None:
            continue
        a = f.acceptance
        key = (a.origin, a.reason, a.owner, str(a.expires or ""))
        counts[key] += 1
        first.setdefault(key, a)
    return [(first[key], n) for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def build(result: ScanResult) -> ReportDocument:
    stats = {s.rule: s for s in result.rule_stats}
    frameworks: dict[str, list[ControlRow]] = defaultdict(list)
    for rule in result.rules:
        stat = stats.get(rule.id)
        for ref in rule.frameworks:
            key, _, control = ref.partition(":")
            failing = (stat.failed - stat.accepted) if stat else 0
            frameworks[key].append(ControlRow(control or key, rule, outcome(stat), max(failing, 0),
                                              stat.accepted if stat else 0, stat.evaluated if stat else 0))
    ordered = {k: sorted(frameworks[k], key=lambda r: (_natural(r.control), r.rule.id))
               for k in sorted(frameworks, key=lambda k: (k not in FRAMEWORK_TITLES, k))}
    problems = [f"input: {e.where()}: {e.message}" for e in result.errors]
    problems += [f"rule: {e.file}" + (f" [{e.rule}]" if e.rule else "") + f": {e.message}"
                 for e in result.rule_errors]
    problems += [e.exceptions_line() for e in result.exception_errors]
    problems += [f"coverage: {gap.reason}" for gap in result.coverage]
    return ReportDocument(
        result=result, frameworks=ordered,
        failing=[f for f in result.findings if f.status is Status.fail],
        accepted=[f for f in result.findings if f.status is Status.accepted],
        not_assessable=[s for s in result.rule_stats if s.not_assessable],
        problems=problems,
    )


def _natural(text: str) -> tuple:
    """5.2.10 after 5.2.9."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in text.replace("-", ".").split("."))
