"""`--format html`: one self-contained page a team lead reads first and an auditor files.

The first screen answers "how bad, what first": the score and its cap, counts by severity, the
top attack paths drawn with their cut, the top fix plans with their verdict and a copy button.
Then the trend of the target's saved scans, posture by namespace and by framework, every
failing finding grouped by namespace and workload (filterable; without JavaScript the full
list), accepted risks and what could not be assessed. Printed, a cover page (cluster, scope,
date, rule pack, frameworks, exceptions in force) leads and each section starts a page.

Inline CSS, inline SVG and one small inline script (`assets/`); nothing is fetched. Every value
from a manifest or a cluster is HTML-escaped with hidden characters shown as escapes.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from html import escape
from importlib import resources

from kspm_tui.graph.paths import AttackPath
from kspm_tui.labels import object_ref
from kspm_tui.model import Category, Finding, ScanResult, Severity
from kspm_tui.report.context import ReportContext
from kspm_tui.report.document import (
    ControlRow,
    ReportDocument,
    build,
    control_counts,
    exceptions_in_force,
    framework_title,
    rule_pack,
)
from kspm_tui.report.svg import SEVERITY_COLOURS, path_diagram, trend_chart
from kspm_tui.results import SEVERITY_WEIGHT, cap_text
from kspm_tui.textsafe import visible
from kspm_tui.triage.history import FindingRecord

TOP_PATHS = 3
DRIFT_LISTED = 25  # new / resolved findings listed by name; the rest counted
NO_NAMESPACE = "(cluster-scoped)"
SECTIONS = (("summary", "Summary"), ("trend", "Trend"), ("namespaces", "Namespaces"),
            ("frameworks", "Frameworks"), ("rules", "Rules"), ("findings", "Findings"), ("accepted", "Accepted risks"),
            ("coverage", "Coverage"))


def _asset(name: str) -> str:
    return resources.files("kspm_tui.report").joinpath("assets", name).read_text(encoding="utf-8")


def _e(value: object) -> str:
    """HTML-escaped, hidden characters (controls, bidi) shown as escapes."""
    return escape(visible(str(value), keep_lines=True), quote=True)


def _anchor(prefix: str, text: str) -> str:
    """A stable, valid and unique id for any text: a readable slug plus a short hash."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40]
    return f"{prefix}-{slug}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def _ns(f: Finding) -> str:
    return f.namespace or NO_NAMESPACE


def _sev(severity: Severity) -> str:
    return f'<span class="sev {severity.value}">{severity.value}</span>'


def _table(header: list[str], rows: list[list[str]], cls: str = "") -> str:
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _command(command: str) -> str:
    """A command to paste, and a button copying exactly that text (the CLI's sanitised command:
    the script copies the `<pre>`'s text, so the page holds each command once)."""
    return f'<div class="cmd"><pre>{_e(command)}</pre><button type="button" class="copy">Copy</button></div>'


def _verdict(f: Finding) -> str:
    rem = f.remediation
    if rem.safety is None:
        return ""
    cost = f" · {_e(rem.cost)}" if rem.cost else ""
    return (f'<span class="verdict {rem.safety.value}">{rem.safety.value}</span>'
            f'<span class="muted small">{cost}{": " + _e(rem.safety_reason) if rem.safety_reason else ""}</span>')


# -- cover (printed first page) --------------------------------------------------------------
def _cover(doc: ReportDocument, ctx: ReportContext) -> str:
    r = doc.result
    where = _e(r.cluster.name) + (f" <span class=\"muted\">(id {_e(r.cluster.id)})</span>" if r.cluster.id else "")
    rows = [("Cluster", where), ("Scope", _e(ctx.scope or r.cluster.context or r.cluster.name)),
            ("Date", _e(f"{r.started:%Y-%m-%d %H:%M} UTC")), ("Rule pack", _e(rule_pack(r))),
            ("Frameworks", _e(", ".join(framework_title(k) for k in doc.frameworks) or "none mapped")),
            ("Posture score", f"{r.summary.score}/100" + (f" — {_e(cap_text(r.summary.score_cap))}"
                                                          if r.summary.score_cap else ""))]
    if r.cluster.server:
        rows.insert(1, ("API server", _e(r.cluster.server)))
    in_force = exceptions_in_force(doc.accepted)
    if in_force:
        items = "".join(f"<li>{_e(a.reason)} — owner {_e(a.owner or 'unnamed')}, "
                        f"{_e('until ' + str(a.expires) if a.expires else 'no expiry')}, {n} finding(s)"
                        f" <span class=\"muted\">({_e(a.origin)})</span></li>" for a, n in in_force[:12])
        more = f"<li>… and {len(in_force) - 12} more (see Accepted risks)</li>" if len(in_force) > 12 else ""
        rows.append(("Exceptions in force", f"{len(in_force)}<ul>{items}{more}</ul>"))
    else:
        rows.append(("Exceptions in force", "none"))
    body = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    return (f'<section class="cover" id="cover"><p class="muted">kspm-tui · Kubernetes security posture</p>'
            f"<h1>Security posture report: {_e(r.cluster.name)}</h1><dl>{body}</dl></section>")


