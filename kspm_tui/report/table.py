"""`-o table`: a terminal summary (counts, the top findings by severity, what went wrong) that
fits the terminal's width: identifiers whole, one line per finding, the count of the rest and
how to see them. `-o wide` (like `kubectl get -o wide`) lists every finding with its full message."""

from __future__ import annotations

import shutil
from io import StringIO

from collections import Counter

from rich import box
from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from kspm_tui.labels import object_ref
from kspm_tui.model import Finding, ScanResult, Severity, Status
from kspm_tui.results import cap_text, sort_findings
from kspm_tui.safe_console import SafeConsole
from kspm_tui.snapshot import LOCAL_CLUSTER

SEVERITY_STYLE = {
    Severity.critical: "bold white on red", Severity.high: "bold red", Severity.medium: "yellow",
    Severity.low: "cyan", Severity.info: "dim",
}


# Below this, the message column is too narrow to read: the object column gives way (middle cut).
MESSAGE_MIN = 16
# -o wide gives each message at least this much (lines longer than the terminal wrap there, as
# `kubectl get -o wide` does).
WIDE_MESSAGE = 60


def _middle(text: str, width: int) -> str:
    """`text` in `width` cells, its middle replaced by `…` (identifiers differ at both ends)."""
    if len(text) <= width:
        return text
    tail = (width - 1) // 2
    return text[: width - 1 - tail] + "…" + text[len(text) - tail:]


def findings_table(failing: list[Finding], total: int, width: int, wide: bool) -> Table:
    """Worst first, a section per severity. Default: one line each, sized to `width` (message
    cut first, then the object in its middle); wide: every column whole, messages wrapped."""
    title = f"Failing findings ({total})" if wide else f"Top findings ({len(failing)} of {total})"
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
                  collapse_padding=True)
    objects = [object_ref(f.kind, f.namespace, f.name) + ("" if wide or not f.container else f" [{f.container}]")
               for f in failing]
    rule_w = max([len("rule"), *(len(f.rule) for f in failing)])
    object_w = max([len("object"), *(len(o) for o in objects)])
    message_w = None
    if not wide:  # severity (8), rule, object, fix (6) and 4 gaps of 2: what is left is the message's
        spare = width - 8 - rule_w - object_w - 6 - 4 * 2
        if spare < MESSAGE_MIN:
            object_w = max(object_w - (MESSAGE_MIN - spare), 12)
        message_w = max(width - 8 - rule_w - object_w - 6 - 4 * 2, 8)
    table.add_column("severity", no_wrap=True, width=8)
    table.add_column("rule", no_wrap=True, width=rule_w)
    table.add_column("object", no_wrap=True, width=None if wide else object_w)
    if wide:
        table.add_column("container", no_wrap=True)
    table.add_column("fix", no_wrap=True, width=6)  # the fix's safety verdict: safe, review or none
    table.add_column("message", no_wrap=not wide, overflow="fold" if wide else "ellipsis", width=message_w)
    previous = None
    for f, obj in zip(failing, objects):
        if previous is not None and f.severity is not previous:
            table.add_section()
        previous = f.severity
        # Text, not str: names and messages are data, never Rich markup (`[dind]`)
        cells = [Text(f.severity.value, SEVERITY_STYLE[f.severity]), Text(f.rule),
                 Text(obj if wide else _middle(obj, object_w))]
        if wide:
            cells.append(Text(f.container or ""))
        table.add_row(*cells, Text(f.remediation.verdict), Text(f.message + f.covers_note()))
    return table


def wide_width(result: ScanResult) -> int:
    """The width at which -o wide shows every column whole."""
    failing = [f for f in result.findings if f.status is Status.fail]
    if not failing:
        return 0
    longest = [max(len(f.rule) for f in failing), max(len(object_ref(f.kind, f.namespace, f.name)) for f in failing),
               max(len(f.container or "") for f in failing), WIDE_MESSAGE]
    return 8 + sum(longest) + 6 + 5 * 2


