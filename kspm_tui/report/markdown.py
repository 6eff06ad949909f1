"""`--format markdown`: a report for a PR comment or an audit folder (GitHub-flavoured tables)."""

from __future__ import annotations

from kspm_tui.labels import object_ref
from kspm_tui.model import Finding, ScanResult
from kspm_tui.report.document import ReportDocument, build, control_counts, framework_title
from kspm_tui.results import cap_text
from kspm_tui.textsafe import markdown_cell as _md
from kspm_tui.textsafe import markdown_code as _code

MAX_FINDINGS = 200  # keeps a PR comment under GitHub's size limit
OUTCOME_MARK = {"pass": "✅ pass", "fail": "❌ fail", "accepted": "☑️ accepted",
                "not assessable": "⚠️ not assessable", "not evaluated": "➖ not evaluated"}


def _table(header: list[str], rows: list[list[object]]) -> list[str]:
    """Cells are Markdown already: values from manifests pass through `_md` or `_code` first."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines + [""]


def _where(f: Finding) -> str:
    ref = _code(object_ref(f.kind, f.namespace, f.name)) + (f" {_code(f.container)}" if f.container else "")
    if f.source.file:
        ref += f" ({_md(f.source.file)}" + (f":{f.source.line}" if f.source.line else "") + ")"
    return ref


def render_document(doc: ReportDocument) -> str:
    r = doc.result
    s = r.summary
    out = [f"# kspm-tui report: {_md(r.cluster.name)}", "",
           (f"Scanned {r.started:%Y-%m-%d %H:%M} UTC with kspm-tui {r.tool.version}: "
            f"{s.objects} objects, {s.workloads} workloads, {s.rules} rules."), "",
           (f"**Posture score: {s.score}/100** — {s.total} failing findings, "
            f"{s.by_status.get('accepted', 0)} accepted, {s.by_status.get('not-assessable', 0)} not assessable."), ""]
    if s.score_cap:
        out += [f"Score {_md(cap_text(s.score_cap))}.", ""]
    out += _table([sev.value for sev, _ in doc.severity_counts], [[n for _, n in doc.severity_counts]])
    if r.cluster.partial:
        out += ["> **Partial result:** collection did not finish.", ""]
    if doc.frameworks:
        out += ["## Frameworks", ""]
        for key, rows in doc.frameworks.items():
            out += [f"### {framework_title(key)}", "", control_counts(rows), ""]
            out += _table(["control", "rule", "title", "result", "failing", "accepted"],
                          [[_md(row.control), _md(row.rule.id), _md(row.rule.title), OUTCOME_MARK[row.outcome],
                            row.failing, row.accepted] for row in rows])
    out += ["## Failing findings", ""]
    if doc.failing:
        shown = doc.failing[:MAX_FINDINGS]
        out += _table(["severity", "rule", "object", "message", "fix"],
                      [[f.severity.value, _md(f.rule), _where(f), _md(f.message + f.covers_note()),
                        (f"{_code(f.remediation.kubectl)} ({_md(f.remediation.verdict_text())})"
                         if f.remediation.kubectl else _md(f.remediation.guidance))]
                       for f in shown])
        if len(doc.failing) > len(shown):
            out += [f"… and {len(doc.failing) - len(shown)} more (see the JSON or HTML report).", ""]
    else:
        out += ["None.", ""]
    if doc.accepted:
        out += ["## Accepted risks", ""]
        out += _table(["rule", "object", "reason", "owner", "until", "from"],
                      [[_md(f.rule), _where(f), _md(f.acceptance.reason), _md(f.acceptance.owner),
                        f.acceptance.expires or "no expiry", _md(f.acceptance.origin)]
                       for f in doc.accepted if f.acceptance])
    if doc.not_assessable:
        out += ["## Not assessable", ""]
        out += [f"- {_md(st.rule)}: {_md(st.reason)}" for st in doc.not_assessable] + [""]
    if doc.problems:
        out += ["## Problems", ""] + [f"- {_md(p)}" for p in doc.problems] + [""]
    return "\n".join(out).rstrip("\n") + "\n"


def render(result: ScanResult) -> str:
    return render_document(build(result))
