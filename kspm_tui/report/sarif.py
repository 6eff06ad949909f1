"""`--format sarif`: SARIF 2.1.0 for code-scanning UIs (GitHub, GitLab, Azure DevOps).

One run; the driver lists every rule with its help text and a `security-severity` GitHub uses
to rank alerts. Manifest findings carry a file and line region (the offending field's line when
it can be found, else the document's first line); cluster findings a logical location.
Accepted findings are kept as results with an accepted suppression (reason, owner, expiry),
so they are visible as dismissed rather than missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kspm_tui.labels import object_ref
from kspm_tui.model import Finding, RuleInfo, ScanResult, Severity, Status
from kspm_tui.report.locate import field_line
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


def _location(finding: Finding) -> dict[str, Any]:
    logical = {"name": object_ref(finding.kind, finding.namespace, finding.name)
               + (f"[{finding.container}]" if finding.container else ""),
               "kind": "resource"}
    location: dict[str, Any] = {"logicalLocations": [logical]}
    src = finding.source
    if src.file and not src.file.startswith("<"):
        line = src.line or 1
        if finding.evidence and src.document:
            line = field_line(src.file, src.document, finding.evidence[0].path) or line
        location["physicalLocation"] = {
            "artifactLocation": {"uri": _uri(src.file)},
            "region": {"startLine": line},
        }
    return location


def _result(finding: Finding, index: dict[str, int]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": index[finding.rule],
        "level": LEVEL[finding.severity],
        "message": {"text": f"{object_ref(finding.kind, finding.namespace, finding.name)}"
                            + (f" container {finding.container}" if finding.container else "")
                            + f": {finding.message}"},
        "locations": [_location(finding)],
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


def build(result: ScanResult) -> dict[str, Any]:
    rules = list(result.rules)
    known = {r.id for r in rules}
    for finding in result.findings:  # findings from rules the result has no info for
        if finding.rule not in known:
            known.add(finding.rule)
            rules.append(RuleInfo(id=finding.rule, title=finding.title, severity=finding.severity,
                                  category=finding.category, frameworks=finding.frameworks))
    index = {r.id: i for i, r in enumerate(rules)}
    reported = [f for f in result.findings if f.status in (Status.fail, Status.accepted)]
    run: dict[str, Any] = {
        "tool": {"driver": {"name": result.tool.name, "version": result.tool.version,
                            "semanticVersion": result.tool.version, "informationUri": INFO_URI,
                            "rules": [_rule(r) for r in rules]}},
        "automationDetails": {"id": f"kspm-tui/{result.cluster.name}/"},
        "results": [_result(f, index) for f in reported],
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


def render(result: ScanResult) -> str:
    return dump_json(build(result), indent=True).decode() + "\n"
