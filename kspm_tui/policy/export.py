"""Rules → ValidatingAdmissionPolicy + Binding (or Kyverno ClusterPolicy): the same CEL at admission.

A rule exports when its check reads only the object being admitted: container, pod and object
scope rules whose expressions use the rule variables the API server can compute from that
object (`object`, `podSpec`, `podMeta`, `allContainers`, `container`, `containerType`, `params`)
and only functions its CEL provides (policy/celenv.py). Rule variables become policy
`variables` (`podSpec` → `variables.podSpec`, selected per kind, since a Deployment's pod spec
is `spec.template.spec` and a CronJob's `spec.jobTemplate.spec.template.spec`); a container
rule becomes `all()` over each container list it covers; params are inlined as a literal.
Anything else is `NotExportable`, with the reason shown to the user, never dropped silently.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Literal

from kspm_tui.engine.cel import HELPERS
from kspm_tui.engine.loader import KNOWN_VARIABLES
from kspm_tui.triage.acceptance import AcceptedRisk, today_utc
from kspm_tui.model import Rule, Scope
from kspm_tui.policy import celenv
from kspm_tui.snapshot import DEFAULT_SYSTEM_NAMESPACES

Action = Literal["deny", "warn", "audit"]
Format = Literal["vap", "kyverno"]

VAP_API = "admissionregistration.k8s.io/v1"
MANAGED_BY = {"app.kubernetes.io/managed-by": "kspm-tui"}
RULE_ANNOTATION = "kspm-tui.io/rule"

# Pod-template kinds: (apiGroup, version, resource), in the order the README lists them.
WORKLOAD_RESOURCES: dict[str, tuple[str, str, str]] = {
    "Pod": ("", "v1", "pods"),
    "Deployment": ("apps", "v1", "deployments"),
    "StatefulSet": ("apps", "v1", "statefulsets"),
    "DaemonSet": ("apps", "v1", "daemonsets"),
    "ReplicaSet": ("apps", "v1", "replicasets"),
    "Job": ("batch", "v1", "jobs"),
    "CronJob": ("batch", "v1", "cronjobs"),
    "ReplicationController": ("", "v1", "replicationcontrollers"),
}
# Kinds rules match outside the built-in API (kinds.BUILTIN), by API group: the Gateway API's
# CRDs. A kind in neither has no known group, so a rule matching it does not export.
_EXTENSION_GROUPS: dict[str, frozenset[str]] = {
    "gateway.networking.k8s.io": frozenset(
        "GatewayClass Gateway HTTPRoute GRPCRoute TLSRoute TCPRoute UDPRoute ReferenceGrant "
        "BackendTLSPolicy".split()),
}

# What each scope's exported expressions may read, and why the others cannot run at admission.
_ADMISSIBLE = {
    Scope.container: {"object", "podSpec", "podMeta", "allContainers", "container", "containerType", "params"},
    Scope.pod: {"object", "podSpec", "podMeta", "allContainers", "params"},
    Scope.object: {"object", "params"},
}
_SCOPE_REASONS = {
    Scope.namespace: "namespace rule: its facts (NetworkPolicies, quotas, PSA labels) come from other objects",
    Scope.cluster: "cluster rule: its facts come from the whole cluster, not one admitted object",
    Scope.control_plane: "control-plane flags are command-line arguments, not admitted objects",
    Scope.subject: "RBAC subject rule: effective permissions are computed across all roles and bindings",
    Scope.path: "attack-path rule: paths are computed on the cluster graph",
}
_VARIABLE_REASONS = {
    "ns": "reads `ns`: facts about the namespace computed from other objects",
    "cluster": "reads `cluster`: facts computed from the whole cluster",
    "workload": "reads `workload`: exposure and identity facts from the cluster graph",
    "binding": "reads `binding`: cross-object RBAC facts (does the role exist?)",
    "role": ("reads `role`: where the role is bound and what it grants, "
             "from all bindings and aggregated roles"),
    "subject": "reads `subject`: effective RBAC permissions from the graph",
    "path": "reads `path`: attack paths from the cluster graph",
    "flags": "reads control-plane `flags`",
    "controlPlane": "reads `controlPlane`: the flags of every control-plane component",
    "component": "reads `component`: a control-plane component's flags",
}
_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


class NotExportable(Exception):
    """A rule that cannot run at admission; str() is the reason, one line."""


@dataclass(slots=True)
class ExportOptions:
    """What the user chose: action, where the policy applies, accepted risks, CEL version."""

    action: Action = "deny"
    kubernetes: int = celenv.OLDEST
    namespaces: list[str] = field(default_factory=list)  # only these (empty: all)
    exclude_namespaces: list[str] = field(default_factory=list)
    include_system: bool = False
    system_namespaces: tuple[str, ...] = DEFAULT_SYSTEM_NAMESPACES
    risks: list[AcceptedRisk] = field(default_factory=list)
    format: Format = "vap"


def policy_name(rule_id: str) -> str:
    return "kspm-tui-" + rule_id.lower()


def exportable(rule: Rule, minor: int = celenv.OLDEST) -> str | None:
    """None when the rule exports, else why not (one line)."""
    try:
        _check_rule(rule, minor)
    except NotExportable as exc:
        return str(exc)
    return None


def _check_rule(rule: Rule, minor: int) -> None:
    if rule.scope not in _ADMISSIBLE:
        raise NotExportable(_SCOPE_REASONS.get(rule.scope, f"{rule.scope.value} rule"))
    for kind in matched_kinds(rule):
        resource_of(kind)  # raises for a kind whose API group is unknown
    sources = [s for s in (rule.check, rule.message_expression) if s]
    used = set().union(*(celenv.free_identifiers(s) for s in sources))
    # Only what the API server can compute from the admitted object: every other rule
    # variable (known today or added later) keeps the rule out, with the reason.
    for name in sorted(used & KNOWN_VARIABLES - _ADMISSIBLE[rule.scope]):
        raise NotExportable(_VARIABLE_REASONS.get(
            name, f"reads `{name}`: not computed from the admitted object in {rule.scope.value} rules"))
    for source in sources:
        refused = celenv.unavailable(source, minor)
        if refused:
            raise NotExportable(_refusal(refused, minor))


def _refusal(names: list[str], minor: int) -> str:
    shown = ", ".join(f"{n}()" + (" (a kspm-tui engine helper)" if n in HELPERS else "") for n in names)
    return f"calls {shown}: not in the CEL of Kubernetes 1.{minor}"


def export_rule(rule: Rule, options: ExportOptions) -> list[dict[str, Any]]:
    """The documents that enforce `rule` (policy and binding, or one Kyverno ClusterPolicy)."""
    _check_rule(rule, options.kubernetes)
    variables, validation = _translate(rule)
    conditions = _risk_conditions(rule, options.risks)
    for expression in [v["expression"] for v in variables] + [c["expression"] for c in conditions] + [
            validation["expression"], validation.get("messageExpression", "")]:
        refused = celenv.unavailable(expression, options.kubernetes)
        if refused:  # the emitted text, not only the rule's: the last gate before output
            raise NotExportable(_refusal(refused, options.kubernetes))
    if options.format == "kyverno":
        return [_kyverno(rule, options, variables, validation, conditions)]
    return _vap(rule, options, variables, validation, conditions)


# --- translation --------------------------------------------------------------------------

def _translate(rule: Rule) -> tuple[list[dict[str, str]], dict[str, str]]:
    """Policy variables and the one validation (expression, message, messageExpression)."""
    reads = set().union(*(celenv.free_identifiers(s) for s in filter(None, (rule.check, rule.message_expression))))
    variables: list[dict[str, str]] = []
    names: dict[str, str] = {}
    if rule.scope in (Scope.container, Scope.pod):
        variables.append(_var("podSpec", _per_kind("spec", "object.spec")))
        names["podSpec"] = "variables.podSpec"
        if "podMeta" in reads:
            variables.append(_var("podMeta", _per_kind("metadata", "object.metadata")))
            names["podMeta"] = "variables.podMeta"
        lists = rule.match.containers or list(_CONTAINER_LISTS)
        needed = set(_CONTAINER_LISTS) if "allContainers" in reads else set()
        if rule.scope is Scope.container:
            needed |= set(lists)
        for key in _CONTAINER_LISTS:
            if key in needed:
                variables.append(_var(key, f"has(variables.podSpec.{key}) ? variables.podSpec.{key} : []"))
        if "allContainers" in reads:
            variables.append(_var("allContainers", " + ".join(f"variables.{k}" for k in _CONTAINER_LISTS)))
            names["allContainers"] = "variables.allContainers"
    if "params" in reads:
        variables.append(_var("params", cel_literal(rule.params)))
        names["params"] = "variables.params"
    prefix = f"{rule.id}: "
    message = prefix + (rule.message or rule.title)
    validation: dict[str, str] = {"message": message}
    if rule.scope is Scope.container:
        lists = rule.match.containers or list(_CONTAINER_LISTS)

        def bound(source: str, key: str) -> str:
            return _group(celenv.rename(source, {**names, "containerType": _quote(key)}))

        def said(key: str) -> str:  # the rule's own messageExpression names the container already
            return (f"{_quote(prefix)} + {bound(rule.message_expression, key)}" if rule.message_expression
                    else f"{_quote(prefix + 'container ')} + container.name + ': ' + "
                         f"{_quote(rule.message or rule.title)}")

        validation["expression"] = " &&\n".join(
            f"variables.{k}.all(container, {bound(rule.check, k)})" for k in lists)
        # the first failing container, named, with the rule's message for it
        validation["messageExpression"] = "(" + " +\n".join(
            f"variables.{k}.map(container, !{bound(rule.check, k)}, {said(k)})" for k in lists) + ")[0]"
    else:
        validation["expression"] = celenv.rename(rule.check, names)
        if rule.message_expression:
            validation["messageExpression"] = (
                f"{_quote(prefix)} + {_group(celenv.rename(rule.message_expression, names))}")
    return variables, validation


def _per_kind(field_name: str, pod_path: str) -> str:
    """CEL selecting a pod template's `spec` or `metadata` whatever the workload kind."""
    def template(path: str) -> str:
        if field_name == "metadata":
            return f"(has({path}.metadata) ? {path}.metadata : {{}})"
        return f"{path}.spec"
    return (f"object.kind == 'Pod' ? {pod_path} : object.kind == 'CronJob' ? "
            f"{template('object.spec.jobTemplate.spec.template')} : {template('object.spec.template')}")


