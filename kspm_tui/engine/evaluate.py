"""Runs compiled rules over a snapshot and produces findings.

Scopes decide what one evaluation sees: containers and pod templates of top-level
workloads (identical templates evaluated once), objects of given kinds, namespaces with
their facts, the cluster as a whole, and control-plane components' flags.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from kspm_tui.engine.cel import (
    CelError,
    ProgramSet,
    all_containers,
)
from kspm_tui.engine.evidence import EvidenceTable, collect_evidence, expression_evidence
from kspm_tui.engine.graph_scopes import GraphScopes
from kspm_tui.engine.loader import CompiledRule, RuleSet, params_variable
from kspm_tui.engine.pod_security import PodSecurityLevels, empty_fact
from kspm_tui.engine.shapes import merge_reads
from kspm_tui.engine.typed import construct
from kspm_tui.engine.units import ALWAYS, Ledger, UnitCounts
from kspm_tui.fixes.safety import Assessor, VerdictCache
from kspm_tui.graph.analysis import Analysis
from kspm_tui.graph.controlplane import control_plane
from kspm_tui.graph.facts import cluster_facts, namespace_facts
from kspm_tui.graph.paths import Reachability
from kspm_tui.kinds import TEMPLATE_PATH
from kspm_tui.model import (
    CoverageGap,
    Excluded,
    Finding,
    RuleError,
    RuleStat,
    Scope,
    Severity,
    SourceRef,
    Status,
    fingerprint,
)
from kspm_tui.redact import redact_text
from kspm_tui.remediation import build as build_remediation
from kspm_tui.snapshot import DEFAULT_SYSTEM_NAMESPACES, Key, Snapshot, Workload, key_of, namespace_of

CONTAINER_TYPES = ("initContainers", "containers", "ephemeralContainers")
K3S_GUIDANCE = ("k3s passes this flag itself: set it on every server in /etc/rancher/k3s/config.yaml as "
                "`{component}-arg: [\"NAME=VALUE\"]` (or `--{component}-arg=NAME=VALUE` on the k3s server "
                "command line) and restart k3s (`systemctl restart k3s`).")
# Every field counts as set on findings we build, and all of them share this set: pydantic
# keeps a "fields set" per instance (about half a finding's own memory); see typed.construct.
_FINDING_FIELDS = set(Finding.model_fields)
# Most findings cover no other rule: they share this one empty list (findings are values).
_NO_COVERS: list[str] = []
ProgressFn = Callable[[int, int], None]


@dataclass(slots=True)
class Options:
    include_system: bool = False
    system_namespaces: tuple[str, ...] = DEFAULT_SYSTEM_NAMESPACES
    context: str | None = None
    cluster_name: str = "local"
    coverage: list[CoverageGap] = field(default_factory=list)
    is_cluster: bool | None = None  # None: decide from the snapshot (has kube-system)
    # Watch mode: evaluate only these (kind, namespace, name) units — workloads (their
    # containers, pod template and attack paths), objects, Namespaces and RBAC subjects;
    # cluster and control-plane rules (cheap, once each) always run.
    only: frozenset[Key] | None = None
    # Watch mode: every workload's Pod Security level before this batch, so a Namespace's
    # `ns.podSecurity` is exact when only some of its workloads are evaluated again.
    pod_security: PodSecurityLevels | None = None
    # Watch mode: this snapshot's namespace and cluster facts and reachability, already
    # computed to see what a batch changed (not computed twice).
    namespace_facts: dict[str, dict[str, Any]] | None = None
    cluster_facts: dict[str, Any] | None = None
    reach: Reachability | None = None
    # Watch mode: fix verdicts kept across batches (`fixes/safety.py`), filled by this run.
    verdicts: VerdictCache | None = None
    # Watch mode: record what each unit added to the counts (`Evaluation.units`, engine/units.py).
    unit_counts: bool = False


@dataclass(slots=True)
class Raw:
    """One failure before it is tied to a workload: cacheable per pod template."""

    rule: CompiledRule
    message: str
    evidence: list[tuple[str, Any]]  # (path under the scope root, redacted value)
    fragment: dict[str, Any] | None
    container_type: str | None = None
    container: str | None = None
    severity: Severity | None = None  # from the rule's severityExpression; None: the rule's severity
    covers: tuple[str, ...] = ()  # superseded rules this failure reports too


# A failure's redacted message, patch fragment, severity and expression evidence (None: from paths).
Outcome = tuple[str, dict[str, Any] | None, Severity | None, list[tuple[str, Any]] | None]
_OUTCOMES_MAX = 65536  # remembered detail outcomes (see Evaluator._outcome); cleared when full

# Template-only failures and evaluated rule ids per pod template digest (see Evaluator._workload).
TemplateCache = dict[bytes, tuple[list[Raw], list[str]]]


@dataclass(slots=True)
class Evaluation:
    findings: list[Finding] = field(default_factory=list)
    stats: dict[str, RuleStat] = field(default_factory=dict)
    rule_errors: list[RuleError] = field(default_factory=list)
    excluded: Excluded = field(default_factory=Excluded)
    workloads: int = 0
    analysis: Analysis | None = None  # the graph, when a rule needed it: the views reuse it
    pod_security: PodSecurityLevels = field(default_factory=PodSecurityLevels)
    units: dict[Key, UnitCounts] | None = None  # with `Options.unit_counts`: each unit's share of the counts


class Evaluator:
    """Holds one reusable CEL context and the per-template cache for one scan."""

    def __init__(self, snapshot: Snapshot, ruleset: RuleSet, options: Options,
                 template_cache: TemplateCache | None = None) -> None:
        self.snapshot = snapshot
        self.options = options
        self.rules = ruleset.rules
        self.out = Evaluation(stats={r.id: RuleStat(rule=r.id) for r in self.rules})
        self.cluster_id = snapshot.cluster_id
        given = options.namespace_facts
        self.ns_facts = ({name: dict(facts) for name, facts in given.items()} if given is not None
                         else namespace_facts(snapshot, options.system_namespaces))
        self.cluster = dict(options.cluster_facts) if options.cluster_facts is not None \
            else cluster_facts(snapshot)
        self.is_cluster = self.cluster["isCluster"] if options.is_cluster is None else options.is_cluster
        self.cluster["isCluster"] = self.is_cluster
        self._errored: set[str] = set()
        # Per-workload counts, added to the (pydantic) stats once at the end of the run.
        self._evaluated: Counter[str] = Counter()
        self._failed: Counter[str] = Counter()
        self._superseded: Counter[str] = Counter()
        self._template_cache: TemplateCache = {} if template_cache is None else template_cache
        self._evidence = EvidenceTable()
        unreadable = {gap.kind for gap in options.coverage}
        self.blocked: dict[str, str] = {}
        for rule in self.rules:
            missing = sorted(unreadable & (set(rule.rule.requires) | set(rule.rule.match.kinds)))
            if missing:
                self.blocked[rule.id] = f"cannot read {', '.join(missing)}"
        self._rule_index = {r.id: r for r in self.rules}
        self._by_scope: dict[Scope, list[CompiledRule]] = {s: [] for s in Scope}
        for rule in self.rules:
            if rule.id not in self.blocked:
                self._by_scope[rule.rule.scope].append(rule)
        # The latest value of each variable, per scope (set_variables); rules read them
        # through ProgramSets: checks grouped by what they read, messages and patches per rule.
        self._values: dict[Scope, dict[str, Any]] = {scope: {} for scope in Scope}
        self._check_sets: dict[tuple[CompiledRule, ...], list[tuple[tuple[CompiledRule, ...], ProgramSet]]] = {}
        self._detail_sets: dict[str, ProgramSet] = {}
        self._outcomes: dict[int, tuple[list[Any], Outcome]] = {}  # see _outcome
        self._static_outcomes: dict[str, Outcome] = {}  # rules without detail expressions
        # Pod and container rules by (scope, depends only on the template, container list):
        # each group's checks run together (see _eval_all).
        self._groups: dict[tuple[Scope, bool, str | None], tuple[CompiledRule, ...]] = {
            (scope, only, ctype): tuple(r for r in self._by_scope[scope] if r.template_only is only
                                        and (ctype is None or ctype in r.rule.match.containers))
            for scope in (Scope.pod, Scope.container) for only in (True, False)
            for ctype in (None, *CONTAINER_TYPES)
        }
        per_workload = [r for s in (Scope.container, Scope.pod) for r in self._by_scope[s] if not r.template_only]
        self._needs_workload_context = bool(per_workload)
        self.graph = GraphScopes(self)
        self.ledger = Ledger() if options.unit_counts else None

    # -- entry point -------------------------------------------------------------------
    def run(self, progress: ProgressFn | None = None) -> Evaluation:
        only = self.options.only
        workloads = [w for w in self.snapshot.workloads() if only is None or key_of(w.obj) in only]
        prior = self.options.pod_security
        if only is not None and prior is not None:  # the levels of workloads not evaluated again
            present = {key_of(w.obj) for w in self.snapshot.workloads()}
            self.out.pod_security.workloads.update((k, v) for k, v in prior.workloads.items() if k in present)
        total = len(workloads)
        for done, workload in enumerate(workloads, 1):
            self._workload(workload)
            if progress and (done % 500 == 0 or done == total):
                progress(done, total)
        self._objects()
        self._pod_security_facts()
        self._namespaces()
        self._cluster()
        self._control_plane()
        self.graph.run()
        Assessor(self.snapshot, self.out.pod_security, self.ns_facts, self.options.context,
                 self.options.verdicts).assess_all(self.out.findings)
        for counts, attr in ((self._evaluated, "evaluated"), (self._failed, "failed"),
                             (self._superseded, "superseded")):
            for rule_id, n in counts.items():
                stat = self.out.stats[rule_id]
                setattr(stat, attr, getattr(stat, attr) + n)
        self._not_assessable()
        self.out.analysis = self.graph.built
        if self.ledger is not None:
            self.out.units = self.ledger.close()
        return self.out

    # -- helpers -----------------------------------------------------------------------
    def _eval(self, rule: CompiledRule, where: str) -> bool | None:
        """True compliant, False violated, None when the rule errored (reported once)."""
        return self._eval_all(rule.rule.scope, (rule,), where)[0][1]

    def _eval_all(self, scope: Scope, rules: tuple[CompiledRule, ...],
                  where: str) -> list[tuple[CompiledRule, bool | None]]:
        """Each rule with its verdict on the scope's current values (see `_eval`)."""
        values = self._values[scope]
        out: list[tuple[CompiledRule, bool | None]] = []
        for group, programs in self._check_groups(rules):
            for rule, result in zip(group, programs.run(values), strict=True):
                if result is True or result is False:
                    out.append((rule, result))
                    continue
                if isinstance(result, CelError):
                    self._rule_error(rule, f"{where}: {result}")
                else:
                    self._rule_error(rule, f"{where}: check returned {type(result).__name__}, not bool")
                out.append((rule, None))
        return out

    def _check_groups(self, rules: tuple[CompiledRule, ...]) -> list[tuple[tuple[CompiledRule, ...], ProgramSet]]:
        """`rules` split by which fields of which variables their checks read, one ProgramSet each.

        Rules reading the same fields (`container.securityContext`) share one cache of results,
        whose hit rate is that of the fields they read, not of everything any rule reads; a rule
        reading a subset of another group's fields joins it (fewer lookups, hardly fewer hits).
        """
        known = self._check_sets.get(rules)
        if known is not None:
            return known
        by_reads: dict[frozenset[tuple[str, str]], list[CompiledRule]] = {}
        for rule in sorted(rules, key=lambda r: -len(_fields_read(r))):
            read = _fields_read(rule)
            joined = next((fields for fields in by_reads if read <= fields), read)
            by_reads.setdefault(joined, []).append(rule)
        groups = [(tuple(group), ProgramSet([r.check for r in group], merge_reads(r.check_reads for r in group),
                                            _params(group)))
                  for group in by_reads.values()]
        self._check_sets[rules] = groups
        return groups

    def _rule_error(self, rule: CompiledRule, message: str) -> None:
        if rule.id not in self._errored:
            self._errored.add(rule.id)
            self.out.rule_errors.append(
                RuleError(file=rule.rule.source_file, rule=rule.id, message=message)
            )

    def _fail(self, rule: CompiledRule, root: Any, where: str,
              container_type: str | None = None, container: str | None = None) -> Raw:
        message, fragment, severity, evidence = self._outcome(rule, where)
        if evidence is None:
            evidence = collect_evidence(root, rule.rule.evidence)
        return Raw(rule, message, evidence, fragment, container_type, container, severity)

    def _outcome(self, rule: CompiledRule, where: str) -> Outcome:
        """A failure's redacted message, patch fragment, severity and expression evidence.

        Remembered per result list of the rule's detail programs (a ProgramSet returns one list
        per distinct input; the list is held here, so its id is not reused): the same failure
        recurs on thousands of containers, and its parts are values nobody changes. A rule's
        errors are reported once (`_rule_error`), at its first failure, remembered or not."""
        if not any(p is not None for p in (rule.message, rule.patch, rule.severity, rule.evidence)):
            static = self._static_outcomes.get(rule.id)
            if static is None:
                message = redact_text(rule.rule.message or rule.rule.title)
                static = self._static_outcomes[rule.id] = (message, rule.rule.remediation.patch, None, None)
            return static
        results = self._details(rule).run(self._values[rule.rule.scope])
        known = self._outcomes.get(id(results))
        if known is not None and known[0] is results:
            return known[1]
        outcome = self._detail_outcome(rule, iter(results), where)
        if len(self._outcomes) >= _OUTCOMES_MAX:
            self._outcomes.clear()
        self._outcomes[id(results)] = (results, outcome)
        return outcome

    def _detail_outcome(self, rule: CompiledRule, results: Iterator[Any], where: str) -> Outcome:
        """`_outcome` from the results of the rule's message, patch, severity and evidence expressions."""
        message = rule.rule.message or rule.rule.title
        fragment = rule.rule.remediation.patch
        severity = None
        evidence = None
        if rule.message is not None:
            result = next(results)
            if isinstance(result, CelError):
                self._rule_error(rule, f"{where}: messageExpression: {result}")
            else:
                message = str(result)
        if rule.patch is not None:
            fragment = next(results)
            if isinstance(fragment, CelError):
                self._rule_error(rule, f"{where}: patchExpression: {fragment}")
                fragment = None
            else:
                fragment = _key_order(fragment)
        if rule.severity is not None:
            severity = self._severity(rule, next(results), where)
        if rule.evidence is not None:
            result = next(results)
            evidence = expression_evidence(_key_order(result))  # byte-stable reports, as patches
            if evidence is None:
                self._rule_error(rule, f"{where}: evidenceExpression must give a list of {{path, value}}, "
                                       f"not {result!r:.80}")
        return redact_text(message), fragment, severity, evidence

    def _severity(self, rule: CompiledRule, result: Any, where: str) -> Severity | None:
        """A severityExpression's result; never worse than the rule's own severity."""
        try:
            severity = Severity(result)
        except ValueError:
            self._rule_error(rule, f"{where}: severityExpression gave {result!r}, not a severity")
            return None
        return severity if severity.rank <= rule.rule.severity.rank else rule.rule.severity

    def _finding(self, raw: Raw, kind: str, name: str, namespace: str | None, source: SourceRef,
                 prefix: str = "") -> Finding:
        """One failing finding. Built with `typed.construct`: every field is already of its
        declared type (enums from the validated rule, models from this module), so pydantic's
        validation would only copy lists and cost time for 100k findings; the rule's
        `frameworks` list is shared, not copied (findings are values: nobody mutates them), as
        are the rule's title and guidance, equal evidence (`EvidenceTable`) and an empty `covers`.
        Fields in declaration order."""
        rule = raw.rule.rule
        container = raw.container
        return construct(Finding, _FINDING_FIELDS, {
            "rule": rule.id, "title": rule.title, "severity": raw.severity or rule.severity, "status": Status.fail,
            "category": rule.category, "cluster": self.cluster_id, "kind": kind, "namespace": namespace,
            "name": name, "container": container, "message": raw.message,
            "evidence": [self._evidence.get(prefix, path, value) for path, value in raw.evidence],
            "frameworks": rule.frameworks, "source": source,
            "remediation": build_remediation(
                rule.scope, kind, name, namespace, raw.fragment, rule.remediation.guidance,
                container_type=raw.container_type, container=container, context=self.options.context,
            ),
            "fingerprint": fingerprint(rule.id, self.cluster_id, kind, namespace, name, container),
            "context": self.options.context, "acceptance": None, "covers": list(raw.covers) if raw.covers else _NO_COVERS,
        })

    def _emit(self, findings: Iterable[Finding]) -> None:
        for finding in findings:
            self._failed[finding.rule] += 1
            self.out.findings.append(finding)

    # -- workloads (container and pod scopes) ------------------------------------------
    def _workload(self, workload: Workload) -> None:
        namespace = workload.namespace
        excluded = namespace in self.options.system_namespaces and not self.options.include_system
        if excluded:
            self.out.excluded.workloads += 1
        else:
            self.out.workloads += 1
        template = workload.template
        # Identical templates are evaluated once; keyed by a digest, not the KBs of the template.
        key = hashlib.blake2b(orjson.dumps(template, option=orjson.OPT_SORT_KEYS), digest_size=16).digest()
        self._set_workload({"podSpec": template["spec"], "podMeta": template.get("metadata") or {},
                            "allContainers": all_containers(template["spec"])})
        cached = self._template_cache.get(key)
        if cached is None:
            cached = self._template_cache[key] = self._template_rules(template, workload, True)
        raws, evaluated = cached
        if self._needs_workload_context:
            self._set_workload({"object": workload.obj, "ns": self.ns_facts.get(namespace or "", {}),
                                "cluster": self.cluster, **self.graph.variables_for_workload(workload)})
            more, more_evaluated = self._template_rules(template, workload, False)
            raws, evaluated = raws + more, evaluated + more_evaluated
        self.out.pod_security.add(workload.kind, namespace, workload.name,
                                  [raw.rule.rule.frameworks for raw in raws])
        if excluded:
            evaluated = [i for i in evaluated if self._rule_index[i].rule.match.system_namespaces]
        self._evaluated.update(evaluated)
        prefix = _template_prefix(workload.kind)
        hidden_severities = []
        if excluded:  # hidden, but counted by severity: never silently out of --fail-on
            hidden, _ = supersede([raw for raw in raws if not raw.rule.rule.match.system_namespaces])
            self.out.excluded.findings += len(hidden)
            for raw in hidden:
                severity = (raw.severity or raw.rule.rule.severity).value  # as the listed finding would say
                self.out.excluded.by_severity[severity] = self.out.excluded.by_severity.get(severity, 0) + 1
                hidden_severities.append(severity)
            raws = [raw for raw in raws if raw.rule.rule.match.system_namespaces]
        raws, superseded = supersede(raws)
        for raw in superseded:
            self._failed[raw.rule.id] += 1
            self._superseded[raw.rule.id] += 1
        if self.ledger is not None:
            unit = key_of(workload.obj)
            self.ledger.evaluated(unit, evaluated)
            self.ledger.superseded(unit, [raw.rule.id for raw in superseded])
            self.ledger.workload(unit, excluded, hidden_severities)
        findings = []
        for raw in raws:
            where = prefix + (f"spec.{raw.container_type}[{raw.container}]." if raw.container_type else "")
            findings.append(self._finding(raw, workload.kind, workload.name, namespace,
                                          workload.item.source, where))
        self._emit(findings)

    def set_variables(self, scope: Scope, values: dict[str, Any]) -> None:
        """Values for the next evaluations of `scope`'s rules (converted only if they run)."""
        self._values[scope].update(values)

    def _details(self, rule: CompiledRule) -> ProgramSet:
        """The rule's message and patch expressions (run only where its check fails)."""
        programs = self._detail_sets.get(rule.id)
        if programs is None:
            programs = self._detail_sets[rule.id] = ProgramSet(
                [p for p in (rule.message, rule.patch, rule.severity, rule.evidence) if p is not None],
                rule.detail_reads,
                _params((rule,)))
        return programs

    def _set_workload(self, values: dict[str, Any]) -> None:
        self.set_variables(Scope.pod, values)
        self.set_variables(Scope.container, values)

    def _template_rules(self, template: dict[str, Any], workload: Workload,
                        template_only: bool) -> tuple[list[Raw], list[str]]:
        """Evaluate pod- and container-scope rules on one template (context already set).

        Returns the failures and the id of the rule of each evaluation (for the stats)."""
        where = f"{workload.kind} {workload.namespace or '-'}/{workload.name}"
        raws: list[Raw] = []
        evaluated: list[str] = []
        pod_rules = self._groups[(Scope.pod, template_only, None)]
        for rule, ok in self._eval_all(Scope.pod, pod_rules, where):
            evaluated.append(rule.id)
            if ok is False:
                raws.append(self._fail(rule, template, where))
        if not self._groups[(Scope.container, template_only, None)]:
            return raws, evaluated
        spec = template["spec"]
        for ctype in CONTAINER_TYPES:
            rules = self._groups[(Scope.container, template_only, ctype)]
            for container in spec.get(ctype) or ():
                if not isinstance(container, dict):
                    continue
                self.set_variables(Scope.container, {"container": container, "containerType": ctype})
                cname = str(container.get("name", ""))
                at = f"{where} container {cname}"
                for rule, ok in self._eval_all(Scope.container, rules, at):
                    evaluated.append(rule.id)
                    if ok is False:
                        raws.append(self._fail(rule, container, where, ctype, cname))
        return raws, evaluated

    # -- objects, namespaces, cluster ----------------------------------------------------
    def _objects(self) -> None:
        by_kind: dict[str, tuple[CompiledRule, ...]] = {}
        for rule in self._by_scope[Scope.object]:
            for kind in rule.rule.match.kinds:
                by_kind[kind] = (*by_kind.get(kind, ()), rule)
        for kind, all_rules in by_kind.items():
            # Outside system namespaces every rule runs; inside them, only those asking to.
            for_excluded = tuple(r for r in all_rules if r.rule.match.system_namespaces)
            for item in self.snapshot.of_kind(kind):
                obj = item.obj
                if self.options.only is not None and key_of(obj) not in self.options.only:
                    continue
                namespace = namespace_of(obj)
                excluded = namespace in self.options.system_namespaces and not self.options.include_system
                self.set_variables(Scope.object, {
                    "object": obj,
                    "ns": self.ns_facts.get(namespace or "", {}),
                    "cluster": self.cluster,
                    **self.graph.variables_for_object(obj),
                })
                name = obj["metadata"]["name"]
                where = f"{kind} {namespace or '-'}/{name}"
                rules = for_excluded if excluded else all_rules
                if self.ledger is not None:
                    self.ledger.evaluated(key_of(obj), [rule.id for rule in rules])
                for rule, ok in self._eval_all(Scope.object, rules, where):
                    self._evaluated[rule.id] += 1
                    if ok is False:
                        raw = self._fail(rule, obj, where)
                        self._emit([self._finding(raw, kind, name, namespace, item.source)])

    def _pod_security_facts(self) -> None:
        """`ns.podSecurity`: the strictest Pod Security level every workload there satisfies."""
        levels = self.out.pod_security.namespace_fact()
        # A watch batch evaluates some workloads only: where a namespace's others were not
        # evaluated, claim nothing strict (a wrong `restricted` would offer a breaking label).
        partial = set() if self.options.only is None or self.options.pod_security is not None else {
            w.namespace for w in self.snapshot.workloads()
            if self.out.pod_security.level(w.kind, w.namespace, w.name) is None}
        for name, facts in self.ns_facts.items():
            facts["podSecurity"] = ({"level": "privileged", "blocking": {"baseline": [], "restricted": []}}
                                    if name in partial else levels.get(name) or empty_fact())

    def _namespaces(self) -> None:
        rules = self._by_scope[Scope.namespace]
        if not rules:
            return
        for name, facts in self.ns_facts.items():
            item = self.snapshot.get("Namespace", None, name)
            if item is None or (facts["system"] and not self.options.include_system):
                continue
            if self.options.only is not None and ("Namespace", None, name) not in self.options.only:
                continue
            self.set_variables(Scope.namespace, {"ns": facts, "object": item.obj, "cluster": self.cluster})
            if self.ledger is not None:
                self.ledger.evaluated(("Namespace", None, name), [rule.id for rule in rules])
            for rule in rules:
                self.out.stats[rule.id].evaluated += 1
                if self._eval(rule, f"Namespace {name}") is False:
                    raw = self._fail(rule, item.obj, f"Namespace {name}")
                    self._emit([self._finding(raw, "Namespace", name, None, item.source)])

    def _cluster(self) -> None:
        rules = self._by_scope[Scope.cluster]
        if not rules:
            return
        if not self.is_cluster:
            for rule in rules:
                self.blocked.setdefault(rule.id, "needs a whole-cluster snapshot (kube-system not seen)")
            return
        self.set_variables(Scope.cluster, {"cluster": self.cluster})
        if self.ledger is not None:
            self.ledger.evaluated(ALWAYS, [rule.id for rule in rules])
        for rule in rules:
            self.out.stats[rule.id].evaluated += 1
            if self._eval(rule, "cluster") is False:
                raw = self._fail(rule, self.cluster, "cluster")
                self._emit([self._finding(raw, "Cluster", self.options.cluster_name, None, SourceRef())])

    def _control_plane(self) -> None:
        rules = self._by_scope[Scope.control_plane]
        if not rules:
            return
        components = control_plane(self.snapshot)
        every = {name: c.flags for name, c in components.items()}
        for rule in rules:
            component = rule.rule.match.component or "kube-apiserver"
            found = components.get(component)
            if found is None:
                self.blocked.setdefault(
                    rule.id, f"{component} is not visible (managed control plane, or not collected)"
                )
                continue
            flags = found.flags
            if found.config_file and rule.rule.evidence and not any(f in flags for f in rule.rule.evidence):
                self.blocked.setdefault(rule.id, f"{component} reads its settings from {found.config_file} "
                                                 "(a file on the node, not visible through the API)")
                continue
            obj = found.item.obj
            self.set_variables(Scope.control_plane, {"object": obj, "podSpec": found.spec, "container": found.container,
                                                     "flags": flags, "controlPlane": every, "cluster": self.cluster})
            name = obj["metadata"]["name"]
            self.out.stats[rule.id].evaluated += 1
            if self.ledger is not None:
                self.ledger.evaluated(ALWAYS, [rule.id])
            if self._eval(rule, f"{component} {name}") is False:
                raw = self._fail(rule, flags, f"{component} {name}")
                if found.distribution == "k3s":
                    raw = replace(raw, message=f"{raw.message} (k3s server on node {name})")
                kind, namespace = ("Node", None) if found.distribution == "k3s" else ("Pod", "kube-system")
                finding = self._finding(raw, kind, name, namespace, found.item.source, found.evidence_prefix)
                if found.distribution == "k3s":
                    finding.remediation = build_remediation(
                        Scope.control_plane, kind, name, namespace, None, K3S_GUIDANCE.format(component=component),
                        context=self.options.context)
                self._emit([finding])

    def _not_assessable(self) -> None:
        """Rules we could not assess: a stat with the reason, and a visible finding on clusters."""
        for rule_id, reason in self.blocked.items():
            stat = self.out.stats[rule_id]
            stat.not_assessable, stat.reason = True, reason
            if not self.is_cluster:
                continue
            rule = self._rule_index[rule_id].rule
            self.out.findings.append(Finding(
                rule=rule.id, title=rule.title, severity=rule.severity, status=Status.not_assessable,
                category=rule.category, cluster=self.cluster_id, context=self.options.context,
                kind="Cluster", name=self.options.cluster_name, message=f"not assessable: {reason}",
                frameworks=rule.frameworks,
            ))


