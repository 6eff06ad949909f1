"""Kubernetes label selectors: the one matcher for Services, NetworkPolicies and aggregated roles.

`matchLabels` and `matchExpressions` (In, NotIn, Exists, DoesNotExist) as the API server
evaluates them; an empty selector selects everything, a missing one (None) nothing.
"""

from __future__ import annotations

from typing import Any


def selector_matches(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """A `LabelSelector` (matchLabels + matchExpressions) against an object's labels."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or ():
        key, op, values = expr.get("key", ""), expr.get("operator", ""), expr.get("values") or ()
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def map_selector_matches(selector: dict[str, str] | None, labels: dict[str, str]) -> bool:
    """A Service-style selector (a plain map): empty or missing selects no pods."""
    if not selector:
        return False
    return all(labels.get(key) == value for key, value in selector.items())
