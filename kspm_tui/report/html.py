"""`--format html`: one self-contained page for auditors (inline CSS, no scripts, no external assets).

Same content as the Markdown report (see `report/document.py`); every value from a manifest
or a cluster is HTML-escaped.
"""

from __future__ import annotations

from html import escape

from kspm_tui.labels import object_ref
from kspm_tui.model import Finding, ScanResult, Severity
from kspm_tui.report.document import ReportDocument, build, control_counts, framework_title
from kspm_tui.results import cap_text
from kspm_tui.textsafe import visible

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1200px;
 color:#1b1f24;padding:0 1rem}
h1{font-size:1.6rem}h2{margin-top:2rem;border-bottom:1px solid #d0d7de}h3{font-size:1.05rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}code{font:12px ui-monospace,monospace;background:#f6f8fa;padding:1px 3px;
 word-break:break-all}
.score{font-size:2rem;font-weight:700}.muted{color:#57606a}
.sev{font-weight:600;border-radius:3px;padding:0 6px;white-space:nowrap}
.critical{background:#82071e;color:#fff}.high{background:#cf222e;color:#fff}
.medium{background:#bf8700;color:#fff}.low{background:#0969da;color:#fff}.info{background:#6e7781;color:#fff}
.fail{color:#cf222e;font-weight:600}.pass{color:#1a7f37}.accepted{color:#8250df}
.not-assessable,.not-evaluated{color:#57606a}
@media print{body{margin:0;max-width:none}}
"""


def _e(value: object) -> str:
    """HTML-escaped, hidden characters (controls, bidi) shown as escapes."""
    return escape(visible(str(value), keep_lines=True), quote=True)


def _sev(severity: Severity) -> str:
    return f'<span class="sev {severity.value}">{severity.value}</span>'


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _where(f: Finding) -> str:
    text = f"<code>{_e(object_ref(f.kind, f.namespace, f.name))}</code>"
    if f.container:
        text += f" container <code>{_e(f.container)}</code>"
    if f.source.file:
        text += f'<br><span class="muted">{_e(f.source.file)}' + (
            f":{f.source.line}" if f.source.line else "") + "</span>"
    return text


def _fix(f: Finding) -> str:
    if f.remediation.kubectl:
        return (f"<code>{_e(f.remediation.kubectl)}</code><br>"
                f'<span class="safety-{_e(f.remediation.verdict)}">{_e(f.remediation.verdict_text())}</span>')
    return _e(f.remediation.guidance)


def render_document(doc: ReportDocument) -> str:
    r, s = doc.result, doc.result.summary
    parts = [
        f"<h1>kspm-tui report: {_e(r.cluster.name)}</h1>",
        (f'<p class="muted">Scanned {_e(f"{r.started:%Y-%m-%d %H:%M}")} UTC with kspm-tui {_e(r.tool.version)}'
         f" — {s.objects} objects, {s.workloads} workloads, {s.rules} rules. Cluster id {_e(r.cluster.id)}.</p>"),
        (f'<p><span class="score">{s.score}/100</span> posture score — {s.total} failing findings, '
         f"{s.by_status.get('accepted', 0)} accepted, {s.by_status.get('not-assessable', 0)} not assessable.</p>"),
        f'<p class="fail">Score {_e(cap_text(s.score_cap))}.</p>' if s.score_cap else "",
        _table([sev.value for sev, _ in doc.severity_counts], [[str(n) for _, n in doc.severity_counts]]),
    ]
    if r.cluster.partial:
        parts.append('<p class="fail">Partial result: collection did not finish.</p>')
    if doc.frameworks:
        parts.append("<h2>Frameworks</h2>")
        for key, rows in doc.frameworks.items():
            parts.append(f"<h3>{_e(framework_title(key))}</h3><p>{control_counts(rows)}</p>")
            parts.append(_table(
                ["control", "rule", "title", "severity", "result", "failing", "accepted"],
                [[_e(row.control), _e(row.rule.id), _e(row.rule.title), _sev(row.rule.severity),
                  f'<span class="{row.outcome.replace(" ", "-")}">{_e(row.outcome)}</span>',
                  str(row.failing), str(row.accepted)] for row in rows]))
    parts.append(f"<h2>Failing findings ({len(doc.failing)})</h2>")
    parts.append(_table(["severity", "rule", "object", "message", "fix"],
                        [[_sev(f.severity), f"{_e(f.rule)}<br>{_e(f.title)}", _where(f), _e(f.message), _fix(f)]
                         for f in doc.failing]) if doc.failing else "<p>None.</p>")
    if doc.accepted:
        parts.append(f"<h2>Accepted risks ({len(doc.accepted)})</h2>")
        parts.append(_table(["rule", "object", "reason", "owner", "until", "from"],
                            [[_e(f.rule), _where(f), _e(f.acceptance.reason), _e(f.acceptance.owner),
                              _e(f.acceptance.expires or "no expiry"), _e(f.acceptance.origin)]
                             for f in doc.accepted if f.acceptance]))
    if doc.not_assessable:
        parts.append("<h2>Not assessable</h2><ul>" + "".join(
            f"<li>{_e(st.rule)}: {_e(st.reason)}</li>" for st in doc.not_assessable) + "</ul>")
    if doc.problems:
        parts.append("<h2>Problems</h2><ul>" + "".join(f"<li>{_e(p)}</li>" for p in doc.problems) + "</ul>")
    title = _e(f"kspm-tui report: {r.cluster.name}")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{title}</title><style>{CSS}</style></head><body>\n"
            + "\n".join(parts) + "\n</body></html>\n")


def render(result: ScanResult) -> str:
    return render_document(build(result))
