"""`--format junit`: JUnit XML, so a CI system lists posture like test results.

One `<testsuite>` per rule (CI systems group test cases by suite and class), one `<testcase>`
per rule and object: `classname` is the rule id, `name` the object (`Kind/namespace/name`, the
container in brackets). A failing finding is a `<failure>` (message, severity as its type, and
the fix in its text); an accepted risk is `<skipped>` with who accepted it, why and until when;
a check that could not be assessed is an `<error>`. A rule that failed nowhere is one passing
test case naming how many objects it checked. Valid against the Jenkins xunit JUnit schema
(`junit-10.xsd`; tests/schemas/junit/). Text quoting names from clusters and files passes the
one sanitiser: XML cannot carry control characters, and CI pages show what is here.
"""

from __future__ import annotations

from collections import defaultdict
from xml.etree import ElementTree as ET

from kspm_tui.labels import object_ref
from kspm_tui.model import Finding, ScanResult, Status
from kspm_tui.textsafe import visible


def _text(value: object) -> str:
    return visible(str(value), keep_lines=True)


def _case_name(f: Finding) -> str:
    return object_ref(f.kind, f.namespace, f.name) + (f" [{f.container}]" if f.container else "")


def _body(f: Finding) -> str:
    """What a CI page shows under a failure: severity, message, why the fix is safe or not, the fix."""
    lines = [f"severity: {f.severity.value}", f"category: {f.category.value}", f"message: {f.message}"]
    fix = f.remediation
    if fix.kubectl:
        lines.append(f"fix: {fix.kubectl}")
        if fix.safety is not None:
            lines.append(f"fix verdict: {fix.verdict_text()}")
    if fix.guidance:
        lines.append(f"guidance: {fix.guidance}")
    if f.source.file:
        lines.append(f"file: {f.source.file}" + (f":{f.source.line}" if f.source.line else ""))
    return _text("\n".join(lines))


def _case(suite: ET.Element, f: Finding) -> None:
    case = ET.SubElement(suite, "testcase", classname=_text(f.rule), name=_text(_case_name(f)))
    if f.status is Status.fail:
        ET.SubElement(case, "failure", message=_text(f.message), type=f.severity.value).text = _body(f)
    elif f.status is Status.accepted and f.acceptance is not None:
        acc = f.acceptance
        until = f" until {acc.expires.isoformat()}" if acc.expires else ""
        by = f" by {acc.owner}" if acc.owner else ""
        ET.SubElement(case, "skipped", message=_text(f"accepted{by}{until}: {acc.reason}"))
    elif f.status is Status.not_assessable:
        ET.SubElement(case, "error", message=_text(f.message), type="not-assessable")


def build(result: ScanResult) -> ET.Element:
    by_rule: dict[str, list[Finding]] = defaultdict(list)
    for f in result.findings:
        if f.status is not Status.passed:
            by_rule[f.rule].append(f)
    titles = {r.id: r.title for r in result.rules}
    root = ET.Element("testsuites", name=_text(f"kspm-tui {result.cluster.name}"))
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for stat in sorted(result.rule_stats, key=lambda s: s.rule):
        findings = by_rule.get(stat.rule, [])
        if not findings and not stat.evaluated:
            continue  # nothing of this rule's kind was scanned
        counts = {"tests": max(len(findings), 1),
                  "failures": sum(f.status is Status.fail for f in findings),
                  "errors": sum(f.status is Status.not_assessable for f in findings),
                  "skipped": sum(f.status is Status.accepted for f in findings)}
        suite = ET.SubElement(root, "testsuite", name=_text(f"{stat.rule} {titles.get(stat.rule, '')}".strip()),
                              timestamp=result.started.strftime("%Y-%m-%dT%H:%M:%S"),
                              **{k: str(v) for k, v in counts.items()})
        for f in findings:
            _case(suite, f)
        if not findings:
            ET.SubElement(suite, "testcase", classname=stat.rule, name=f"all {stat.evaluated} checked objects")
        for key in totals:
            totals[key] += counts[key]
    root.attrib.update({k: str(v) for k, v in totals.items()}, time=f"{result.duration_s:.3f}")
    return root


def render(result: ScanResult) -> str:
    root = build(result)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