# -- first screen ----------------------------------------------------------------------------
def _summary(doc: ReportDocument, ctx: ReportContext) -> str:
    r, s = doc.result, doc.result.summary
    cap = f'<p class="cap">Score {_e(cap_text(s.score_cap))}.</p>' if s.score_cap else ""
    tiles = [f'<div class="tile score"><b>{s.score}<span>/100</span></b>posture score{cap}</div>']
    tiles += [f'<a class="tile {sev.value}" href="#findings" data-filter-sev="{sev.value}"><b>{n}</b>{sev.value}</a>'
              for sev, n in doc.severity_counts]
    tiles.append(f'<a class="tile plain" href="#accepted"><b>{len(doc.accepted)}</b>accepted</a>')
    if doc.not_assessable:
        tiles.append(f'<a class="tile plain" href="#coverage"><b>{len(doc.not_assessable)}</b>rules not assessable</a>')
    partial = ('<p class="cap">Partial result: the cluster was only partly read (see Coverage).</p>'
               if r.cluster.partial or r.coverage else "")
    return (f'<section id="summary"><div class="tiles">{"".join(tiles)}</div>{partial}'
            f'<div class="first"><div><h2>Top attack paths</h2>{_paths(doc, ctx)}</div>'
            f"<div><h2>Fix first</h2>{_plans(ctx)}</div></div></section>")


def _paths(doc: ReportDocument, ctx: ReportContext) -> str:
    """The open attack-path findings, worst first, each drawn from the graph's path when known."""
    findings = [f for f in doc.failing if f.category is Category.attack_path]
    if not findings:
        return "<p>No open attack path from the internet.</p>"
    by_source: dict[str, list[AttackPath]] = defaultdict(list)
    for path in ctx.paths:
        by_source[str(path.source)].append(path)
    out = []
    for i, f in enumerate(findings[:TOP_PATHS]):
        ref = object_ref(f.kind, f.namespace, f.name)
        path = next((p for p in by_source.get(ref, []) if f.message.startswith(p.summary())), None)
        picture = path_diagram(path, f"p{i}") if path is not None else ""
        cut = ""
        if path is not None and path.cut is not None:
            which = "cut that keeps the workload running" if path.cut.keeps_workload else "cheapest cut"
            cut = (f"<p><b>{which}:</b> {_e(path.cut.description)}"
                   + (f' <span class="muted">({_e(path.cut.effect)})</span>' if path.cut.effect else "") + "</p>"
                   + (_command(path.cut.kubectl) if path.cut.kubectl else ""))
        out.append(f'<figure class="path">{picture}<figcaption>{_sev(f.severity)} '
                   f'<a href="#{_finding_id(f)}">{_e(f.title)}</a>: <code>{_e(ref)}</code>'
                   f'{"" if picture else "<p>" + _e(f.message) + "</p>"}{cut}</figcaption></figure>')
    if len(findings) > TOP_PATHS:
        out.append(f'<p class="muted">{len(findings) - TOP_PATHS} more attack path findings: '
                   f'<a href="#rules">see the failing rules</a>.</p>')
    return "".join(out)


