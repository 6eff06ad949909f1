"""A cluster's kspm-tui PolicyReports (listed by `sources/policyreports.py`) rebuilt into a `ScanResult`.

The in-cluster reporter keeps `wgpolicyk8s.io/v1alpha2` PolicyReports (one per workload, one
per namespace for other objects, a ClusterPolicyReport for cluster-scoped findings), labelled
`app.kubernetes.io/managed-by: kspm-tui`. Their results are findings already judged in the
cluster; here they become `Finding`s again — the rule's title, why and guidance from the rules
loaded here, fingerprint, container, safety and acceptance from the result's properties — so
every screen and report works on them as on a scan. Reports carry no pass records, so the
score is the weighted pass rate over the objects the reports name (caps apply as in a scan).

A report's text is written by whoever can write PolicyReports: a fix command is never passed
through as written. Only a `kubectl patch --type=strategic` body is taken from it, and the
command is built again by our own argv builder for the user's context.
"""

from __future__ import annotations

import re
import shlex
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from kspm_tui import __version__, remediation
from kspm_tui.engine.loader import CompiledRule, RuleSet
from kspm_tui.kinds import WORKLOAD_KINDS
from kspm_tui.model import (Category, ClusterInfo, Exception_, Finding, FindingRemediation, InputError, RuleStat,
                            Safety, ScanResult, Scope, Severity, SourceRef, Status, Tool)
from kspm_tui.results import rule_info, sort_findings, summarize
from kspm_tui.wgpolicy import CLUSTER_LABEL, SCANNED_AT, SOURCE
from kspm_tui.yamlio import load_json

_QUOTED_BODY = re.compile(r" --type=strategic -p '([^']*)'(?= |$)")
STATUS = {"fail": Status.fail, "warn": Status.fail, "skip": Status.accepted, "error": Status.not_assessable,
          "pass": Status.passed}


def _meta(report: dict[str, Any]) -> dict[str, Any]:
    meta = report.get("metadata")
    return meta if isinstance(meta, dict) else {}


@dataclass(slots=True)
class Place:
    """Who the findings belong to: the cluster's id and name and the context they are read through."""

    cluster_name: str
    context: str | None = None
    server: str | None = None


@dataclass(slots=True)
class Rebuilt:
    """Findings read back from reports, and when the reporter last wrote them."""

    result: ScanResult
    scanned_at: datetime | None = None
    reports: int = 0


def rebuild(reports: list[dict[str, Any]], ruleset: RuleSet, place: Place) -> Rebuilt:
    """The reports' kspm-tui results as a ScanResult (sorted, summarised, rules explained); a result
    that cannot be read is an input error naming its report and position, the rest still count."""
    rules = ruleset.by_id()
    findings: dict[str, Finding] = {}
    errors: list[InputError] = []
    objects: set[tuple[str, str | None, str]] = set()
    workloads: set[tuple[str, str | None, str]] = set()
    cluster_id, newest, stamped = "", None, None  # the reporter's scanned-at, else the newest result's time
    for report in reports:
        meta = _meta(report)
        where = f"{report.get('kind', 'PolicyReport')} " + "/".join(
            str(p) for p in (meta.get("namespace"), meta.get("name")) if p)
        cluster_id = cluster_id or str((meta.get("labels") or {}).get(CLUSTER_LABEL) or "")
        newest = _later(newest, _rfc3339((meta.get("annotations") or {}).get(SCANNED_AT)))
        scope = report.get("scope")
        if isinstance(scope, dict) and scope.get("kind") and scope.get("name"):
            key = (str(scope["kind"]), scope.get("namespace"), str(scope["name"]))
            objects.add(key)
            if key[0] in WORKLOAD_KINDS:
                workloads.add(key)
        results = report.get("results") or []
        if not isinstance(results, list):
            errors.append(InputError(file=where, message="`results` is not a list"))
            continue
        for number, item in enumerate(results, 1):
            if not isinstance(item, dict) or item.get("source") != SOURCE:
                continue  # another tool's result in a shared report
            try:
                finding, stamp = _finding(item, rules, cluster_id, place, where)
            except (KeyError, TypeError, ValueError) as exc:
                why = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
                errors.append(InputError(file=where, document=number, message=f"unreadable result: {why}"))
                continue
            stamped = _later(stamped, stamp)
            findings.setdefault(finding.fingerprint, finding)  # a split report lists each result once
            objects.add((finding.kind, finding.namespace, finding.name))
            if finding.kind in WORKLOAD_KINDS:
                workloads.add((finding.kind, finding.namespace, finding.name))
    newest = newest or stamped
    ordered = sort_findings(list(findings.values()))
    stats, severities = _stats(ordered, rules, len(objects))
    result = ScanResult(
        tool=Tool(version=__version__),
        cluster=ClusterInfo(id=cluster_id or place.cluster_name, name=place.cluster_name, context=place.context,
                            server=place.server),
        started=newest or datetime.now(UTC),
        summary=summarize(ordered, stats, severities, objects=len(objects), workloads=len(workloads)),
        findings=ordered,
        errors=errors,
        rule_stats=stats,
        rules=[rule_info(rules[s.rule].rule) for s in stats if s.rule in rules],
    )
    return Rebuilt(result, newest, len(reports))