def supersede(raws: list[Raw]) -> tuple[list[Raw], list[Raw]]:
    """One finding per problem: (kept, superseded) failures of one workload.

    A failure is superseded when a rule that `supersedes` it failed at the same place (the same
    container, or anywhere in the pod when either is pod-level). The superseding failure lists
    it in `covers`, shows its evidence, and takes its patch into its own (the superseded
    rule's values win where both set a field: it is the stricter setting), so one fix clears both.
    """
    if len(raws) < 2 or not any(raw.rule.rule.supersedes for raw in raws):
        return raws, []
    at: dict[str, list[int]] = {}  # rule id → its failures' positions
    for j, raw in enumerate(raws):
        at.setdefault(raw.rule.id, []).append(j)
    covered: dict[int, list[int]] = {}
    for i, top in enumerate(raws):
        below = sorted(j for rule_id in dict.fromkeys(top.rule.rule.supersedes) for j in at.get(rule_id, ())
                       if j != i and _same_place(top, raws[j]))
        if below:
            covered[i] = below
    dropped = {j for js in covered.values() for j in js}
    kept = []
    for i, raw in enumerate(raws):
        if i in dropped:
            continue
        below, todo = [], list(covered.get(i, ()))
        while todo:  # transitively: what a superseded failure supersedes is covered too
            j = todo.pop(0)
            if j not in below and j != i:
                below.append(j)
                todo.extend(covered.get(j, ()))
        # Superseders before what they supersede, so the stricter (deeper) patch is merged last;
        # ties by rule id, so the merged patch (its key order too) does not depend on evaluation order.
        below.sort(key=lambda j: (sum(raws[j].rule.id in raws[k].rule.rule.supersedes for k in below),
                                  raws[j].rule.id))
        kept.append(_absorb(raw, [raws[j] for j in below]) if below else raw)
    return kept, [raws[j] for j in sorted(dropped)]


