"""`--format markdown`: a report for a pull-request comment or an audit folder (GitHub-flavoured).

With `--baseline`, findings new against the baseline come first and the known ones are only
counted. The whole text stays under `MAX_CHARS` (GitHub refuses comments over 65,536
characters): sections are written in order of importance, rows while they fit, and what does
not fit is summarised with counts (the JSON and HTML reports hold everything).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from kspm_tui.labels import object_ref
from kspm_tui.model import Finding, ScanResult, Severity
from kspm_tui.report.context import ReportContext
from kspm_tui.report.document import ReportDocument, build, control_counts, framework_title
from kspm_tui.results import cap_text
from kspm_tui.textsafe import markdown_cell as _md
from kspm_tui.textsafe import markdown_code as _code

MAX_CHARS = 65_000  # under GitHub's 65,536-character comment limit, with room for a bot's header
RESERVE = 1_500  # kept free for the summary lines of sections cut short
OUTCOME_MARK = {"pass": "✅ pass", "fail": "❌ fail", "accepted": "☑️ accepted",
                "not assessable": "⚠️ not assessable", "not evaluated": "➖ not evaluated"}
FINDING_HEADER = ["severity", "rule", "object", "message", "fix"]


class _Page:
    """Lines with a character budget: `fits` says whether more rows may still be added."""

    def __init__(self, limit: int) -> None:
        self.lines: list[str] = []
        self.size = 0
        self.limit = limit

    def add(self, *lines: str) -> None:
        self.lines += lines
        self.size += sum(len(line) + 1 for line in lines)

    def fits(self, *lines: str) -> bool:
        return self.size + sum(len(line) + 1 for line in lines) <= self.limit - RESERVE

    def lines_while_they_fit(self, lines: list[str]) -> int:
        """Add lines in order until one does not fit; returns how many were left out."""
        for i, line in enumerate(lines):
            if not self.fits(line):
                return len(lines) - i
            self.add(line)
        return 0

    def table(self, header: list[str], rows: Iterable[list[object]]) -> int:
        """Rows while they fit; returns how many were left out. Cells are Markdown already:
        values from manifests pass through `_md` or `_code` first."""
        head = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        pending = list(rows)
        written = 0
        for row in pending:
            line = "| " + " | ".join(str(c) for c in row) + " |"
            if not self.fits(*(head if not written else ()), line):
                break
            if not written:
                self.add(*head)
            self.add(line)
            written += 1
        if written:
            self.add("")
        return len(pending) - written


def _where(f: Finding) -> str:
    ref = _code(object_ref(f.kind, f.namespace, f.name)) + (f" {_code(f.container)}" if f.container else "")
    if f.source.file:
        ref += f" ({_md(f.source.file)}" + (f":{f.source.line}" if f.source.line else "") + ")"
    return ref


def _row(f: Finding) -> list[object]:
    fix = (f"{_code(f.remediation.kubectl)} ({_md(f.remediation.verdict_text())})"
           if f.remediation.kubectl else _md(f.remediation.guidance))
    return [f.severity.value, _md(f.rule), _where(f), _md(f.message + f.covers_note()), fix]


def _counts(findings: list[Finding]) -> str:
    """"3 critical, 10 high; by rule: K8S-A 5, K8S-B 4, …" for findings not listed."""
    by_sev = Counter(f.severity for f in findings)
    sev = ", ".join(f"{by_sev[s]} {s.value}" for s in Severity if by_sev[s])
    by_rule = Counter(f.rule for f in findings).most_common(8)
    rules = ", ".join(f"{_md(rule)} {n}" for rule, n in by_rule)
    more = ", …" if len({f.rule for f in findings}) > len(by_rule) else ""
    return f"{sev}; by rule: {rules}{more}"


def _findings(page: _Page, title: str, findings: list[Finding]) -> None:
    page.add(title, "")
    if not findings:
        page.add("None.", "")
        return
    left = page.table(FINDING_HEADER, [_row(f) for f in findings])
    if left:
        page.add(f"… and {left} more not listed here ({_counts(findings[-left:])}); "
                 "the JSON and HTML reports list every finding.", "")


def render_document(doc: ReportDocument, ctx: ReportContext | None = None, limit: int = MAX_CHARS) -> str:
    r, s = doc.result, doc.result.summary
    page = _Page(limit)
    page.add(f"# kspm-tui report: {_md(r.cluster.name)}", "",
             (f"Scanned {r.started:%Y-%m-%d %H:%M} UTC with kspm-tui {r.tool.version}: "
              f"{s.objects} objects, {s.workloads} workloads, {s.rules} rules."), "",
             (f"**Posture score: {s.score}/100** — {s.total} failing findings, "
              f"{s.by_status.get('accepted', 0)} accepted, {s.by_status.get('not-assessable', 0)} not assessable."), "")
    if s.score_cap:
        page.add(f"Score {_md(cap_text(s.score_cap))}.", "")
    page.table([sev.value for sev, _ in doc.severity_counts], [[n for _, n in doc.severity_counts]])
    if r.cluster.partial:
        page.add("> **Partial result:** collection did not finish.", "")
    baseline = ctx.baseline if ctx is not None else None
    if baseline is not None:
        fresh = [f for f in doc.failing if f.fingerprint not in baseline]
        known = [f for f in doc.failing if f.fingerprint in baseline]
        name = f" ({_md(ctx.baseline_name)})" if ctx is not None and ctx.baseline_name else ""
        _findings(page, f"## New findings since the baseline{name}: {len(fresh)}", fresh)
        page.add(f"## Already in the baseline: {len(known)}", "",
                 (f"Not listed: {_counts(known)}." if known else "None."), "")
    else:
        _findings(page, "## Failing findings", doc.failing)
    if doc.accepted:
        page.add("## Accepted risks", "")
        left = page.table(["rule", "object", "reason", "owner", "until", "from"],
                          [[_md(f.rule), _where(f), _md(f.acceptance.reason), _md(f.acceptance.owner),
                            f.acceptance.expires or "no expiry", _md(f.acceptance.origin)]
                           for f in doc.accepted if f.acceptance])
        if left:
            page.add(f"… and {left} more accepted risks.", "")
    if doc.frameworks:
        page.add("## Frameworks", "")
        for key, rows in doc.frameworks.items():
            page.add(f"### {framework_title(key)}", "", control_counts(rows), "")
            if page.table(["control", "rule", "title", "result", "failing", "accepted"],
                          [[_md(row.control), _md(row.rule.id), _md(row.rule.title), OUTCOME_MARK[row.outcome],
                            row.failing, row.accepted] for row in rows]):
                page.add("(control table cut to fit; the HTML report has every control)", "")
    for title, items in (("## Not assessable", [f"- {_md(st.rule)}: {_md(st.reason)}" for st in doc.not_assessable]),
                         ("## Problems", [f"- {_md(p)}" for p in doc.problems])):
        if items:
            page.add(title, "")
            left = page.lines_while_they_fit(items)
            page.add(*([f"- … and {left} more"] if left else []), "")
    return "\n".join(page.lines).rstrip("\n") + "\n"


def render(result: ScanResult, context: ReportContext | None = None) -> str:
    return render_document(build(result), context)