def _finding(item: dict[str, Any], rules: dict[str, CompiledRule], cluster_id: str, place: Place,
             where: str) -> tuple[Finding, datetime | None]:
    rule_id = str(item.get("policy") or item["rule"])
    compiled = rules.get(rule_id)
    rule = compiled.rule if compiled else None
    props = {str(k): str(v) for k, v in (item.get("properties") or {}).items()}
    resources = item.get("resources") or []
    if resources:
        resource = resources[0]
        kind, name, namespace = str(resource["kind"]), str(resource["name"]), resource.get("namespace")
        namespace = str(namespace) if namespace else None
    else:  # a finding about the cluster itself
        kind, name, namespace = "Cluster", place.cluster_name, None
    status = STATUS.get(str(item.get("result", "fail")))
    if status is None:
        raise ValueError(f"result {item.get('result')!r} is none of {', '.join(STATUS)}")
    severity = _enum(Severity, item.get("severity")) or (rule.severity if rule else Severity.info)
    category = _enum(Category, item.get("category")) or (rule.category if rule else Category.workload)
    acceptance = _acceptance(props, where)
    if status is Status.accepted and acceptance is None:
        acceptance = Exception_(reason="skipped by the in-cluster reporter (no reason given)", origin=where)
    file, _, line = props.get("file", "").rpartition(":")
    if not line.isdigit():  # `path:line`, or a path alone
        file, line = props.get("file", ""), ""
    finding = Finding(
        rule=rule_id, title=rule.title if rule else rule_id, severity=severity, status=status, category=category,
        cluster=cluster_id or place.cluster_name, kind=kind, namespace=namespace, name=name,
        container=props.get("container") or None, message=str(item.get("message") or ""),
        frameworks=[f for f in props["frameworks"].split(",") if f] if "frameworks" in props
        else list(rule.frameworks if rule else []),
        source=SourceRef(file=file or None, line=int(line) if line else None),
        remediation=_remediation(props, kind, name, namespace, place.context, rule.remediation.guidance if rule else ""),
        fingerprint=props.get("fingerprint", ""), context=place.context, acceptance=acceptance,
    )
    stamp = item.get("timestamp")
    seconds = stamp.get("seconds") if isinstance(stamp, dict) else None
    return finding, datetime.fromtimestamp(int(seconds), UTC) if seconds else None


def _enum(kind: type[Severity | Category], value: object) -> Any:
    try:
        return kind(value)
    except ValueError:
        return None


def _acceptance(props: dict[str, str], where: str) -> Exception_ | None:
    """`accepted{Reason,By,Until}` (the risk is accepted) or `exceptionExpired{...}` (it was)."""
    for prefix, expired in (("accepted", False), ("exceptionExpired", True)):
        reason = props.get(f"{prefix}Reason")
        if reason:
            until = props.get(f"{prefix}Until")
            return Exception_(reason=reason, owner=props.get(f"{prefix}By", ""), origin=where, expired=expired,
                              expires=date.fromisoformat(until) if until else None)
    return None


def patch_of(command: str | None) -> dict[str, Any] | None:
    """The strategic-merge body of a `kubectl patch --type=strategic -p BODY` command, or None."""
    if not command or not command.startswith("kubectl patch "):
        return None
    quoted = _QUOTED_BODY.search(command)  # how commands.render quotes a body without `'`: no shell parse needed
    if quoted is not None:
        text = quoted.group(1)
    else:
        try:
            argv = shlex.split(command)
        except ValueError:
            return None
        if "--type=strategic" not in argv or "-p" not in argv or argv.index("-p") + 1 >= len(argv):
            return None
        text = argv[argv.index("-p") + 1]
    try:
        body = load_json(text.encode())
    except ValueError:
        return None
    return body if isinstance(body, dict) and body else None


def _remediation(props: dict[str, str], kind: str, name: str, namespace: str | None, context: str | None,
                 guidance: str) -> FindingRemediation:
    """The fix as the explorer shows it: the report's patch, our command for this context, its verdict."""
    patch = patch_of(props.get("kubectl"))
    verdict = props.get("safety")
    if patch is None:
        return FindingRemediation(guidance=guidance)
    if verdict == "breaking":
        return FindingRemediation(guidance=" ".join(t for t in (guidance, (
            "The in-cluster reporter judged the patch to break this workload, so none is offered.")) if t))
    fix = remediation.build(Scope.object, kind, name, namespace, patch, guidance, context=context)
    if verdict in ("safe", "review"):
        fix.safety = Safety(verdict)
        fix.safety_reason = ("judged safe by the in-cluster reporter" if verdict == "safe" else
                             "judged `review` by the in-cluster reporter (reports carry no reason: scan live for it)")
    else:
        fix.safety, fix.safety_reason = Safety.review, "the report gives no verdict for this fix"
    return fix


def _stats(findings: list[Finding], rules: dict[str, CompiledRule], objects: int
           ) -> tuple[list[RuleStat], dict[str, Severity]]:
    """Per-rule stats for the score: each rule counted over the objects the reports name."""
    failed: Counter[str] = Counter()
    accepted: Counter[str] = Counter()
    errored: set[str] = set()
    severities: dict[str, Severity] = {}
    for f in findings:
        if f.status in (Status.fail, Status.accepted):
            failed[f.rule] += 1
            accepted[f.rule] += f.status is Status.accepted
        elif f.status is Status.not_assessable:
            errored.add(f.rule)
        known = rules.get(f.rule)
        worst = known.rule.severity if known else f.severity
        if f.rule not in severities or worst.rank > severities[f.rule].rank:
            severities[f.rule] = worst
    stats = [RuleStat(rule=rule, severity=severities[rule], evaluated=max(objects, failed[rule]),
                      failed=failed[rule], accepted=accepted[rule], not_assessable=rule in errored)
             for rule in sorted(severities)]
    return stats, severities


def _rfc3339(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return max(a, b)