def _same_place(top: Raw, raw: Raw) -> bool:
    return top.container is None or raw.container is None or top.container == raw.container


def _absorb(top: Raw, below: list[Raw]) -> Raw:
    """`top` reporting the failures `below` too: their rule ids, evidence and (same-root) patches."""
    fragment = top.fragment
    evidence = list(top.evidence)
    for raw in below:
        if raw.container_type != top.container_type or raw.container != top.container:
            continue  # another root (pod vs container): its evidence and patch paths do not fit
        evidence += [ev for ev in raw.evidence if ev not in evidence]
        if fragment is not None and raw.fragment is not None:
            fragment = _merge_fragments(fragment, raw.fragment)
    covers = tuple(dict.fromkeys(raw.rule.id for raw in below))
    return replace(top, evidence=evidence, fragment=fragment, covers=covers)


def _key_order(value: Any) -> Any:
    """A CEL map's keys come back in hash order (it changes from run to run); the patch a user
    copies, and its kubectl command, must not: maps get their keys sorted (`name` before
    `securityContext`, so a container entry still starts with its name)."""
    if isinstance(value, dict):
        return {k: _key_order(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list):
        return [_key_order(v) for v in value]
    return value


def _merge_fragments(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Two patch fragments as one (maps merge, `over` wins elsewhere; `null` kept: it deletes)."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge_fragments(out[key], value)
        else:
            out[key] = value
    return out


def _fields_read(rule: CompiledRule) -> frozenset[tuple[str, str]]:
    """(variable, top-level field) pairs the rule's check reads (`*`: the variable whole)."""
    return frozenset((name, field) for name, shape in rule.check_reads.items()
                     for field in (shape if isinstance(shape, dict) else ("*",)))


def _params(rules: Iterable[CompiledRule]) -> dict[str, Any]:
    """The rules' params, each under its own variable (bound once per scan)."""
    return {params_variable(r.id): r.rule.params for r in rules if "params" in r.variables}


def _template_prefix(kind: str) -> str:
    """Path from the workload to its pod template; pod-scope evidence is relative to the template."""
    path = TEMPLATE_PATH.get(kind, ())
    return "".join(f"{key}." for key in path)


def evaluate_snapshot(snapshot: Snapshot, ruleset: RuleSet, options: Options,
                      progress: ProgressFn | None = None,
                      template_cache: TemplateCache | None = None) -> Evaluation:
    """`template_cache`: what `TemplateChecks` already evaluated of these templates (reused, not redone)."""
    return Evaluator(snapshot, ruleset, options, template_cache).run(progress)


class TemplateChecks:
    """The checks that read nothing but a pod template, run on workloads as their files are read.

    What the explorer lists before the whole snapshot is known: those checks' verdicts are final
    for a template, so the full evaluation takes them from `cache` instead of running them again.
    Everything else (namespace, RBAC and graph facts, object, namespace and cluster rules, one
    finding superseding another across those) waits for the whole snapshot.
    """

    def __init__(self, ruleset: RuleSet, options: Options) -> None:
        only = RuleSet(rules=[r for r in ruleset.rules if r.template_only])
        self._evaluator = Evaluator(Snapshot(()), only, options)

    @property
    def cache(self) -> TemplateCache | None:
        """The verdicts so far; None once a rule errored (the full run then reports the error itself)."""
        ev = self._evaluator
        return None if ev.out.rule_errors else ev._template_cache

    def run(self, workloads: Iterable[Workload]) -> list[Finding]:
        """These workloads' findings from template-only checks (system namespaces as `options` say)."""
        out = self._evaluator.out
        for workload in workloads:
            self._evaluator._workload(workload)
        findings, out.findings = out.findings, []
        return findings
