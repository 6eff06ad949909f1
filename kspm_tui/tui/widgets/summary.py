"""The cluster overview's top panel: score, severity and category counts, framework bars,
top attack paths, coverage gaps and scan facts, rendered from one scan."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from kspm_tui.labels import object_ref
from kspm_tui.model import Category, Severity, Status
from kspm_tui.scan import Scanned
from kspm_tui.tui.index import PendingIndex, ResultIndex
from kspm_tui.tui.widgets.safe import Static

# Framework prefix in rule mappings → label on the bars.
FRAMEWORKS = (("pss", "PSS"), ("cis", "CIS"), ("nsa-cisa", "NSA/CISA"))
BAR = 20


def framework_bars(scanned: Scanned) -> list[tuple[str, int, int]]:
    """(label, rules passing, rules mapped) per framework, from the rules this scan evaluated."""
    failing = {s.rule for s in scanned.result.rule_stats if s.failed - s.accepted > 0}
    out = []
    for prefix, label in FRAMEWORKS:
        mapped = {r.id for r in scanned.ruleset.rules
                  if any(f.split(":")[0].startswith(prefix) for f in r.rule.frameworks)}
        if mapped:
            out.append((label, len(mapped - failing), len(mapped)))
    return out


# Below this terminal size the panel is a few lines, so the namespace list keeps most of the screen.
COMPACT_BELOW = (100, 40)


class SummaryPanel(Static):
    def show(self, scanned: Scanned, index: ResultIndex, colors: dict[str, str]) -> None:
        width, height = self.app.size
        compact = width < COMPACT_BELOW[0] or height < COMPACT_BELOW[1]
        self.set_class(compact, "compact")
        self.update(render_compact(scanned, index, colors) if compact else render_summary(scanned, index, colors))

    def show_pending(self, pending: PendingIndex, colors: dict[str, str]) -> None:
        """While a first scan reads its files: what is known so far, and what is not yet."""
        self.set_class(False, "compact")
        self.update(render_pending(pending, colors))


def trend(head: Text, scanned: Scanned, colors: dict[str, str]) -> None:
    """The score of the saved scans of this target, as a sparkline after the score."""
    if len(scanned.trend) > 1:
        from kspm_tui.triage.history import sparkline

        head.append(f"   {sparkline(scanned.trend[-24:])}", style=colors["good"])
        head.append(f" {len(scanned.trend)} scans", style="dim")


def severity_line(scanned: Scanned, colors: dict[str, str]) -> Text:
    """`9 critical  37 high ... = 440 failing`: every severity, so the total is their sum."""
    s = scanned.result.summary
    sev = Text()
    for level in Severity:
        n = s.by_severity.get(level.value, 0)
        sev.append(f"{n}", style=f"bold {colors[level.value]}" if n else "dim")
        sev.append(f" {level.value}  ", style=colors[level.value] if n else "dim")
    sev.append(f"= {s.total} failing", style="bold")
    return sev


def path_lines(scanned: Scanned, colors: dict[str, str], limit: int) -> list[Text]:
    """Open attack paths, source and destination first, the chain after them (cut at the edge)."""
    lines = []
    for f in scanned.result.findings:
        if f.category is not Category.attack_path or f.status is not Status.fail:
            continue
        chain = f.message.split(" (cheapest cut")[0]
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f" {f.severity.value:<8} ", style=colors[f.severity.value])
        line.append(f"{object_ref(f.kind, f.namespace, f.name)} → {chain.rsplit(' → ', 1)[-1]}  ", style="bold")
        line.append(chain, style="dim")
        lines.append(line)
        if len(lines) == limit:
            break
    return lines


def objects_text(scanned: Scanned, index: ResultIndex) -> str:
    """What the object counts mean: scanned, workloads among them, and rows listed below."""
    s = scanned.result.summary
    return f"{s.objects} objects scanned · {s.workloads} workloads · {len(index.workloads)} objects listed"


def render_pending(pending: PendingIndex, colors: dict[str, str]) -> Group:
    """Provisional counts from the template checks of the files read so far; the rest pending."""
    done, total = pending.read
    head = Text.assemble(("Score ", "bold"), ("pending", f"bold {colors['warn']}"),
                         (f"  ·  read {done} of {total} files", "dim"), no_wrap=True, overflow="ellipsis")
    counts = {level: 0 for level in Severity}
    for row in pending.namespaces.values():
        for level, n in row.counts.by_severity.items():
            counts[level] += n
    sev = Text(no_wrap=True, overflow="ellipsis")
    for level, n in counts.items():
        sev.append(f"{n}", style=f"bold {colors[level.value]}" if n else "dim")
        sev.append(f" {level.value}  ", style=colors[level.value] if n else "dim")
    workloads = len(pending.workloads)
    sev.append(f"so far, in {workloads} workload{'' if workloads == 1 else 's'} (pod and container checks)",
               style="dim")
    rest = Text("pending: namespace, RBAC and network rules, cluster-wide findings, attack paths, "
                "accepted risks", style=colors["warn"], no_wrap=True, overflow="ellipsis")
    return Group(head, sev, rest)


def render_compact(scanned: Scanned, index: ResultIndex, colors: dict[str, str]) -> Group:
    """The panel for small terminals: score and why, counts, the top attack path."""
    s = scanned.result.summary
    score_color = colors["good"] if s.score >= 80 else colors["warn"] if s.score >= 50 else colors["bad"]
    head = Text(no_wrap=True, overflow="ellipsis")
    head.append("Posture score ", style="bold")
    head.append(f"{s.score}", style=f"bold {score_color}")
    head.append("/100", style="dim")
    trend(head, scanned, colors)
    if s.score_cap:
        head.append(f"  capped (pass rate {s.score_cap.uncapped}): {s.score_cap.reason}", style=colors["bad"])
    facts = severity_line(scanned, colors)
    facts.append(f"  ·  {objects_text(scanned, index)}", style="dim")
    facts.no_wrap, facts.overflow = True, "ellipsis"
    parts: list = [head, facts]
    paths = path_lines(scanned, colors, 1)
    if paths:
        parts.append(Text.assemble(("Top attack path (:paths)", "bold"), no_wrap=True))
        parts += paths
    return Group(*parts)


def render_summary(scanned: Scanned, index: ResultIndex, colors: dict[str, str]) -> Group:
    result = scanned.result
    s = result.summary
    score_color = colors["good"] if s.score >= 80 else colors["warn"] if s.score >= 50 else colors["bad"]
    head = Text.assemble(("Posture score ", "bold"), (f"{s.score}", f"bold {score_color}"), ("/100", "dim"))
    sev = severity_line(scanned, colors)
    facts = Text(f"{objects_text(scanned, index)}\n"
                 f"{s.rules} rules, scanned in {result.duration_s:.2f}s", style="dim")
    accepted = s.by_status.get(Status.accepted.value, 0)
    extra = Text()
    if accepted:
        extra.append(f"{accepted} accepted  ", style=colors["good"])
    if index.previous is not None:
        extra.append(f"+{len(index.new)} new  ", style=f"bold {colors['high']}" if index.new else "dim")
        extra.append(f"-{len(index.resolved)} resolved", style=colors["good"] if index.resolved else "dim")
    trend(head, scanned, colors)
    if s.score_cap:
        head.append(f"\ncapped (pass rate {s.score_cap.uncapped}): {s.score_cap.reason}", style=colors["bad"])
    left = Group(head, sev, facts, extra)

    bars = Text("Rules passing per framework\n", style="bold")
    for label, passing, mapped in framework_bars(scanned):
        filled = round(BAR * passing / mapped)
        bars.append(f"{label:<9}")
        bars.append("█" * filled, style=colors["good"])
        bars.append("░" * (BAR - filled), style=colors["bad"])
        bars.append(f" {passing}/{mapped}\n", style="dim")
    if not framework_bars(scanned):
        bars.append("no framework mappings in the loaded rules", style="dim")

    cats = Text("Failing by category\n", style="bold")
    for name, n in list(s.by_category.items())[:6]:
        cats.append(f"{n:>5} ", style="bold")
        cats.append(f"{name}\n")
    if not s.by_category:
        cats.append("no failing findings", style=colors["good"])

    grid = Table.grid(padding=(0, 3), expand=True)
    grid.add_column(ratio=4)
    grid.add_column(ratio=4)
    grid.add_column(ratio=3)
    grid.add_row(left, bars, cats)
    parts: list = [grid]

    paths = path_lines(scanned, colors, 3)
    if paths:
        parts.append(Text("Top attack paths (:paths)", style="bold"))
        parts += paths
    notes = Text()
    for gap in result.coverage:
        notes.append(f"coverage: {gap.reason}\n", style=colors["warn"])
    na = [st for st in result.rule_stats if st.not_assessable]
    if na:
        notes.append(f"{len(na)} rules not assessable (e.g. {na[0].rule}: {na[0].reason})\n", style=colors["warn"])
    if result.errors:
        first = result.errors[0]
        notes.append(f"{len(result.errors)} input errors (first: {first.file}: {first.message})\n",
                     style=colors["bad"])
    if result.rule_errors:
        notes.append(f"{len(result.rule_errors)} rule errors (first: {result.rule_errors[0].message})\n",
                     style=colors["bad"])
    if result.excluded.workloads:
        notes.append(f"{result.excluded.workloads} workloads in system namespaces not listed "
                     f"({result.excluded.findings} findings, counted by --fail-on but not in the score or the "
                     f"totals above: the last row; the namespaces' own objects are checked once listed); "
                     f"Enter on it or S lists them\n", style="dim")
    if result.cluster.partial:
        notes.append("PARTIAL RESULT: collection did not finish\n", style=f"bold {colors['bad']}")
    if notes:
        parts.append(notes)
    return Group(*parts)
