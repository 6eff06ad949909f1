"""One rule's policy as the explorer shows it: the YAML, or why there is none, and what it
would reject among the objects of the current scan (so nobody enforces a policy that breaks
the next rollout)."""

from __future__ import annotations

from dataclasses import dataclass

from kspm_tui.model import Rule
from kspm_tui.policy.admission import Admission, load_policies
from kspm_tui.policy.export import ExportOptions, NotExportable, export_rule
from kspm_tui.snapshot import Snapshot, key_of
from kspm_tui.yamlio import dump_yaml


@dataclass(frozen=True, slots=True)
class Preview:
    rule_id: str
    yaml: str = ""  # the policy and binding, ready for `kubectl apply -f -`
    reason: str = ""  # why the rule does not export (yaml is then empty)
    rejected: int = 0  # existing objects the policy would deny if they were created now
    workloads: int = 0  # their top-level owners (what the scan reports findings on)
    matched: int = 0  # existing objects the policy applies to


def preview(rule: Rule, snapshot: Snapshot, options: ExportOptions | None = None) -> Preview:
    """The deny policy for `rule`, evaluated on every object of the snapshot: a Deployment's
    ReplicaSets and Pods count too, since the API server would see each of them."""
    options = options or ExportOptions()
    try:
        documents = export_rule(rule, options)
    except NotExportable as exc:
        return Preview(rule.id, reason=str(exc))
    items = snapshot.items
    namespaces = {o.obj["metadata"]["name"]: o.obj for o in snapshot.of_kind("Namespace")}
    admission = Admission(load_policies(documents), namespaces)
    verdicts = [(item, admission.admit(item.obj)) for item in items]
    rejected = [item for item, verdict in verdicts if verdict.outcome == "denied"]
    return Preview(rule.id, yaml="---\n".join(dump_yaml(d) for d in documents), rejected=len(rejected),
                   workloads=len({key_of(snapshot.top_owner(item).obj) for item in rejected}),
                   matched=sum(1 for _, verdict in verdicts if verdict.evaluated))
