"""Incremental evaluation: a snapshot kept current from watch batches, re-evaluated by units.

`apply` puts a batch into the snapshot and returns the units it can affect (graph deltas,
`graph/delta.py`); `evaluate` runs the engine on those units only, with every workload's
Pod Security level carried over from the batch before; `merge` keeps the failing findings
of every other unit. The watch service (`watch_scan.py`) drives exactly this; the property
test drives it on random change sequences and compares with evaluating everything again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from kspm_tui.engine.evaluate import Evaluation, Options, TemplateCache, evaluate_snapshot
from kspm_tui.engine.loader import RuleSet
from kspm_tui.engine.pod_security import PodSecurityLevels
from kspm_tui.fixes.safety import VerdictCache
from kspm_tui.graph.delta import Change, Facts, affected, reach_reached
from kspm_tui.graph.paths import Reachability
from kspm_tui.kinds import WORKLOAD_KINDS
from kspm_tui.model import Finding, Scope, SourceRef, Status
from kspm_tui.snapshot import Key, Snapshot, key_of
from kspm_tui.sources import SourcedObject

# Scopes the engine evaluates in full on every batch (a few rules, once each), so their
# findings are replaced wholesale rather than per unit.
ALWAYS_SCOPES = frozenset({Scope.cluster, Scope.control_plane})


class Relisted(NamedTuple):
    """A page of a kind listed again (after 410 Gone); with the list's other pages its items
    replace what was known of the kind. A whole list is one page, `first` and `last`."""

    kind: str
    items: list[dict[str, Any]]
    first: bool = True  # starts the list (again: what an unfinished one named is forgotten)
    last: bool = True  # ends it: what no page named is deleted


Event = tuple[str, dict[str, Any]] | Relisted  # (ADDED | MODIFIED | DELETED, object), or a relist


class Incremental:
    """One watched snapshot: applies batches, says what to re-evaluate, and re-evaluates it."""

    def __init__(self, snapshot: Snapshot, ruleset: RuleSet,
                 options: Callable[[frozenset[Key] | None], Options],
                 source: Callable[[str], SourceRef]) -> None:
        self.snapshot = snapshot
        self.ruleset = ruleset
        self.options = options  # the engine's options for a run over these units (None: all)
        self.source = source  # where an object of a kind was read from
        self._scopes = {r.id: r.rule.scope for r in ruleset.rules}
        self._ns_read = _namespace_fields_read(ruleset)
        self._facts: Facts | None = None  # of the snapshot as the last batch left it
        self._levels: PodSecurityLevels | None = None  # every workload's level, from the last run
        self.changed: set[Key] = set()  # the objects the last batch added, modified or deleted
        # Template-only verdicts by template digest, kept across batches: a workload reached
        # through graph facts (a Service, a NetworkPolicy) has the template it had.
        self._templates: TemplateCache = {}
        # Fix verdicts by object, kept while the object is (entries of changed objects dropped).
        self._verdicts: VerdictCache = {}
        # per kind being relisted, the keys its pages named so far (the objects are the snapshot's)
        self._relisting: dict[str, set[Key]] = {}

    def evaluate(self, only: frozenset[Key] | None) -> Evaluation:
        """Run the engine over `only` (None: everything)."""
        options = self.options(only)
        options.verdicts = self._verdicts
        options.unit_counts = True  # the watch keeps its summary by difference (watch_publish.py)
        if only is not None:
            options.pod_security = self._levels
            facts = self._facts
            if facts is not None:  # of this snapshot: apply() computed them
                options.namespace_facts, options.cluster_facts = facts.namespaces, facts.cluster
                options.reach = facts.reach
        if len(self._templates) > 2 * len(self.snapshot.workloads()) or only is None:
            self._templates = {}  # bounded: templates that went stay until the next clear
        evaluation = evaluate_snapshot(self.snapshot, self.ruleset, options, template_cache=self._templates)
        if evaluation.rule_errors:
            self._templates = {}  # a rule that errored is reported by a run that evaluates it
        self._levels = evaluation.pod_security
        return evaluation

    def apply(self, batch: Iterable[Event]) -> frozenset[Key] | None:
        """Apply a batch to the snapshot, in order; the units to re-evaluate (None: everything)."""
        system = self.options(None).system_namespaces
        before = self._facts or Facts.of(self.snapshot, system)
        units: set[Key] = set()
        changes: list[Change] = []
        self.changed = set()
        for change in batch:
            pairs = self._relisted(change) if isinstance(change, Relisted) else [change]
            for event, obj in pairs:
                key = key_of(obj)
                self.changed.add(key)
                old = self.snapshot.get(*key)
                units |= self._owner_units(key)
                if event == "DELETED":
                    self.snapshot.remove(key)
                else:
                    self.snapshot.add(SourcedObject(obj, self.source(obj["kind"])))
                units |= self._owner_units(key)
                self._verdicts.pop(key, None)
                changes.append((old.obj if old else None, None if event == "DELETED" else obj))
        after = self._facts = before.updated(self.snapshot, system, changes)  # its reach updated next
        moved = reach_reached(self.snapshot, after, changes)
        if moved is None:
            after.reach = Reachability.of(self.snapshot)
        else:  # the changed workloads (and those that became or stopped being top-level) too
            moved |= {key for key in units if key in after.workloads}
            moved |= before.workloads.keys() ^ after.workloads.keys()
            after.reach = before.reach.updated(self.snapshot, moved)
        reached = affected(self.snapshot, before, after, changes, self._namespace_wide)
        if reached is None:
            return None
        units |= reached
        # `ns.podSecurity` and `ns.workloads` read every workload of a namespace
        units.update([("Namespace", None, key[1]) for key in units
                      if key[1] and (key in after.workloads or key in before.workloads)])
        return frozenset(units)

    def _namespace_wide(self, changed: set[str]) -> bool:
        """Whether changed namespace facts reach beyond the Namespace: a rule on something in it
        reads one, or the fix verdicts do (`psa`: a restart the namespace's level would refuse)."""
        return self._ns_read is None or bool(changed & (self._ns_read | {"psa"}))

    def _relisted(self, relist: Relisted) -> list[tuple[str, dict[str, Any]]]:
        """A page of a kind listed again, as the changes since what was known of it: its objects
        that differ and, on the last page, the kind's objects no page named (deleted meanwhile).
        Only the keys named are kept between pages, never a second copy of the list."""
        if relist.first:
            self._relisting[relist.kind] = set()
        named = self._relisting.setdefault(relist.kind, set())
        pairs: list[tuple[str, dict[str, Any]]] = []
        for obj in relist.items:
            key = key_of(obj)
            named.add(key)
            known = self.snapshot.get(*key)
            if known is None or known.obj != obj:
                pairs.append(("MODIFIED", obj))
        if relist.last:
            del self._relisting[relist.kind]
            pairs += [("DELETED", item.obj) for item in self.snapshot.of_kind(relist.kind)
                      if key_of(item.obj) not in named]
        return pairs

    def _owner_units(self, key: Key) -> set[Key]:
        """The object itself and, for a workload object, its top-level owner (what its findings attach to)."""
        item = self.snapshot.index.get(key)
        if item is None or key[0] not in WORKLOAD_KINDS:
            return {key}
        return {key, key_of(self.snapshot.top_owner(item).obj)}

    def always(self, finding: Finding) -> bool:
        """Findings of rules that run whole on every batch (cluster, control-plane scopes)."""
        return finding.kind == "Cluster" or self._scopes.get(finding.rule) in ALWAYS_SCOPES

    def merge(self, failing: dict[str, Finding], evaluation: Evaluation,
              only: frozenset[Key] | None) -> dict[str, Finding]:
        """The failing findings after a run over `only`: its own, and every other unit's as they were."""
        fresh = {f.fingerprint: f for f in evaluation.findings if f.status is Status.fail}
        if only is None:
            return fresh
        kept = {fp: f for fp, f in failing.items()
                if not self.always(f) and (f.kind, f.namespace, f.name) not in only}
        return {**kept, **fresh}


def _namespace_fields_read(ruleset: RuleSet) -> set[str] | None:
    """The `ns` facts that rules other than namespace rules read (None: one reads `ns` whole)."""
    fields: set[str] = set()
    for rule in ruleset.rules:
        if rule.rule.scope is Scope.namespace or "ns" not in rule.variables:
            continue
        shapes = [reads["ns"] for reads in (rule.check_reads, rule.detail_reads) if "ns" in reads]
        if not shapes or any(not isinstance(shape, dict) for shape in shapes):
            return None
        fields.update(field for shape in shapes for field in shape)
    return fields