def _plans(ctx: ReportContext) -> str:
    if not ctx.plans:
        return "<p>No fix plan with a <em>safe</em> patch to apply.</p>"
    items = []
    for plan in ctx.plans:
        review = (f'; <span class="verdict review">review</span> {len(plan.review)} more (not applied)'
                  if plan.review else "")
        rules = ", ".join(sorted({f.rule for f in plan.applied}))
        items.append(f"<li><b><code>{_e(plan.ref)}</code></b><br>"
                     f'<span class="verdict safe">safe</span> resolves {len(plan.applied)} finding(s){review}'
                     f' <span class="muted small">· cost: {_e(plan.cost)} · {_e(rules)}</span>'
                     f"{_command(plan.kubectl or '')}</li>")
    return f'<ol class="plans">{"".join(items)}</ol>'


# -- trend ------------------------------------------------------------------------------------
def _trend(doc: ReportDocument, ctx: ReportContext) -> str:
    r = doc.result
    points = [(h.started, h.summary.score, h.summary.by_severity) for h in ctx.history]
    points.append((r.started, r.summary.score, r.summary.by_severity))
    note = ("" if ctx.history else
            '<p class="muted">The first scan of this target: each scan saved to history (the default; '
            "<code>--no-history</code> skips it) adds a point.</p>")
    legend = "".join(f'<span><i style="background:{c}"></i>{sev.value}</span>'
                     for sev, c in SEVERITY_COLOURS.items())
    parts = [f'<section id="trend" class="report-section"><h2>Trend</h2>{note}'
             f'<p>{len(points)} scan(s) of this target.</p><div class="legend">{legend}</div>'
             f"{trend_chart(points)}"]
    drift = ctx.drift
    if drift is not None:
        failing = {f.fingerprint for f in doc.failing}
        parts.append(f'<h3>Since the previous scan ({_e(f"{drift.old.started:%Y-%m-%d %H:%M}")} UTC, '
                     f"score {drift.old.score} → {drift.new.score})</h3><div class=\"delta\">"
                     f"<div><h4>New ({len(drift.new_findings)})</h4>{_drift_list(drift.new_findings, failing)}</div>"
                     f"<div><h4>Resolved ({len(drift.resolved_findings)})</h4>"
                     f"{_drift_list(drift.resolved_findings, set())}</div></div>")
    parts.append("</section>")
    return "".join(parts)


def _drift_list(records: list[FindingRecord], linkable: set[str]) -> str:
    """Drift records worst first, linked to their finding below when it is still failing."""
    if not records:
        return '<p class="muted">None.</p>'
    items = []
    for f in sorted(records, key=lambda r: -r.severity.rank)[:DRIFT_LISTED]:
        ref = _e(object_ref(f.kind, f.namespace, f.name)) + (f" [{_e(f.container)}]" if f.container else "")
        rule = (f'<a href="#f-{_e(f.fingerprint)}">{_e(f.rule)}</a>' if f.fingerprint in linkable else _e(f.rule))
        items.append(f"<li>{_sev(f.severity)} {rule} <code>{ref}</code></li>")
    more = f"<li>… and {len(records) - DRIFT_LISTED} more</li>" if len(records) > DRIFT_LISTED else ""
    return f"<ul>{''.join(items)}{more}</ul>"


# -- namespaces ------------------------------------------------------------------------------
def _namespaces(doc: ReportDocument) -> str:
    by_sev: dict[str, Counter[Severity]] = defaultdict(Counter)
    by_cat: dict[str, Counter[Category]] = defaultdict(Counter)
    for f in doc.failing:
        by_sev[_ns(f)][f.severity] += 1
        by_cat[_ns(f)][f.category] += 1
    if not by_sev:
        return ('<section id="namespaces" class="report-section"><h2>Posture by namespace</h2>'
                "<p>No failing findings.</p></section>")
    categories = [c for c in Category if any(by_cat[ns][c] for ns in by_cat)]
    order = sorted(by_sev, key=lambda ns: (-sum(SEVERITY_WEIGHT[s] * n for s, n in by_sev[ns].items()), ns))
    top_sev = max(n for c in by_sev.values() for n in c.values())
    top_cat = max(n for c in by_cat.values() for n in c.values())
    head = (['<th rowspan="2">namespace</th>', f'<th class="group" colspan="{len(Severity)}">by severity</th>',
             '<th rowspan="2" class="num">total</th>', f'<th class="group" colspan="{len(categories)}">by category</th>'])
    sub = "".join(f"<th>{s.value}</th>" for s in Severity) + "".join(f"<th>{_e(c.value)}</th>" for c in categories)
    rows = []
    for ns in order:
        link = f"#{_anchor('ns', ns)}"
        cells = [f'<td><a href="{link}" data-filter-ns="{_e(ns)}">{_e(ns)}</a></td>']
        cells += [_heat(by_sev[ns][s], top_sev, s.value, link, ns) for s in Severity]
        cells.append(f'<td class="num"><b>{sum(by_sev[ns].values())}</b></td>')
        cells += [_heat(by_cat[ns][c], top_cat, "medium", link, ns) for c in categories]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<section id="namespaces" class="report-section"><h2>Posture by namespace</h2>'
            f'<p class="muted">Failing findings per namespace; worst first (severity-weighted). '
            f"A cell drills to that namespace's findings.</p>"
            f'<table class="heat"><thead><tr>{"".join(head)}</tr><tr>{sub}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></section>')


