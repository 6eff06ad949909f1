"""A watch's failing findings kept by difference: what each batch publishes costs what it changed.

A batch re-evaluates a few units (`incremental.py`); here their findings replace what those
units had, and only they are judged against accepted risks, counted and diffed into finding
opened/resolved events. Everything is judged again only when the exceptions change (a file
edited, an accept annotation added or removed) or the day does (an exception expires at a
date boundary), and after a full re-evaluation. The summary's counts are kept the same way
(`Tally`): a re-evaluated unit's old share of the checks run, superseded failures, workloads
and hidden workloads is subtracted and its new share added (`engine/units.py`), so objects,
workloads, every rule's passed and failed counts and the score stay those of a full scan. The
whole report (every finding sorted, the summary, the inventory) is built only when someone asks
for it (`result`): the CLI never does (its heartbeat shows `score`), the explorer at most once
per refresh.
`tests/test_watch_publish.py` proves the published state equal to a full scan after every batch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from kspm_tui.engine.units import ALWAYS, UnitCounts
from kspm_tui.inventory import build_inventory, object_accept_annotations
from kspm_tui.model import AcceptAnnotation, Category, Finding, InputError, RuleStat, ScanResult, Severity, Status
from kspm_tui.results import capped_score, resummarize, sort_findings, weighted_pass_rate
from kspm_tui.scan import hidden_namespaces
from kspm_tui.snapshot import Key, Snapshot
from kspm_tui.triage.acceptance import (
    AcceptedRisk,
    annotation_exceptions,
    judge,
    load_exceptions,
    refused_self_waivers,
    today_utc,
)

if TYPE_CHECKING:
    from kspm_tui.engine.evaluate import Evaluation
    from kspm_tui.sources import Collected
    from kspm_tui.target import ScanSettings


@dataclass(slots=True)
class Delta:
    """One batch's change to the failing findings, for a consumer that applies it (the explorer)."""

    added: list[Finding] = field(default_factory=list)  # new or re-evaluated (a known fingerprint is replaced)
    removed: list[str] = field(default_factory=list)  # fingerprints no longer failing
    whole: bool = False  # everything was re-evaluated or re-judged: rebuild rather than apply


@dataclass(slots=True)
class Published:
    """What one batch published: findings opened and resolved (sorted), and the delta."""

    opened: list[Finding]
    resolved: list[Finding]
    delta: Delta


def unit_of(finding: Finding) -> Key:
    return (finding.kind, finding.namespace, finding.name)


def rebased(base: ScanResult, evaluation: Evaluation) -> ScanResult:
    """The first scan's report (`FailingFindings.result`'s base) with the rules not assessable
    as of this run: a control-plane component can come into view, or go, while watching. Every
    run decides them all (coverage, control plane). A rule error this run met that the report
    does not list yet is added after the others: the rule pack is the same for the watch's whole
    life, so a rule that broke on one object stays listed. The same base when nothing changed."""
    update: dict[str, Any] = {}
    now = {rule: stat.reason for rule, stat in evaluation.stats.items() if stat.not_assessable}
    if now != {stat.rule: stat.reason for stat in base.rule_stats if stat.not_assessable}:
        update["findings"] = [f for f in evaluation.findings if f.status is Status.not_assessable]
        update["rule_stats"] = [stat.model_copy(update={"not_assessable": stat.rule in now,
                                                        "reason": now.get(stat.rule, "")})
                                for stat in base.rule_stats]
    listed = {error.rule for error in base.rule_errors}
    if met := [error for error in evaluation.rule_errors if error.rule not in listed]:
        update["rule_errors"] = base.rule_errors + met
    return base.model_copy(update=update) if update else base


