"""`--format markdown`: a report for a PR comment or an audit folder (GitHub-flavoured tables)."""

from __future__ import annotations

from kspm_tui.model import Finding, ScanResult
from kspm_tui.report.document import ReportDocument, build, control_counts, framework_title
from kspm_tui.report.table import object_ref
from kspm_tui.results import cap_text

MAX_FINDINGS = 200  # keeps a PR comment under GitHub's size limit
OUTCOME_MARK = {"pass": "✅ pass", "fail": "❌ fail", "accepted": "☑️ accepted",
                "not assessable": "⚠️ not assessable", "not evaluated": "➖ not evaluated"}


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines + [""]


def _where(f: Finding) -> str:
    ref = f"`{object_ref(f.kind, f.namespace, f.name)}`" + (f" `{f.container}`" if f.container else "")
    if f.source.file:
        ref += f" ({f.source.file}" + (f":{f.source.line}" if f.source.line else "") + ")"
    return ref


def render_document(doc: ReportDocument) -> str:
    r = doc.result
    s = r.summary
    out = [f"# kspm-tui report: {r.cluster.name}", "",
           (f"Scanned {r.started:%Y-%m-%d %H:%M} UTC with kspm-tui {r.tool.version}: "
            f"{s.objects} objects, {s.workloads} workloads, {s.rules} rules."), "",
           (f"**Posture score: {s.score}/100** — {s.total} failing findings, "
            f"{s.by_status.get('accepted', 0)} accepted, {s.by_status.get('not-assessable', 0)} not assessable."), ""]
    if s.score_cap:
        out += [f"Score {cap_text(s.score_cap)}.", ""]
    out += _table([sev.value for sev, _ in doc.severity_counts], [[n for _, n in doc.severity_counts]])
    if r.cluster.partial:
        out += ["> **Partial result:** collection did not finish.", ""]
    if doc.frameworks:
        out += ["## Frameworks", ""]
        for key, rows in doc.frameworks.items():
            out += [f"### {framework_title(key)}", "", control_counts(rows), ""]
            out += _table(["control", "rule", "title", "result", "failing", "accepted"],
                          [[row.control, row.rule.id, row.rule.title, OUTCOME_MARK[row.outcome],
                            row.failing, row.accepted] for row in rows])
    out += ["## Failing findings", ""]
    if doc.failing:
        shown = doc.failing[:MAX_FINDINGS]
        out += _table(["severity", "rule", "object", "message", "fix"],
                      [[f.severity.value, f.rule, _where(f), f.message,
                        f"`{f.remediation.kubectl}`" if f.remediation.kubectl else f.remediation.guidance]
                       for f in shown])
        if len(doc.failing) > len(shown):
            out += [f"… and {len(doc.failing) - len(shown)} more (see the JSON or HTML report).", ""]
    else:
        out += ["None.", ""]
    if doc.accepted:
        out += ["## Accepted risks", ""]
        out += _table(["rule", "object", "reason", "owner", "until", "from"],
                      [[f.rule, _where(f), f.acceptance.reason, f.acceptance.owner,
                        f.acceptance.expires or "no expiry", f.acceptance.origin]
                       for f in doc.accepted if f.acceptance])
    if doc.not_assessable:
        out += ["## Not assessable", ""]
        out += [f"- {st.rule}: {st.reason}" for st in doc.not_assessable] + [""]
    if doc.problems:
        out += ["## Problems", ""] + [f"- {p}" for p in doc.problems] + [""]
    return "\n".join(out).rstrip("\n") + "\n"


def render(result: ScanResult) -> str:
    return render_document(build(result))
