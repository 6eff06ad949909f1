"""Attack paths as a tree: each path, its edges with their evidence, and the cheapest cut.

Enter on an edge opens the object it stands for (a workload's findings, a subject's
permissions); `c` copies the cut's kubectl command (or the object reference).
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import Footer
from textual.widgets.tree import TreeNode

from kspm_tui.graph.analysis import Analysis
from kspm_tui.graph.paths import AttackPath, Cut, ObjectRef, PathEdge
from kspm_tui.graph.rbac import Subject
from kspm_tui.labels import path_severity
from kspm_tui.tui import keymap
from kspm_tui.tui.screens.base import KspmScreen
from kspm_tui.tui.widgets.safe import Static, Tree

SUBJECT_KINDS = ("ServiceAccount", "User", "Group")


class PathsScreen(KspmScreen):
    footer: ClassVar[tuple[str, ...]] = keymap.PATHS_FOOTER
    crumb = "attack paths"
    BINDINGS: ClassVar[list[BindingType]] = keymap.bindings(keymap.PATHS_KEYS)

    def __init__(self) -> None:
        super().__init__()
        self.internal = False
        self.analysis: Analysis | None = None
        self.paths: list[AttackPath] = []

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        yield Static("building the attack-path graph…", id="paths-head")
        yield Tree("attack paths", id="paths-tree")
        yield Footer()

    def on_mount(self) -> None:
        tree = self.query_one(Tree)
        tree.show_root = False
        tree.auto_expand = False  # Enter opens the object; space folds
        self.kspm.with_analysis(self.graph_ready)

    def refresh_data(self) -> None:
        self.analysis = None
        self.kspm.with_analysis(self.graph_ready)

    def graph_ready(self, analysis: Analysis) -> None:
        self.analysis = analysis
        self.fill()

    def fill(self) -> None:
        if self.analysis is None:
            return
        paths = self.analysis.attack_paths(internal=self.internal)
        hidden = 0
        if not self.kspm.include_system:
            shown = [p for p in paths if p.source.namespace not in self.analysis.system_namespaces]
            hidden, paths = len(paths) - len(shown), shown
        self.paths = paths
        colors = self.kspm.colors()
        scope = "from the internet and from inside the cluster" if self.internal else "from the internet"
        head = Text.assemble((f"{len(paths)} attack paths ", "bold"), scope,
                             ("   t: " + ("internet only" if self.internal else "also from inside"), "dim"))
        if hidden:
            head.append(f"\n{hidden} paths from workloads in system namespaces hidden (--include-system)",
                        style="dim")
        self.query_one("#paths-head", Static).update(head)
        tree: Tree[Any] = self.query_one(Tree)
        tree.clear()
        for rank, path in enumerate(paths, 1):
            severity = path_severity(self.kspm.ruleset(), path.target)
            label = Text.assemble(f"{rank}. ", (f" {severity.value} ", f"bold reverse {colors[severity.value]}"),
                                  " ", (f"{path.source} → {path.target_label}", "bold"),
                                  (f"  ({'internet' if path.exposed else 'inside'}, score {path.score})", "dim"))
            node = tree.root.add(label, data=path, expand=rank == 1)
            for edge in path.edges:
                edge_node = node.add(Text.assemble((f"{edge.source} ", "dim"), (f"─{edge.relation}→ ", "bold"),
                                                   edge.target), data=edge, expand=True)
                edge_node.add_leaf(Text(edge.evidence, style="dim italic"), data=edge)
            if path.cut is not None:
                label = "cut (keeps the workload running): " if path.cut.keeps_workload else "cheapest cut: "
                cut = node.add(Text.assemble((label, f"bold {colors['good']}"), path.cut.description,
                                             (f"  ({path.cut.effect})" if path.cut.effect else "", "dim")),
                               data=path.cut, expand=True)
                if path.cut.kubectl:
                    cut.add_leaf(Text(path.cut.kubectl), data=path.cut)
                if path.cut.guidance:
                    cut.add_leaf(Text(path.cut.guidance, style="dim"), data=path.cut)
        if not paths:
            tree.root.add_leaf(Text("no attack paths" + ("" if self.internal else
                                    " from the internet (t shows paths from a compromised pod)"), style="dim"))
        tree.focus()

    def action_toggle_internal(self) -> None:
        self.internal = not self.internal
        self.fill()

    def on_tree_node_selected(self, event: Tree.NodeSelected[Any]) -> None:
        data = event.node.data
        ref: ObjectRef | None = None
        if isinstance(data, PathEdge):
            ref = data.object
        elif isinstance(data, AttackPath):
            ref = data.source
        elif isinstance(data, Cut):
            ref = data.object
        if ref is not None:
            self.open_object(ref)
        else:
            event.node.toggle()

    def open_object(self, ref: ObjectRef) -> None:
        """The object's own screen: a subject's permissions, or the object's findings."""
        from kspm_tui.tui.screens.rbac import SubjectScreen
        from kspm_tui.tui.screens.workload import WorkloadScreen

        if ref.kind in SUBJECT_KINDS:
            self.app.push_screen(SubjectScreen(Subject(ref.kind, ref.name, ref.namespace)))
            return
        index = self.kspm.index
        key = (ref.kind, ref.namespace, ref.name)
        if index is not None and key in index.workloads:
            self.app.push_screen(WorkloadScreen(key))
        else:
            self.notify(f"{ref}: no findings on this object", timeout=3)

    def current(self) -> Any:
        node: TreeNode[Any] | None = self.query_one(Tree).cursor_node
        return node.data if node is not None else None

    def copy_text(self) -> tuple[str, str] | None:
        data = self.current()
        if isinstance(data, AttackPath):
            data = data.cut or data.source
        if isinstance(data, Cut):
            return (data.kubectl, "kubectl command of the cheapest cut") if data.kubectl else (
                data.guidance or data.description, "cut guidance")
        if isinstance(data, PathEdge):
            return (data.evidence, "edge evidence") if data.object is None else (str(data.object), "object reference")
        if isinstance(data, ObjectRef):
            return str(data), "object reference"
        return None