class Tally:
    """The counts a summary needs beyond the failing findings, kept by each unit's share."""

    def __init__(self) -> None:
        self.units: dict[Key, UnitCounts] = {}
        self.evaluated: Counter[str] = Counter()  # checks run, per rule
        self.superseded: Counter[str] = Counter()
        self.workloads = 0
        self.excluded = 0  # workloads in hidden system namespaces
        self.excluded_findings: Counter[str] = Counter()  # their failures, per severity

    def replace(self, only: frozenset[Key] | None, units: dict[Key, UnitCounts]) -> None:
        """The shares of a run over `only` (None: everything) replace those units' own; the
        cluster and control-plane rules' share (`ALWAYS`) is replaced on every run."""
        touched = self.units.keys() | units.keys() if only is None else only | units.keys() | {ALWAYS}
        for unit in touched:
            old = self.units.pop(unit, None)
            if old is not None:
                self._add(old, -1)
            new = units.get(unit)
            if new is not None:
                self.units[unit] = new
                self._add(new, 1)

    def _add(self, counts: UnitCounts, sign: int) -> None:
        for rule, n in counts.evaluated:
            self.evaluated[rule] += sign * n
        for rule, n in counts.superseded:
            self.superseded[rule] += sign * n
        for severity, n in counts.excluded_findings:
            self.excluded_findings[severity] += sign * n
        self.workloads += sign * counts.workloads
        self.excluded += sign * counts.excluded