def _var(name: str, expression: str) -> dict[str, str]:
    return {"name": name, "expression": expression}


def _group(expression: str) -> str:
    return f"({expression.strip()})"


def _quote(text: str) -> str:
    """A CEL string literal (JSON's escapes are CEL's)."""
    return json.dumps(text, ensure_ascii=False)


def cel_literal(value: Any) -> str:
    """A CEL literal for params: maps and lists of mixed types wrap items in dyn() (the API
    server rejects heterogeneous aggregate literals)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, list):
        items = [cel_literal(v) for v in value]
        if len({type(v).__name__ for v in value}) > 1:
            items = [f"dyn({i})" for i in items]
        return "[" + ", ".join(items) + "]"
    if isinstance(value, dict):
        mixed = len({type(v).__name__ for v in value.values()}) > 1
        items = [f"{_quote(str(k))}: {f'dyn({cel_literal(v)})' if mixed else cel_literal(v)}"
                 for k, v in value.items()]
        return "{" + ", ".join(items) + "}"
    raise NotExportable(f"param value {value!r} has no CEL literal")


# --- accepted risks ----------------------------------------------------------------------

def _risk_conditions(rule: Rule, risks: list[AcceptedRisk]) -> list[dict[str, str]]:
    """One matchCondition per active exception of this rule: the accepted object (and the
    objects its controller creates, found by owner name) is not evaluated.

    Container-level exceptions cannot leave out one container at admission, so they are not
    turned into conditions: the policy stays stricter than the scan rather than looser.
    """
    today = today_utc()
    out = []
    for index, risk in enumerate(r for r in risks if _covers(r, rule.id) and not r.is_expired(today)
                                 and r.container is None):
        parts = []
        if risk.namespace != "*":
            parts.append(_glob_test("object.metadata.namespace", risk.namespace, "has(object.metadata.namespace)"))
        named = _glob_test("object.metadata.name", risk.name, None)
        if risk.kind != "*":
            named = f"(object.kind == {_quote(risk.kind)} && {named})" if "*" not in risk.kind else (
                f"({_glob_test('object.kind', risk.kind, None)} && {named})")
        owner_regex = _glob_regex(risk.name)[:-1] + "(-[a-z0-9]+)?$"
        owned = ("(has(object.metadata.ownerReferences) && object.metadata.ownerReferences.exists("
                 f"o, o.name.matches({_quote(owner_regex)})))")
        parts.append(f"({named} || {owned})")
        out.append({"name": f"accepted-risk-{index + 1}",
                    "expression": "!(" + " && ".join(parts) + ")"})
    return out


def _covers(risk: AcceptedRisk, rule_id: str) -> bool:
    return any(fnmatchcase(rule_id, pattern) for pattern in risk.rules)


def _glob_regex(glob: str) -> str:
    """A shell glob as an anchored RE2 regular expression."""
    out = []
    for char in glob:
        out.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
    return "^" + "".join(out) + "$"


def _glob_test(subject: str, glob: str, guard: str | None) -> str:
    test = (f"{subject} == {_quote(glob)}" if not any(c in glob for c in "*?[")
            else f"{subject}.matches({_quote(_glob_regex(glob))})")
    return f"({guard} && {test})" if guard else test


# --- output documents --------------------------------------------------------------------

def matched_kinds(rule: Rule) -> list[str]:
    """Kinds the policy matches: every pod-template kind for workload rules, else `match.kinds`."""
    if rule.scope in (Scope.container, Scope.pod):
        return list(WORKLOAD_RESOURCES)
    return list(rule.match.kinds)


def api_group(kind: str) -> str | None:
    """The API group serving a kind the rules match (None: unknown, e.g. a custom resource)."""
    from kspm_tui.kinds import BUILTIN

    if kind in WORKLOAD_RESOURCES:
        return WORKLOAD_RESOURCES[kind][0]
    return next((g for table in (BUILTIN, _EXTENSION_GROUPS) for g, kinds in table.items() if kind in kinds),
                None)


def resource_of(kind: str, api_version: str | None = None) -> tuple[str, str, str]:
    """(group, version, plural resource) of a kind, as the API server names them.

    With `api_version` (an object being admitted), its group and version; without (a kind a
    policy matches), the kind's group and `*` for the version, except for pod-template kinds,
    served at one version. Object rules read the object as it is submitted, whatever version
    of its group that is (autoscaling/v1 or v2, a Gateway API route at v1 or v1alpha2), as the
    scan reads a manifest as written.
    """
    if api_version is not None:  # "" (no apiVersion): the API server rejects it before admission
        group = api_version.rpartition("/")[0] if "/" in api_version else ""
        version = api_version.rpartition("/")[2]
    elif kind in WORKLOAD_RESOURCES:
        return WORKLOAD_RESOURCES[kind]
    else:
        found = api_group(kind)
        if found is None:
            raise NotExportable(f"matches kind {kind}, whose API group is not known to the exporter")
        group, version = found, "*"
    lower = kind.lower()
    plural = lower if lower.endswith("s") and kind == "Endpoints" else (
        lower + "es" if lower.endswith(("s", "x", "ch", "sh")) else
        lower[:-1] + "ies" if lower.endswith("y") and lower[-2:-1] not in "aeiou" else lower + "s")
    return group, version, plural


def _resource_rules(rule: Rule) -> list[dict[str, Any]]:
    grouped: dict[str, tuple[set[str], list[str]]] = {}
    for kind in matched_kinds(rule):
        group, version, plural = resource_of(kind)
        versions, resources = grouped.setdefault(group, (set(), []))
        versions.add(version)
        resources.append(plural)
    return [{"apiGroups": [group], "apiVersions": sorted(versions), "operations": ["CREATE", "UPDATE"],
             "resources": resources} for group, (versions, resources) in grouped.items()]


def namespace_selector(options: ExportOptions) -> dict[str, Any]:
    expressions = []
    if options.namespaces:
        expressions.append({"key": "kubernetes.io/metadata.name", "operator": "In",
                            "values": sorted(set(options.namespaces))})
    excluded = set(options.exclude_namespaces) | (set() if options.include_system else set(options.system_namespaces))
    if excluded:
        expressions.append({"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": sorted(excluded)})
    return {"matchExpressions": expressions} if expressions else {}


_NOT_DELETING = {"name": "not-being-deleted", "expression": "!has(object.metadata.deletionTimestamp)"}


def _metadata(rule: Rule) -> dict[str, Any]:
    return {"name": policy_name(rule.id), "labels": dict(MANAGED_BY),
            "annotations": {RULE_ANNOTATION: rule.id, "kspm-tui.io/severity": rule.severity.value,
                            "kspm-tui.io/title": rule.title}}


def _vap(rule: Rule, options: ExportOptions, variables: list[dict[str, str]], validation: dict[str, str],
         conditions: list[dict[str, str]]) -> list[dict[str, Any]]:
    spec: dict[str, Any] = {
        "failurePolicy": "Fail",
        "matchConstraints": {"resourceRules": _resource_rules(rule)},
        "matchConditions": [_NOT_DELETING, *conditions],
    }
    if variables:
        spec["variables"] = variables
    spec["validations"] = [validation]
    policy = {"apiVersion": VAP_API, "kind": "ValidatingAdmissionPolicy", "metadata": _metadata(rule),
              "spec": spec}
    actions = {"deny": ["Deny"], "warn": ["Warn"], "audit": ["Audit"]}[options.action]
    binding_spec: dict[str, Any] = {"policyName": policy_name(rule.id), "validationActions": actions}
    selector = namespace_selector(options)
    if selector:
        binding_spec["matchResources"] = {"namespaceSelector": selector}
    binding = {"apiVersion": VAP_API, "kind": "ValidatingAdmissionPolicyBinding",
               "metadata": {"name": policy_name(rule.id), "labels": dict(MANAGED_BY)}, "spec": binding_spec}
    return [policy, binding]


def _kyverno(rule: Rule, options: ExportOptions, variables: list[dict[str, str]], validation: dict[str, str],
             conditions: list[dict[str, str]]) -> dict[str, Any]:
    """A Kyverno ClusterPolicy whose rule validates with `validate.cel` (Kyverno 1.13+)."""
    resources: dict[str, Any] = {"kinds": matched_kinds(rule), "operations": ["CREATE", "UPDATE"]}
    selector = namespace_selector(options)
    if selector:
        resources["namespaceSelector"] = selector
    cel: dict[str, Any] = {"expressions": [validation]}
    if variables:
        cel["variables"] = variables
    body: dict[str, Any] = {
        "name": rule.id.lower(),
        "match": {"any": [{"resources": resources}]},
        "celPreconditions": [_NOT_DELETING, *conditions],
        "validate": {"failureAction": "Enforce" if options.action == "deny" else "Audit", "cel": cel},
    }
    meta = _metadata(rule)
    meta["annotations"].update({
        "policies.kyverno.io/title": rule.title, "policies.kyverno.io/category": rule.category.value,
        "policies.kyverno.io/severity": rule.severity.value, "policies.kyverno.io/description": rule.why,
        # the kinds are listed explicitly: Kyverno must not generate its own controller rules
        "pod-policies.kyverno.io/autogen-controllers": "none"})
    spec: dict[str, Any] = {"background": True, "rules": [body]}
    if options.action == "warn":
        spec["emitWarning"] = True
    return {"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy", "metadata": meta, "spec": spec}
