"""Scan results: summary counts and the posture score, computed one way for CLI, reports and TUI."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from enum import Enum

from kspm_tui.model import (Category, Finding, Rule, RuleInfo, RuleStat, ScanResult, ScoreCap, Severity, Status,
                            Summary)

# How much one failed check of each severity weighs in the posture score.
SEVERITY_WEIGHT = {Severity.critical: 10, Severity.high: 5, Severity.medium: 3, Severity.low: 1,
                   Severity.info: 0}
# What an open (failing, not accepted) finding caps the score at, worst first: a pass rate
# cannot hide an attacker's way in. (severity, only attack paths?, max, what it is called)
SCORE_CAPS = (
    (Severity.critical, True, 20, "critical attack path"),
    (Severity.critical, False, 40, "critical finding"),
    (Severity.high, True, 50, "high attack path"),
    (Severity.high, False, 70, "high finding"),
)


def posture_score(stats: list[RuleStat], severities: dict[str, Severity]) -> int:
    """100 × (1 − weighted failed checks ÷ weighted evaluated checks); accepted is not failed, and a
    failure another rule's finding reports (`supersedes`) is counted once, by that rule."""
    return weighted_pass_rate((severities[stat.rule], stat.evaluated, stat.failed - stat.accepted - stat.superseded)
                              for stat in stats)


def weighted_pass_rate(checks: Iterable[tuple[Severity, int, int]]) -> int:
    """`posture_score` from (severity, checks evaluated, checks failing and scored) per rule."""
    total = failed = 0.0
    for severity, evaluated, failing in checks:
        weight = SEVERITY_WEIGHT[severity]
        total += weight * evaluated
        failed += weight * max(failing, 0)
    return 100 if total == 0 else max(0, round(100 * (1 - failed / total)))


def _cap(failing: Counter[tuple[Severity, Category]], uncapped: int) -> tuple[Severity, bool, int, str, int] | None:
    """The lowest of `SCORE_CAPS` the open findings (by severity and category) set, and their count."""
    for severity, paths_only, most, label in SCORE_CAPS:
        count = sum(n for (sev, cat), n in failing.items()
                    if sev is severity and (cat is Category.attack_path or not paths_only))
        if count and uncapped > most:
            return severity, paths_only, most, label, count
    return None


def capped_score(failing: Counter[tuple[Severity, Category]], uncapped: int) -> int:
    """The score once the open findings' cap applies (the number `score_cap` explains)."""
    cap = _cap(failing, uncapped)
    return cap[2] if cap else uncapped


def score_cap(findings: list[Finding], failing: Counter[tuple[Severity, Category]], uncapped: int) -> ScoreCap | None:
    """The lowest cap an open finding sets (`SCORE_CAPS`), naming the first such finding."""
    cap = _cap(failing, uncapped)
    if cap is None:
        return None
    severity, paths_only, most, label, count = cap
    first = next(f for f in findings if f.status is Status.fail and f.severity is severity
                 and (f.category is Category.attack_path or not paths_only))
    where = f"{first.kind}/{first.namespace}/{first.name}" if first.namespace else f"{first.kind}/{first.name}"
    others = f" and {count - 1} more" if count > 1 else ""
    return ScoreCap(max=most, uncapped=uncapped, reason=f"open {label}: {first.rule} on {where}{others}")


def cap_text(cap: ScoreCap) -> str:
    """One line every front end shows under a capped score."""
    return f"capped at {cap.max} (pass rate {cap.uncapped}): {cap.reason}"


def summarize(findings: list[Finding], stats: list[RuleStat], severities: dict[str, Severity],
              *, objects: int, workloads: int) -> Summary:
    # One pass, counting by id: this runs over every finding (100k+ on a big cluster), where
    # each visit is a cache miss, and an enum member's hash is a Python-level method.
    fail = Status.fail
    accepted = Status.accepted
    statuses: Counter[int] = Counter()
    failing: Counter[tuple[int, int]] = Counter()
    self_waived = 0
    for f in findings:
        status = f.status
        statuses[id(status)] += 1
        if status is fail:
            failing[id(f.severity), id(f.category)] += 1
        elif status is accepted and f.acceptance is not None and f.acceptance.self_waiver:
            self_waived += 1
    by_id: dict[int, Enum] = {id(m): m for members in (Status, Severity, Category) for m in members}
    by_severity: Counter[Enum] = Counter()
    by_category: Counter[Enum] = Counter()
    pairs: Counter[tuple[Severity, Category]] = Counter()
    for (severity, category), n in failing.items():
        by_severity[by_id[severity]] += n
        by_category[by_id[category]] += n
        pairs[by_id[severity], by_id[category]] += n  # type: ignore[index]
    uncapped = posture_score(stats, severities)
    cap = score_cap(findings, pairs, uncapped)
    return Summary(
        total=sum(failing.values()),
        by_severity={s.value: by_severity[s] for s in Severity if by_severity[s]},
        by_category={category.value: n for category, n in by_category.most_common()},
        by_status={by_id[status].value: n for status, n in statuses.items()},
        objects=objects,
        workloads=workloads,
        rules=len(stats),
        score=cap.max if cap else uncapped,
        score_cap=cap,
        self_waived=self_waived,
    )


def finding_order(f: Finding) -> tuple[int, str, str, str, str, str]:
    """Worst first, then by place, so output is stable and the top is what matters."""
    return (-f.severity.rank, f.rule, f.namespace or "", f.kind, f.name, f.container or "")


def sort_findings(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=finding_order)


def resummarize(result: ScanResult) -> Summary:
    """Recompute a result's summary after statuses changed (exceptions applied or re-applied)."""
    severities = {st.rule: st.severity or Severity.info for st in result.rule_stats}
    return summarize(result.findings, result.rule_stats, severities,
                     objects=result.summary.objects, workloads=result.summary.workloads)


def rule_info(rule: Rule) -> RuleInfo:
    return RuleInfo(id=rule.id, title=rule.title, severity=rule.severity, category=rule.category,
                    why=rule.why, guidance=rule.remediation.guidance, frameworks=rule.frameworks)
