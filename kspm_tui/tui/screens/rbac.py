"""RBAC: subjects with their risks, one subject's effective permissions, and who-can."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType

from kspm_tui.graph.analysis import Analysis
from kspm_tui.graph.rbac import Grant, Request, Subject
from kspm_tui.labels import RISK_FLAGS
from kspm_tui.tui import keymap
from kspm_tui.tui.screens.base import Sort, TableScreen
from kspm_tui.tui.widgets.lazy_table import Cell, Column
from kspm_tui.tui.widgets.safe import Static

if TYPE_CHECKING:
    from kspm_tui.tui.app import KspmApp

BUILDING = "building the RBAC graph…"


class GraphTableScreen(TableScreen):
    """A table over the RBAC graph, which is built in a worker the first time it is needed."""

    def __init__(self) -> None:
        super().__init__()
        self.analysis: Analysis | None = None

    def on_mount(self) -> None:
        self.table.empty_text = BUILDING
        self.kspm.with_analysis(self.graph_ready)

    def graph_ready(self, analysis: Analysis) -> None:
        self.analysis = analysis
        self.table.empty_text = self.empty_text()
        self.load()

    def empty_text(self) -> str:
        return "nothing to show"

    def refresh_data(self) -> None:  # a rescan makes a new graph
        self.analysis = None
        self.table.empty_text = BUILDING
        self.load()
        self.kspm.with_analysis(self.graph_ready)


def risk_labels(facts: dict[str, Any]) -> list[str]:
    return [label for key, label in RISK_FLAGS if facts[key]]


class RbacScreen(GraphTableScreen):
    footer: ClassVar[tuple[str, ...]] = keymap.RBAC_FOOTER
    crumb = "rbac"
    BINDINGS: ClassVar[list[BindingType]] = [*TableScreen.BINDINGS, *keymap.bindings(keymap.RBAC_KEYS)]
    columns: ClassVar[list[Column]] = [Column("kind", 14, fit=True), Column("namespace", 16, fit=True), Column("name"),
                                       Column("bindings", 8, "right"), Column("rules", 6, "right"),
                                       Column("risks", 48)]
    sorts: ClassVar[list[Sort]] = [
        ("risk", lambda f: (-len(f["_risks"]), not f["clusterAdmin"], f["kind"], f["namespace"], f["name"])),
        ("name", lambda f: (f["name"], f["kind"])),
        ("kind", lambda f: (f["kind"], f["namespace"], f["name"])),
    ]

    def items(self) -> list[dict[str, Any]]:
        if self.analysis is None:
            return []
        rows = []
        for subject in self.analysis.rbac.subjects():
            facts = self.analysis.subject_facts(subject)
            if facts["system"] and not self.kspm.include_system:
                continue
            rows.append({**facts, "_subject": subject, "_risks": risk_labels(facts)})
        return rows

    def empty_text(self) -> str:
        return "no RBAC subjects in this scan (no RoleBindings or ClusterRoleBindings were read)"

    def haystack(self, f: dict[str, Any]) -> str:
        return f"{f['key']} {' '.join(f['_risks'])}".lower()

    def primary(self, f: dict[str, Any]) -> str:
        return f["name"].lower()

    def cells(self, f: dict[str, Any]) -> Sequence[Cell]:
        risks = ", ".join(f["_risks"])
        tone = "critical" if f["clusterAdmin"] or f["canEscalate"] else "high" if risks else "dim"
        return [f["kind"], f["namespace"], f["name"], str(len(f["bindings"])), str(f["rules"]),
                (risks or "—", tone)]

    def open(self, row: Any) -> None:
        self.app.push_screen(SubjectScreen(row["_subject"]))

    def action_who_can(self) -> None:
        self.kspm.jump_prompt("can ")

    def action_paths(self) -> None:
        self.kspm.jump("paths")

    def copy_text(self) -> tuple[str, str] | None:
        row = self.table.current
        return (row["key"], "subject") if row else None


class SubjectScreen(GraphTableScreen):
    """Everything one subject may do, scope by scope, with the binding → role chain."""

    columns: ClassVar[list[Column]] = [Column("scope", 16, fit=True), Column("rule"), Column("granted by", 60)]
    sorts: ClassVar[list[Sort]] = [("scope", lambda g: (g.scope is not None, g.scope or "")),
                                   ("binding", lambda g: str(g.binding))]

    def __init__(self, subject: Subject) -> None:
        super().__init__()
        self.subject = subject

    @property
    def crumb(self) -> str:  # type: ignore[override]
        return str(self.subject)

    def compose_top(self) -> ComposeResult:
        yield Static(Text(str(self.subject), style="bold"), id="subject-head")

    def graph_ready(self, analysis: Analysis) -> None:
        facts = analysis.subject_facts(self.subject)
        groups = analysis.rbac.groups_of(self.subject)
        head = Text.assemble((str(self.subject), "bold"), f"   implicit groups: {', '.join(groups) or '—'}")
        risks = risk_labels(facts)
        if risks:
            head.append(f"\nrisks: {', '.join(risks)}", style=f"bold {self.kspm.colors()['critical']}")
        for e in [] if facts["clusterAdmin"] else facts["escalation"]:
            head.append(f"\n  can escalate: {e['label']} — {e['chain']}", style=self.kspm.colors()["high"])
        self.query_one("#subject-head", Static).update(head)
        super().graph_ready(analysis)

    def items(self) -> list[Grant]:
        return self.analysis.rbac.effective(self.subject) if self.analysis else []

    def empty_text(self) -> str:
        return "no permissions granted by any binding in this scan"

    def haystack(self, g: Grant) -> str:
        return f"{g.scope or '*'} {g.rule.text()} {g.binding} {g.role}".lower()

    def cells(self, g: Grant) -> Sequence[Cell]:
        via = f" (as {g.subject})" if g.subject != self.subject else ""
        agg = f" ← {g.aggregated_from}" if g.aggregated_from else ""
        scope: Cell = ("cluster-wide", "high") if g.scope is None else g.scope
        return [scope, g.rule.text(), f"{g.binding}{via} → {g.role}{agg}"]

    def copy_text(self) -> tuple[str, str] | None:
        g = self.table.current
        return (g.chain(), "grant chain") if g else None


def parse_request(text: str) -> Request | str:
    """`VERB RESOURCE [-n NAMESPACE]` → a Request, or what is wrong with the text."""
    words = text.split()
    namespace = None
    for flag in ("-n", "--namespace"):
        if flag in words:
            at = words.index(flag)
            if at + 1 >= len(words):
                return f"{flag} needs a namespace"
            namespace = words[at + 1]
            del words[at:at + 2]
    if len(words) != 2:
        return "who can: write VERB RESOURCE [-n NAMESPACE], e.g. `get secrets -n prod` or `create pods/exec`"
    return Request.parse(words[0], words[1], namespace=namespace)


def open_who_can(app: KspmApp, text: str) -> None:
    request = parse_request(text)
    if isinstance(request, str):
        app.notify(request, severity="error", timeout=6)
        return
    app.push_screen(WhoCanScreen(request, text.strip()))


class WhoCanScreen(GraphTableScreen):
    columns: ClassVar[list[Column]] = [Column("subject", 38, fit=True), Column("scope", 14, fit=True), Column("binding", 36, fit=True),
                                       Column("role", 28, fit=True), Column("rule")]
    sorts: ClassVar[list[Sort]] = [("subject", lambda g: str(g.subject)), ("scope", lambda g: g.scope or "")]

    def __init__(self, request: Request, asked: str) -> None:
        super().__init__()
        self.request = request
        self.asked = asked

    @property
    def crumb(self) -> str:  # type: ignore[override]
        return f"who can {self.asked}"

    def items(self) -> list[Grant]:
        return self.analysis.rbac.who_can(self.request) if self.analysis else []

    def empty_text(self) -> str:
        return f"nobody can {self.asked} (by the RBAC objects in this scan)"

    def haystack(self, g: Grant) -> str:
        return f"{g.subject} {g.binding} {g.role} {g.rule.text()}".lower()

    def cells(self, g: Grant) -> Sequence[Cell]:
        role = f"{g.role} ← {g.aggregated_from}" if g.aggregated_from else str(g.role)
        scope: Cell = ("*", "high") if g.scope is None else g.scope
        return [str(g.subject), scope, str(g.binding), role, g.rule.text()]

    def open(self, row: Any) -> None:
        self.app.push_screen(SubjectScreen(row.subject))

    def copy_text(self) -> tuple[str, str] | None:
        g = self.table.current
        return (g.chain(), "grant chain") if g else None
