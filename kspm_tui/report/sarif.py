"""`--format sarif`: SARIF 2.1.0 for code-scanning UIs (GitHub, GitLab, Azure DevOps).

One run; the driver lists every rule with its help text and a `security-severity` GitHub uses
to rank alerts. Manifest findings carry a file and line region (the offending field's line when
it can be found, else the document's first line); cluster findings a logical location.
Accepted findings are kept as results with an accepted suppression (reason, owner, expiry),
so they are visible as dismissed rather than missing.

Written in pieces (`chunks`), results a few hundred at a time: built whole, the document of
100k findings is a tree of dicts larger than the findings, then its bytes, then its text.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kspm_tui.labels import object_ref
from kspm_tui.model import Finding, RuleInfo, ScanResult, Severity, Status
from kspm_tui.report.locate import Wanted, lines
from kspm_tui.yamlio import dump_json

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFO_URI = "https://github.com/kspm-tui/kspm-tui"
LEVEL = {Severity.critical: "error", Severity.high: "error", Severity.medium: "warning",
         Severity.low: "note", Severity.info: "note"}
# GitHub: > 9.0 critical, 7.0–8.9 high, 4.0–6.9 medium, 0.1–3.9 low.
SECURITY_SEVERITY = {Severity.critical: "9.5", Severity.high: "8.0", Severity.medium: "5.5",
                     Severity.low: "3.0", Severity.info: "0.0"}


def _rule(info: RuleInfo) -> dict[str, Any]:
    help_text = info.why + (f"\n\nRemediation: {info.guidance}" if info.guidance else "")
    help_md = info.why + (f"\n\n**Remediation:** {info.guidance}" if info.guidance else "")
    if info.frameworks:
        help_md += "\n\n**Frameworks:** " + ", ".join(f"`{f}`" for f in info.frameworks)
    return {
        "id": info.id,
        "name": "".join(part.capitalize() for part in info.id.removeprefix("K8S-").split("-")),
        "shortDescription": {"text": info.title},
        "fullDescription": {"text": info.why or info.title},
        "help": {"text": help_text or info.title, "markdown": help_md or info.title},
        "defaultConfiguration": {"level": LEVEL[info.severity]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[info.severity],
            "severity": info.severity.value,
            "tags": ["security", "kubernetes", info.category.value, *info.frameworks],
            "precision": "high",
            "problem.severity": "error" if info.severity.rank >= Severity.high.rank else "warning",
        },
    }


def _uri(file: str) -> str:
    """Repository-relative when the file is under the working directory (what uploaders expect)."""
    path = Path(file)
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):
        return path.as_posix()


def _in_file(finding: Finding) -> bool:
    return bool(finding.source.file) and not str(finding.source.file).startswith("<")


def _field_lines(findings: list[Finding]) -> list[int | None]:
    """Each finding's offending-field line in its manifest (None: not in a file, or not found)."""
    wanted = [i for i, f in enumerate(findings) if _in_file(f) and f.evidence and f.source.document]
    found = lines(Wanted(str(f.source.file), int(f.source.document or 0), f.kind, f.namespace, f.name,
                         f.evidence[0].path) for f in (findings[i] for i in wanted))
    out: list[int | None] = [None] * len(findings)
    for i, line in zip(wanted, found, strict=True):
        out[i] = line
    return out


def _location(finding: Finding, field_line: int | None) -> dict[str, Any]:
    logical = {"name": object_ref(finding.kind, finding.namespace, finding.name)
               + (f"[{finding.container}]" if finding.container else ""),
               "kind": "resource"}
    location: dict[str, Any] = {"logicalLocations": [logical]}
    src = finding.source
    if _in_file(finding):
        location["physicalLocation"] = {
            "artifactLocation": {"uri": _uri(str(src.file))},
            "region": {"startLine": field_line or src.line or 1},
        }
    return location