def _heat(n: int, top: int, colour: str, link: str, ns: str) -> str:
    if not n:
        return '<td class="cell zero">0</td>'
    strength = 12 + round(70 * n / top)
    text = "#fff" if strength > 50 else "inherit"
    return (f'<td class="cell" style="background:color-mix(in srgb,var(--{colour}) {strength}%,#fff);'
            f'color:{text}"><a href="{link}" data-filter-ns="{_e(ns)}">{n}</a></td>')


# -- frameworks ------------------------------------------------------------------------------
def _frameworks(doc: ReportDocument, failing_rules: set[str]) -> str:
    if not doc.frameworks:
        return ""
    parts = ['<section id="frameworks" class="report-section"><h2>Posture by framework</h2>'
             '<p class="muted">Per control: the share of checked objects that pass (green), fail (red) or '
             "are accepted (purple); grey when the control was not assessed.</p>"]
    for key, rows in doc.frameworks.items():
        controls: dict[str, list[ControlRow]] = defaultdict(list)
        for row in rows:
            controls[row.control].append(row)
        outcomes = Counter(_control_outcome(group) for group in controls.values())
        total = len(controls)
        summary_bar = _bar([(outcomes["pass"], "pass"), (outcomes["fail"], "fail"),
                            (outcomes["accepted"], "accepted"),
                            (total - outcomes["pass"] - outcomes["fail"] - outcomes["accepted"], "na")], total)
        table_rows = []
        for control, group in controls.items():
            evaluated = sum(r.evaluated for r in group)
            failing = sum(r.failing for r in group)
            accepted = sum(r.accepted for r in group)
            outcome = _control_outcome(group)
            rules = ", ".join(f'<a href="#rule-{_e(r.rule.id)}">{_e(r.rule.id)}</a>' if r.rule.id in failing_rules
                              else _e(r.rule.id) for r in group)
            bar = _bar([(evaluated - failing - accepted, "pass"), (failing, "fail"), (accepted, "accepted")],
                       evaluated) if evaluated else _bar([(1, "na")], 1)
            table_rows.append([_e(control), rules, bar,
                               f'<span class="outcome-{outcome.replace(" ", "-")}">{_e(outcome)}</span>',
                               f"{failing} of {evaluated}" if evaluated else "—"])
        parts.append(f"<h3>{_e(framework_title(key))}</h3><p>{_e(control_counts(rows))} "
                     f"{outcomes['pass']} pass, {outcomes['accepted']} accepted, "
                     f"{total - outcomes['pass'] - outcomes['fail'] - outcomes['accepted']} not assessed.</p>"
                     f"{summary_bar}")
        parts.append(_table(["control", "rules", "checked objects", "result", "failing"], table_rows, "controls"))
    parts.append("</section>")
    return "".join(parts)


def _control_outcome(group: list[ControlRow]) -> str:
    """A control fails if any rule mapped to it fails; passes only if all ran and passed."""
    outcomes = {r.outcome for r in group}
    for worst in ("fail", "not assessable", "accepted"):
        if worst in outcomes:
            return worst
    return "pass" if outcomes == {"pass"} else "not evaluated"


def _bar(parts: list[tuple[int, str]], total: int) -> str:
    cells = "".join(f'<i class="{cls}" style="width:{100 * n / total:.2f}%"></i>' for n, cls in parts if n > 0)
    title = ", ".join(f"{n} {'not assessed' if cls == 'na' else cls}" for n, cls in parts if n > 0)
    return f'<div class="bar" title="{_e(title)}">{cells}</div>'