def build(result: ScanResult, top: int = 25, *, width: int = 120, wide: bool = False) -> Group:
    s = result.summary
    head = Text.assemble(
        ("Cluster ", "bold"), result.cluster.name,
        (f"  ({result.cluster.id})" if result.cluster.id != result.cluster.name else "", "dim"),
        "\n", f"{s.objects} objects, {s.workloads} workloads, {s.rules} rules in {result.duration_s:.2f}s",
        "   Posture score ", (f"{s.score}/100", "bold") if s.objects or not result.errors
        else ("none: nothing could be read (see the errors below)", "bold red"),
    )
    if s.score_cap:
        head.append(f"\nScore {cap_text(s.score_cap)}", style="yellow")
    if result.cluster.partial:
        head.append("\nPARTIAL RESULT: collection did not finish; see errors below", style="bold red")
    counts = Table.grid(padding=(0, 2))
    for _ in range(len(Severity) + 1):
        counts.add_column(justify="right")
    counts.add_row(*[Text(f"{sev.value} {s.by_severity.get(sev.value, 0)}", SEVERITY_STYLE[sev]) for sev in Severity],
                   Text(f"= {s.total} failing", "bold"))
    parts: list = [Panel(Group(head, counts), title="kspm-tui scan", expand=False)]
    if result.compliance is not None:
        from kspm_tui.report import compliance

        parts.append(compliance.build(result.compliance))
    if s.by_category:
        parts.append(Text("Failing by category: " + " · ".join(f"{name} {n}" for name, n in s.by_category.items())))
    failing = sort_findings([f for f in result.findings if f.status is Status.fail])
    if failing:
        shown = failing if wide else failing[:top]
        parts.append(findings_table(shown, len(failing), width, wide))
        if len(shown) < len(failing):
            rest = Counter(f.severity.value for f in failing[len(shown):])
            by = ", ".join(f"{rest[s.value]} {s.value}" for s in Severity if rest[s.value])
            parts.append(Text(f"{len(failing) - len(shown)} more failing findings: {by}\n"
                              "see all with full messages: add -o wide (or -o json)", "bold"))
    accepted = [f for f in result.findings if f.status is Status.accepted and f.acceptance]
    if accepted:
        acc_table = Table(title=f"Accepted risks ({min(top, len(accepted))} of {len(accepted)})",
                          show_edge=False, title_style="green")
        for col in ("rule", "object", "container", "reason", "owner", "until"):
            acc_table.add_column(col, overflow="fold")
        for f in accepted[:top]:
            acc = f.acceptance
            acc_table.add_row(f.rule, object_ref(f.kind, f.namespace, f.name), f.container or "", acc.reason,
                              acc.owner, str(acc.expires or "no expiry"))
        parts.append(acc_table)
    if s.self_waived:
        parts.append(Text(f"{s.self_waived} finding{'s' * (s.self_waived != 1)} accepted by an annotation on "
                          "their own object (kspm-tui.io/accept; --no-annotation-exceptions ignores them)",
                          "yellow"))
    for err in result.exception_errors:
        parts.append(Text(err.exceptions_line(), "red"))
    by_reason: dict[str, list[str]] = {}
    for st in result.rule_stats:
        if st.not_assessable:
            by_reason.setdefault(st.reason, []).append(st.rule)
    if result.cluster.id == LOCAL_CLUSTER and by_reason:
        # Manifests have no control plane or cluster-wide view: expected, so one quiet line.
        count = sum(len(rules) for rules in by_reason.values())
        parts.append(Text(f"{count} cluster-level rules not assessed: manifests carry no control plane "
                          "or cluster-wide view (scan a cluster or a full dump for those)", "dim"))
        by_reason = {}
    for reason, rules in sorted(by_reason.items(), key=lambda item: -len(item[1])):
        shown = ", ".join(rules[:3]) + (f" and {len(rules) - 3} more" if len(rules) > 3 else "")
        parts.append(Text(f"not assessable: {reason}: {len(rules)} rule{'s' * (len(rules) != 1)} ({shown})",
                          "yellow"))
    if result.excluded.workloads:
        counts = ", ".join(f"{result.excluded.by_severity[s.value]} {s.value}" for s in Severity
                           if result.excluded.by_severity.get(s.value))
        parts.append(Text(
            f"System namespaces ({', '.join(result.excluded.namespaces)}): {result.excluded.workloads} workloads "
            f"with {result.excluded.findings} findings{f' ({counts})' if counts else ''}, not listed above but "
            "counted by --fail-on; --include-system lists them", "dim"))
    for gap in result.coverage:
        parts.append(Text(f"coverage: {gap.reason}", "yellow"))
    for err in result.errors:
        parts.append(Text(err.input_line(), "red"))
    for err in result.rule_errors:
        parts.append(Text(err.line(), "red"))
    return Group(*parts)


def render(result: ScanResult, *, width: int | None = None, color: bool = False, wide: bool = False) -> str:
    """The table as text: as wide as the terminal (or $COLUMNS), 120 columns when piped."""
    width = width or shutil.get_terminal_size((120, 24)).columns
    if wide:
        width = max(width, wide_width(result))
    buffer = StringIO()
    console = SafeConsole(file=buffer, width=width, force_terminal=color, color_system="auto" if color else None)
    console.print(build(result, width=width, wide=wide))
    return buffer.getvalue()
