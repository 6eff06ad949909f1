"""`--format table`: a readable terminal summary (counts, top findings, what went wrong)."""

from __future__ import annotations

import shutil
from io import StringIO

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from kspm_tui.model import ScanResult, Severity, Status
from kspm_tui.results import cap_text
from kspm_tui.snapshot import LOCAL_CLUSTER

SEVERITY_STYLE = {
    Severity.critical: "bold white on red", Severity.high: "bold red", Severity.medium: "yellow",
    Severity.low: "cyan", Severity.info: "dim",
}


def object_ref(kind: str, namespace: str | None, name: str) -> str:
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"


def build(result: ScanResult, top: int = 25) -> Group:
    s = result.summary
    head = Text.assemble(
        ("Cluster ", "bold"), result.cluster.name,
        (f"  ({result.cluster.id})" if result.cluster.id != result.cluster.name else "", "dim"),
        "\n", f"{s.objects} objects, {s.workloads} workloads, {s.rules} rules in {result.duration_s:.2f}s",
        "   Posture score ", (f"{s.score}/100", "bold"),
    )
    if s.score_cap:
        head.append(f"\nScore {cap_text(s.score_cap)}", style="yellow")
    if result.cluster.partial:
        head.append("\nPARTIAL RESULT: collection did not finish; see errors below", style="bold red")
    counts = Table.grid(padding=(0, 2))
    for sev in Severity:
        counts.add_column(justify="right")
    counts.add_row(*[Text(f"{sev.value} {s.by_severity.get(sev.value, 0)}", SEVERITY_STYLE[sev]) for sev in Severity])
    parts: list = [Panel(Group(head, counts), title="kspm-tui scan", expand=False)]
    if result.compliance is not None:
        from kspm_tui.report import compliance

        parts.append(compliance.build(result.compliance))
    if s.by_category:
        cat = Table(title="Failing findings by category", show_edge=False)
        cat.add_column("category")
        cat.add_column("findings", justify="right")
        for name, n in s.by_category.items():
            cat.add_row(name, str(n))
        parts.append(cat)
    failing = [f for f in result.findings if f.status is Status.fail]
    if failing:
        table = Table(title=f"Top findings ({min(top, len(failing))} of {len(failing)})", show_edge=False)
        for col in ("severity", "rule", "object", "container", "message"):
            table.add_column(col, overflow="fold")
        for f in failing[:top]:
            table.add_row(Text(f.severity.value, SEVERITY_STYLE[f.severity]), f.rule,
                          object_ref(f.kind, f.namespace, f.name), f.container or "", f.message)
        parts.append(table)
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
    for err in result.exception_errors:
        parts.append(Text(f"exceptions: {err.file}: {err.message}", "red"))
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
        parts.append(Text(
            f"Excluded: {result.excluded.workloads} workloads in system namespaces "
            f"({', '.join(result.excluded.namespaces)}) with {result.excluded.findings} findings; "
            "use --include-system to see them", "dim"))
    for gap in result.coverage:
        parts.append(Text(f"coverage: {gap.reason}", "yellow"))
    for err in result.errors:
        where = err.file + (f" document {err.document}" if err.document else "") + (f" line {err.line}" if err.line else "")
        parts.append(Text(f"input error: {where}: {err.message}", "red"))
    for err in result.rule_errors:
        parts.append(Text(f"rule error: {err.file}" + (f" [{err.rule}]" if err.rule else "") + f": {err.message}", "red"))
    return Group(*parts)


def render(result: ScanResult, *, width: int | None = None, color: bool = False) -> str:
    """The table as text: as wide as the terminal (or $COLUMNS), 120 columns when piped."""
    width = width or shutil.get_terminal_size((120, 24)).columns
    buffer = StringIO()
    console = Console(file=buffer, width=width, force_terminal=color, color_system="auto" if color else None)
    console.print(build(result))
    return buffer.getvalue()