def _result(finding: Finding, index: dict[str, int], field_line: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": index[finding.rule],
        "level": LEVEL[finding.severity],
        "message": {"text": f"{object_ref(finding.kind, finding.namespace, finding.name)}"
                            + (f" container {finding.container}" if finding.container else "")
                            + f": {finding.message}"},
        "locations": [_location(finding, field_line)],
        "partialFingerprints": {"kspmFingerprint/v1": finding.fingerprint},
        "properties": {"severity": finding.severity.value, "category": finding.category.value},
    }
    if finding.remediation.kubectl:
        out["properties"]["kubectl"] = finding.remediation.kubectl
    if finding.status is Status.accepted and finding.acceptance:
        acc = finding.acceptance
        justification = acc.reason + (f" (owner {acc.owner})" if acc.owner else "") + (
            f" until {acc.expires}" if acc.expires else "")
        out["suppressions"] = [{"kind": "external", "status": "accepted", "justification": justification}]
    return out


def _rules_of(result: ScanResult) -> list[RuleInfo]:
    rules = list(result.rules)
    known = {r.id for r in rules}
    for finding in result.findings:  # findings from rules the result has no info for
        if finding.rule not in known:
            known.add(finding.rule)
            rules.append(RuleInfo(id=finding.rule, title=finding.title, severity=finding.severity,
                                  category=finding.category, frameworks=finding.frameworks))
    return rules


def _results(result: ScanResult, rules: list[RuleInfo]) -> Iterator[dict[str, Any]]:
    """The SARIF results, made one at a time."""
    index = {r.id: i for i, r in enumerate(rules)}
    reported = [f for f in result.findings if f.status in (Status.fail, Status.accepted)]
    for finding, line in zip(reported, _field_lines(reported), strict=True):
        yield _result(finding, index, line)


def build(result: ScanResult) -> dict[str, Any]:
    rules = _rules_of(result)
    return _document(result, rules, list(_results(result, rules)))


def _document(result: ScanResult, rules: list[RuleInfo], results: list[dict[str, Any]]) -> dict[str, Any]:
    run: dict[str, Any] = {
        "tool": {"driver": {"name": result.tool.name, "version": result.tool.version,
                            "semanticVersion": result.tool.version, "informationUri": INFO_URI,
                            "rules": [_rule(r) for r in rules]}},
        "automationDetails": {"id": f"kspm-tui/{result.cluster.name}/"},
        "results": results,
        "invocations": [{
            "executionSuccessful": not (result.errors or result.rule_errors),
            "startTimeUtc": result.started.isoformat().replace("+00:00", "Z"),
            "toolExecutionNotifications": [
                {"level": "error", "message": {"text": f"{e.file}: {e.message}"}}
                for e in [*result.errors, *result.rule_errors, *result.exception_errors]
            ],
        }],
        "properties": {"cluster": result.cluster.id, "score": result.summary.score},
    }
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


_RESULTS = b'"results": []'
_INDENT = b" " * 8  # results are items of runs[0].results: four levels deep
_PER_CHUNK = 500


def chunks(result: ScanResult) -> Iterator[bytes]:
    """The document in pieces; joined, exactly the bytes of serialising `build` whole (tested)."""
    rules = _rules_of(result)
    head = dump_json(_document(result, rules, []), indent=True) + b"\n"
    cut = head.index(_RESULTS) + len(_RESULTS) - 1  # at the `]` of the empty list
    results = _results(result, rules)
    first = next(results, None)
    if first is None:
        yield head
        return
    yield head[: cut - 1] + b"[\n"
    batch = [dump_json(first, indent=True)]
    for item in results:
        if len(batch) == _PER_CHUNK:
            yield _indented(batch) + b",\n"
            batch = []
        batch.append(dump_json(item, indent=True))
    yield _indented(batch) + b"\n" + _INDENT[:-2] + head[cut:]


def _indented(batch: list[bytes]) -> bytes:
    """Serialised results one level in (JSON strings hold no raw newline: each b"\\n" starts a line)."""
    return _INDENT + b",\n".join(batch).replace(b"\n", b"\n" + _INDENT)


def render(result: ScanResult) -> str:
    return b"".join(chunks(result)).decode()