# -- rules and findings --------------------------------------------------------------------------
def _rules(doc: ReportDocument) -> str:
    """Each failing rule once (the frameworks' controls link here), with a link filtering the list."""
    count = Counter(f.rule for f in doc.failing)
    first = {}
    for f in doc.failing:
        first.setdefault(f.rule, f)
    rows = [[f'<span id="rule-{_e(rule)}"></span>{_sev(first[rule].severity)}',
             f'<a href="#findings" data-filter-rule="{_e(rule)}">{_e(rule)}</a>', _e(first[rule].title),
             _e(first[rule].category.value), str(n)]
            for rule, n in sorted(count.items(), key=lambda kv: (-first[kv[0]].severity.rank, -kv[1], kv[0]))]
    head = f'<section id="rules" class="report-section"><h2>Failing rules ({len(rows)})</h2>'
    if not rows:
        return head + "<p>None.</p></section>"
    return (head + '<p class="muted">A rule drills to its findings (with JavaScript, the list is filtered '
            "to that rule).</p>" + _table(["severity", "rule", "title", "category", "findings"], rows) + "</section>")


def _finding_id(f: Finding) -> str:
    return f"f-{_e(f.fingerprint)}"


def _findings(doc: ReportDocument) -> str:
    failing = doc.failing
    head = f'<section id="findings" class="report-section"><h2>Failing findings ({len(failing)})</h2>'
    if not failing:
        return head + "<p>None.</p></section>"
    namespaces = sorted({_ns(f) for f in failing})
    rules = sorted({f.rule for f in failing})
    form = (f'<form id="filters" class="filters" hidden role="search">'
            f'<label>severity <select name="sev">{_options([s.value for s in Severity])}</select></label>'
            f'<label>namespace <select name="ns">{_options(namespaces)}</select></label>'
            f'<label>rule <select name="rule">{_options(rules)}</select></label>'
            f'<label>text <input type="search" name="q" placeholder="name, image, message…"></label>'
            f'<button type="reset">Clear</button><span id="shown" class="muted small" aria-live="polite">'
            f"all {len(failing)} findings shown</span></form>")
    groups: dict[str, dict[tuple[str, str], list[Finding]]] = defaultdict(lambda: defaultdict(list))
    for f in failing:
        groups[_ns(f)][(f.kind, f.name)].append(f)
    body = []
    for ns in namespaces:
        workloads = groups[ns]
        count = sum(len(v) for v in workloads.values())
        body.append(f'<div class="ns-group" id="{_anchor("ns", ns)}" data-ns="{_e(ns)}">'
                    f"<h3>{'namespace ' if ns != NO_NAMESPACE else ''}{_e(ns)} "
                    f'<span class="muted small">({count} findings, {len(workloads)} objects)</span></h3>')
        ordered = sorted(workloads.items(), key=lambda kv: (-max(f.severity.rank for f in kv[1]), kv[0]))
        for (kind, name), items in ordered:
            ref = object_ref(kind, None if ns == NO_NAMESPACE else ns, name)
            body.append(f'<section class="workload" id="{_anchor("w", ref)}"><h4><code>{_e(ref)}</code> '
                        f'<span class="muted small">{len(items)} finding(s)</span></h4>')
            body += [_finding(f) for f in items]
            body.append("</section>")
        body.append("</div>")
    return (head + "<p class=\"muted\">Grouped by namespace and workload, worst first. "
            "The filter needs JavaScript; without it every finding is listed.</p>"
            + form + "".join(body) + "</section>")


def _options(values: list[str]) -> str:
    return '<option value="">any</option>' + "".join(f'<option value="{_e(v)}">{_e(v)}</option>' for v in values)


