"""The engine's side of the graph: `subject` and `path` scopes, `workload`/`binding` variables.

Kept apart from `evaluate.py` so the evaluator stays about objects and templates; it calls
`variables_for_workload`, `variables_for_object` and `run` here. The graph (`Analysis`) is
built only when a loaded rule reads one of these scopes or variables.
"""

from __future__ import annotations

import weakref
from functools import cached_property
from typing import TYPE_CHECKING, Any

from kspm_tui.graph.analysis import Analysis
from kspm_tui.graph.paths import remediation_of
from kspm_tui.graph.rbac import Subject
from kspm_tui.model import Scope, SourceRef
from kspm_tui.snapshot import Workload

if TYPE_CHECKING:
    from kspm_tui.engine.evaluate import Evaluator

BINDING_KINDS = ("RoleBinding", "ClusterRoleBinding")
ROLE_KINDS = ("Role", "ClusterRole")


class GraphScopes:
    def __init__(self, evaluator: Evaluator) -> None:
        # A weak reference back to the evaluator that owns this: no reference cycle, so both
        # (and the per-template caches they hold) are freed as soon as the scan is done — it
        # runs with the cyclic collector paused, and what is alive after it is frozen.
        self.ev = weakref.proxy(evaluator)
        by_scope = evaluator._by_scope
        workload_rules = by_scope[Scope.container] + by_scope[Scope.pod]
        self.wants_workload = any("workload" in r.variables for r in workload_rules)
        self.wants_binding = any("binding" in r.variables for r in by_scope[Scope.object])
        self.wants_role = any("role" in r.variables for r in by_scope[Scope.object])

    @cached_property
    def analysis(self) -> Analysis:
        ev = self.ev
        return Analysis(ev.snapshot, system_namespaces=ev.options.system_namespaces,
                        namespace_facts_=ev.ns_facts, context=ev.options.context, is_cluster=ev.is_cluster,
                        reach=ev.options.reach)

    @property
    def built(self) -> Analysis | None:
        """The graph if a rule asked for it (never built just to hand it out)."""
        return self.__dict__.get("analysis")

    def variables_for_workload(self, workload: Workload) -> dict[str, Any]:
        return {"workload": self.analysis.workload_facts(workload)} if self.wants_workload else {}

    def variables_for_object(self, obj: dict[str, Any]) -> dict[str, Any]:
        kind = obj.get("kind")
        if self.wants_binding and kind in BINDING_KINDS:
            return {"binding": self.analysis.binding_facts(obj)}
        if self.wants_role and kind in ROLE_KINDS:
            return {"role": self.analysis.role_facts(obj)}
        return {}

    def run(self) -> None:
        self._subjects()
        self._paths()

    def _excluded(self, namespace: str | None, system: bool, rule_allows_system: bool) -> bool:
        options = self.ev.options
        in_system = system or namespace in options.system_namespaces
        return in_system and not options.include_system and not rule_allows_system

    def _subjects(self) -> None:
        rules = self.ev._by_scope[Scope.subject]
        if not rules:
            return
        ev, analysis = self.ev, self.analysis
        only = ev.options.only
        for subject in analysis.rbac.subjects():
            if only is not None and (subject.kind, subject.namespace, subject.name) not in only:
                continue
            facts = analysis.subject_facts(subject)
            active = [r for r in rules if not self._excluded(subject.namespace, facts["system"],
                                                              r.rule.match.system_namespaces)]
            if not active:
                continue
            ev.set_variables(Scope.subject, {"subject": facts, "cluster": ev.cluster,
                           "ns": ev.ns_facts.get(subject.namespace or "", {})})
            where = str(subject)
            source = self._subject_source(subject)
            if ev.ledger is not None:
                ev.ledger.evaluated((subject.kind, subject.namespace, subject.name), [rule.id for rule in active])
            for rule in active:
                ev.out.stats[rule.id].evaluated += 1
                if ev._eval(rule, where) is False:
                    raw = ev._fail(rule, facts, where)
                    raw.fragment = None
                    ev._emit([ev._finding(raw, subject.kind, subject.name, subject.namespace, source)])

    def _subject_source(self, subject: Subject) -> SourceRef:
        """Where to point for a subject: its ServiceAccount object, else the first binding naming it."""
        snapshot = self.ev.snapshot
        item = snapshot.get("ServiceAccount", subject.namespace, subject.name) \
            if subject.kind == "ServiceAccount" else None
        if item is None:
            for binding, _ in self.analysis.rbac.bindings_of(subject):
                ref = binding.ref
                if (item := snapshot.get(ref.kind, ref.namespace, ref.name)) is not None:
                    break
        return item.source if item is not None else SourceRef()

    def _paths(self) -> None:
        rules = self.ev._by_scope[Scope.path]
        if not rules:
            return
        ev = self.ev
        only = ev.options.only
        paths = self.analysis.path_graph.paths if only is None else sorted(
            (path for key in only if (workload := ev.snapshot.workload(key)) is not None
             for path in self.analysis.workload_paths(workload)), key=lambda p: (-p.score, p.id))
        reported: set[tuple[str, str]] = set()
        for path in paths:  # best first: one finding per rule and workload
            src = path.source
            item = ev.snapshot.get(src.kind, src.namespace, src.name)
            if item is None:
                continue
            facts = path.facts()
            ev.set_variables(Scope.path, {"path": facts, "object": item.obj, "cluster": ev.cluster,
                           "ns": ev.ns_facts.get(src.namespace or "", {})})
            where = f"path {path.summary()}"
            for rule in rules:
                key = (rule.id, str(src))
                if key in reported or self._excluded(src.namespace, False, rule.rule.match.system_namespaces):
                    continue
                ev.out.stats[rule.id].evaluated += 1
                if ev.ledger is not None:
                    ev.ledger.evaluated((src.kind, src.namespace, src.name), [rule.id])
                if ev._eval(rule, where) is False:
                    reported.add(key)
                    raw = ev._fail(rule, facts, where)
                    raw.fragment = None
                    finding = ev._finding(raw, src.kind, src.name, src.namespace, item.source)
                    finding.remediation = remediation_of(path, rule.rule.remediation.guidance)
                    ev._emit([finding])
