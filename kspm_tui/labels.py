"""Names people read, defined once for the CLI, the reports and the explorer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kspm_tui.model import Severity

if TYPE_CHECKING:
    from kspm_tui.engine.loader import RuleSet

# framework id → its title in reports, and the short tag the explorer shows next to a control
FRAMEWORK_TITLES = {
    "cis": "CIS Kubernetes Benchmark",
    "pss-baseline": "Pod Security Standards: Baseline",
    "pss-restricted": "Pod Security Standards: Restricted",
    "nsa-cisa": "NSA/CISA Kubernetes Hardening Guide",
    "mitre": "MITRE ATT&CK",
}
FRAMEWORK_TAGS = {"pss-baseline": "PSS Baseline", "pss-restricted": "PSS Restricted", "cis": "CIS",
                  "nsa-cisa": "NSA/CISA", "mitre": "MITRE ATT&CK"}

# (fact name in a subject's risk facts, short label) for RBAC subject listings.
RISK_FLAGS = (("clusterAdmin", "cluster-admin"), ("canEscalate", "escalate"),
              ("canReadSecrets", "all-secrets"), ("canExec", "exec"), ("wildcard", "wildcard"))


def object_ref(kind: str, namespace: str | None, name: str) -> str:
    """`Kind/namespace/name`, or `Kind/name` for cluster-scoped objects."""
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"


def path_severity(ruleset: RuleSet, target: str) -> Severity:
    """An attack path's severity is its rule's (K8S-PATH-INTERNET-<TARGET>): rules are data."""
    rule = ruleset.by_id().get(f"K8S-PATH-INTERNET-{target.upper()}")
    return rule.rule.severity if rule is not None else Severity.high