def _finding(f: Finding) -> str:
    where = f" container <code>{_e(f.container)}</code>" if f.container else ""
    source = ""
    if f.source.file:
        source = f'<p class="muted small">{_e(f.source.file)}' + (f":{f.source.line}" if f.source.line else "") + "</p>"
    if f.remediation.kubectl:
        fix = f"<p>fix {_verdict(f)}</p>{_command(f.remediation.kubectl)}"
        if f.remediation.guidance:
            fix += f'<p class="muted small">{_e(f.remediation.guidance)}</p>'
    elif f.remediation.guidance:
        fix = f"<p><b>fix:</b> {_e(f.remediation.guidance)}</p>"
    else:
        fix = ""
    expired = ""
    if f.acceptance is not None and f.acceptance.expired:
        expired = f'<p class="cap">exception expired on {_e(f.acceptance.expires)}: {_e(f.acceptance.reason)}</p>'
    return (f'<article class="finding" id="{_finding_id(f)}" data-sev="{f.severity.value}" data-rule="{_e(f.rule)}" '
            f'data-ns="{_e(_ns(f))}"><div class="head">{_sev(f.severity)} <b>{_e(f.rule)}</b> {_e(f.title)}'
            f"{where}</div><p>{_e(f.message + f.covers_note())}</p>{expired}{source}{fix}</article>")


# -- accepted, coverage ------------------------------------------------------------------------
def _accepted(doc: ReportDocument) -> str:
    head = f'<section id="accepted" class="report-section"><h2>Accepted risks ({len(doc.accepted)})</h2>'
    if not doc.accepted:
        return head + "<p>None.</p></section>"
    rows = [[_sev(f.severity) + " " + _e(f.rule), f"<code>{_e(object_ref(f.kind, f.namespace, f.name))}</code>"
             + (f" [{_e(f.container)}]" if f.container else ""), _e(f.acceptance.reason),
             _e(f.acceptance.owner or "—"), _e(f.acceptance.expires or "no expiry"), _e(f.acceptance.origin)]
            for f in doc.accepted if f.acceptance]
    return head + _table(["rule", "object", "reason", "owner", "expires", "from"], rows) + "</section>"


def _coverage(doc: ReportDocument) -> str:
    parts = ['<section id="coverage" class="report-section"><h2>Coverage</h2>']
    s = doc.result.summary
    parts.append(f"<p>{s.objects} objects, {s.workloads} workloads, {s.rules} rules evaluated.</p>")
    if doc.not_assessable:
        parts.append("<h3>Not assessable</h3><ul>" + "".join(
            f"<li>{_e(st.rule)}: {_e(st.reason)}</li>" for st in doc.not_assessable) + "</ul>")
    if doc.problems:
        parts.append("<h3>Problems</h3><ul>" + "".join(f"<li>{_e(p)}</li>" for p in doc.problems) + "</ul>")
    if not doc.not_assessable and not doc.problems:
        parts.append("<p>Every rule could be assessed and every input was read.</p>")
    parts.append("</section>")
    return "".join(parts)


# -- page ----------------------------------------------------------------------------------------
def render_document(doc: ReportDocument, ctx: ReportContext | None = None) -> str:
    ctx = ctx or ReportContext()
    r = doc.result
    failing_rules = {f.rule for f in doc.failing}
    toc = "".join(f'<a href="#{key}">{title}</a>' for key, title in SECTIONS)
    header = (f'<header class="top"><div><h1>kspm-tui report: {_e(r.cluster.name)}</h1>'
              f'<p class="muted">{_e(ctx.scope or r.cluster.context or r.cluster.name)} · scanned '
              f"{_e(f'{r.started:%Y-%m-%d %H:%M}')} UTC with kspm-tui {_e(r.tool.version)} · {r.summary.objects} objects, "
              f"{r.summary.workloads} workloads, {r.summary.rules} rules · cluster id {_e(r.cluster.id)}</p></div>"
              f'<nav class="toc" aria-label="sections">{toc}</nav></header>')
    body = [_cover(doc, ctx), header, "<main>", _summary(doc, ctx), _trend(doc, ctx), _namespaces(doc),
            _frameworks(doc, failing_rules) or '<section id="frameworks" class="report-section"><h2>Posture by '
            "framework</h2><p>No framework mappings in the rules that ran.</p></section>",
            _rules(doc), _findings(doc), _accepted(doc), _coverage(doc), "</main>"]
    title = _e(f"kspm-tui report: {r.cluster.name}")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="generator" content="kspm-tui {_e(r.tool.version)}">'
            f"<title>{title}</title><style>{_asset('report.css')}</style></head><body>\n"
            + "\n".join(body) + f"\n<script>{_asset('report.js')}</script>\n</body></html>\n")


def render(result: ScanResult, context: ReportContext | None = None) -> str:
    return render_document(build(result), context)

