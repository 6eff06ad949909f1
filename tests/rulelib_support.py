"""Shared helpers for the rule-library tests: which directories are ours, scanning objects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kspm_tui.engine.evaluate import Options, evaluate_snapshot
from kspm_tui.engine.loader import RuleSet, load_rules
from kspm_tui.model import Finding, SourceRef
from kspm_tui.snapshot import Snapshot
from kspm_tui.sources import SourcedObject

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
RULELIB_DIRS = [RULES / d for d in ("rbac", "network", "images", "resources", "secrets", "admission",
                                    "workload", "control-plane")]


def rulelib_rules() -> RuleSet:
    return load_rules(RULELIB_DIRS)


def case_objects(case: dict[str, Any]) -> list[dict[str, Any]]:
    return list(case.get("items") or []) if case.get("kind") == "List" else [case]


def scan_objects(objects: list[dict[str, Any]], ruleset: RuleSet) -> list[Finding]:
    """Findings for `objects` evaluated as a small cluster (system namespaces included)."""
    snapshot = Snapshot(SourcedObject(o, SourceRef()) for o in objects)
    evaluation = evaluate_snapshot(snapshot, ruleset, Options(include_system=True, is_cluster=True))
    assert not evaluation.rule_errors, evaluation.rule_errors
    return evaluation.findings