class FailingFindings:
    """Failing findings (accepted ones included, judged) by unit, with counts and the open set."""

    def __init__(self, settings: ScanSettings, names: tuple[str, ...], always: Callable[[Finding], bool]) -> None:
        self.settings = settings
        self.names = names  # the cluster's name and context, which exceptions may name
        self.always = always  # findings of rules run whole on every batch (replaced every time)
        self.failing: dict[str, Finding] = {}
        self.open: dict[str, Finding] = {}  # failing and not accepted
        self.open_by: Counter[tuple[Severity, Category]] = Counter()  # the open ones by severity and category
        self.failed: Counter[str] = Counter()  # per rule, accepted ones included (as `RuleStat.failed`)
        self.accepted: Counter[str] = Counter()
        self.risks: list[AcceptedRisk] = []
        self.errors: list[InputError] = []  # reading the exceptions (refused self-waivers: in `result`)
        self.judged = 0  # findings judged against accepted risks so far (tests count it)
        self.tally = Tally()
        self._units: dict[Key, set[str]] = {}
        self._always: set[str] = set()
        self._annotations: dict[Key, list[AcceptAnnotation]] = {}
        self._judged_on: date | None = None

    def annotate(self, snapshot: Snapshot, keys: Iterable[Key] | None) -> None:
        """Take the accept annotations of these objects as they are now (None: every object)."""
        if keys is None:
            self._annotations = {}
            keys = snapshot.index.keys()
        for key in keys:
            item = snapshot.index.get(key)
            notes = object_accept_annotations(item.obj) if item is not None else []
            if notes:
                self._annotations[key] = notes
            else:
                self._annotations.pop(key, None)

    def replace(self, only: frozenset[Key] | None, fresh: list[Finding], units: dict[Key, UnitCounts],
                today: date | None = None) -> Published:
        """The failing findings and counts (`Evaluation.units`) of a run over `only` (None:
        everything) replace those units' own."""
        today = today or today_utc()
        self.tally.replace(only, units)
        before = self.failing
        if only is None:
            dropped = list(before.values())
            self.failing, self._units, self._always = {}, {}, set()
        else:
            gone = set(self._always)
            self._always = set()
            for unit in only:
                gone |= self._units.pop(unit, set())
            dropped = [before.pop(fp) for fp in gone]
        for finding in dropped:
            self._count(finding, -1)
        for finding in fresh:
            old = self.failing.get(finding.fingerprint)
            if old is not None:  # another unit's (not re-evaluated) finding of that fingerprint
                self._units.get(unit_of(old), set()).discard(old.fingerprint)
                self._always.discard(old.fingerprint)
                self._count(old, -1)
                dropped.append(old)
            self.failing[finding.fingerprint] = finding
            if self.always(finding):
                self._always.add(finding.fingerprint)
            else:
                self._units.setdefault(unit_of(finding), set()).add(finding.fingerprint)
            self.failed[finding.rule] += 1
        whole = self._judge(fresh, today, everything=only is None)
        if whole:
            return self._diff(list(self.failing), True)
        return self._diff({f.fingerprint for f in dropped} | {f.fingerprint for f in fresh}, False)

    def _count(self, finding: Finding, sign: int) -> None:
        self.failed[finding.rule] += sign
        if finding.status is Status.accepted:
            self.accepted[finding.rule] += sign

    def _judge(self, fresh: list[Finding], today: date, *, everything: bool) -> bool:
        """Judge the fresh findings, or every one when the exceptions or the day changed; True: every one."""
        risks, errors = load_exceptions(self.settings.exception_files, user_file=self.settings.user_exceptions)
        notes = [note for notes in self._annotations.values() for note in notes]
        from_annotations, bad = annotation_exceptions(notes, self.settings.config.annotation_exceptions)
        risks += from_annotations
        self.errors = errors + bad
        everything = everything or risks != self.risks or today != self._judged_on
        self.risks, self._judged_on = risks, today
        findings = (list(self.failing.values()) if everything
                    else [f for f in fresh if self.failing.get(f.fingerprint) is f])
        self.judged += len(findings)
        accepted = judge(findings, risks, self.names, today)
        if everything:
            self.accepted = accepted
        else:
            self.accepted.update(accepted)
        return everything

    def _diff(self, fingerprints: Iterable[str], whole: bool) -> Published:
        """Opened and resolved among these fingerprints; the open set brought up to date."""
        opened, resolved, removed = [], [], []
        for fp in fingerprints:
            now = self.failing.get(fp)
            was = self.open.get(fp)
            if now is None:
                removed.append(fp)
            if was is not None:
                self.open_by[was.severity, was.category] -= 1
            if now is not None and now.status is Status.fail:
                self.open[fp] = now
                self.open_by[now.severity, now.category] += 1
                if was is None:
                    opened.append(now)
            elif was is not None:
                del self.open[fp]
                resolved.append(was)
        if whole:
            for fp in [fp for fp in self.open if fp not in self.failing]:
                was = self.open.pop(fp)
                self.open_by[was.severity, was.category] -= 1
                resolved.append(was)
        added = [] if whole else [f for fp in fingerprints if (f := self.failing.get(fp)) is not None]
        return Published(sort_findings(opened), sort_findings(resolved), Delta(added, removed, whole))

    def rule_stats(self, base: ScanResult) -> list[RuleStat]:
        """The first scan's stats (severity, not assessable) with today's counts: a superseded
        failure is counted as failed, as the engine does, though no finding of its own is kept."""
        tally = self.tally
        return [st.model_copy(update={"evaluated": tally.evaluated[st.rule],
                                      "failed": self.failed[st.rule] + tally.superseded[st.rule],
                                      "superseded": tally.superseded[st.rule],
                                      "accepted": self.accepted[st.rule]})
                for st in base.rule_stats]

    def score(self, base: ScanResult) -> int:
        """The posture score `result` would give, from the counts alone (no findings walked, no
        report): what the CLI watch's heartbeat shows after every batch."""
        tally = self.tally
        uncapped = weighted_pass_rate((st.severity or Severity.info, tally.evaluated[st.rule],
                                       self.failed[st.rule] - self.accepted[st.rule]) for st in base.rule_stats)
        return capped_score(self.open_by, uncapped)

    def result(self, base: ScanResult, snapshot: Snapshot, collected: Collected) -> ScanResult:
        """The whole report: the first scan's (not-assessable findings, stats) with today's failing
        findings, counts, summary and inventory. Linear in findings: built only when asked for."""
        tally = self.tally
        excluded = base.excluded.model_copy(update={
            "namespaces": hidden_namespaces(self.settings, collected, snapshot),
            "workloads": tally.excluded, "findings": sum(tally.excluded_findings.values()),
            "by_severity": {s.value: n for s in Severity if (n := tally.excluded_findings[s.value])}})
        result = base.model_copy(update={
            "findings": sort_findings(base.findings + list(self.failing.values())),
            "inventory": build_inventory(snapshot), "excluded": excluded, "rule_stats": self.rule_stats(base),
            "summary": base.summary.model_copy(update={"objects": len(snapshot), "workloads": tally.workloads})})
        result.summary = resummarize(result)
        result.exception_errors = self.errors + refused_self_waivers(result, self.risks)
        return result
