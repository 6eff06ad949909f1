"""ValidatingAdmissionPolicies evaluated offline, the way the API server admits a CREATE.

For each object: the policies whose `matchConstraints` (resource rules, namespace and object
selectors) match it, through each binding naming the policy (its `matchResources` narrowing
further); then `matchConditions` (all must hold), `variables` in order, and `validations`.
Expressions see the bindings the API server gives: `object`, `oldObject` (null on create),
`namespaceObject`, `request`, `params` (null: exported policies inline theirs) and
`variables`. The CEL is the real library with its standard extensions and none of the
engine's helpers, so an expression the API server could not run fails here too. A failing
expression is an error, handled by the policy's `failurePolicy` (Fail: the request is denied).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from kspm_tui.engine.cel import CelError, Program, compile_expression, evaluate, new_context
from kspm_tui.engine.cel import cel as _cel
from kspm_tui.graph.selectors import selector_matches
from kspm_tui.kinds import CLUSTER_SCOPED
from kspm_tui.policy.export import VAP_API, resource_of

Context = _cel.Context
Outcome = Literal["admitted", "denied", "warned", "audited"]
_RANK = {"admitted": 0, "audited": 1, "warned": 2, "denied": 3}


class PolicyFileError(Exception):
    """A document that is not a usable policy or binding; str() names it."""


@dataclass(slots=True)
class Policy:
    name: str
    spec: dict[str, Any]
    annotations: dict[str, str] = field(default_factory=dict)
    bindings: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class Verdict:
    """What admission did with one object: the worst outcome and every message that led to it."""

    outcome: Outcome = "admitted"
    evaluated: bool = False  # some policy applied (matched, and its matchConditions held)
    messages: list[tuple[Outcome, str, str]] = field(default_factory=list)  # (outcome, policy, message)

    def add(self, outcome: Outcome, policy: str, message: str) -> None:
        self.messages.append((outcome, policy, message))
        if _RANK[outcome] > _RANK[self.outcome]:
            self.outcome = outcome


def load_policies(documents: list[dict[str, Any]]) -> list[Policy]:
    """Policies with their bindings; other kinds are skipped, a binding with no policy is an error."""
    policies: dict[str, Policy] = {}
    bindings: list[dict[str, Any]] = []
    for doc in documents:
        kind, api = doc.get("kind"), doc.get("apiVersion")
        if kind not in ("ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"):
            continue
        if api != VAP_API:
            raise PolicyFileError(f"{kind} {doc.get('metadata', {}).get('name', '?')}: apiVersion {api!r}, "
                                  f"expected {VAP_API}")
        meta = doc.get("metadata") or {}
        name = str(meta.get("name") or "")
        if kind == "ValidatingAdmissionPolicy":
            policies[name] = Policy(name, doc.get("spec") or {}, dict(meta.get("annotations") or {}))
        else:
            bindings.append(doc)
    for binding in bindings:
        spec = binding.get("spec") or {}
        target = policies.get(str(spec.get("policyName") or ""))
        if target is None:
            raise PolicyFileError(f"ValidatingAdmissionPolicyBinding {binding['metadata'].get('name')}: "
                                  f"policy {spec.get('policyName')!r} is not in the file")
        target.bindings.append(spec)
    return list(policies.values())


class Admission:
    """Admits objects against policies; namespaces seen among the objects supply `namespaceObject`."""

    def __init__(self, policies: list[Policy], namespaces: dict[str, dict[str, Any]] | None = None) -> None:
        self.policies = policies
        self.namespaces = namespaces or {}
        self._programs: dict[str, Program] = {}

    def admit(self, obj: dict[str, Any]) -> Verdict:
        verdict = Verdict()
        namespace = namespace_of(obj)
        ns_object = None if namespace is None else self._namespace(namespace)
        context: Context | None = None  # built once per object, only if some policy matches
        for policy in self.policies:
            if not _matches(policy.spec.get("matchConstraints") or {}, obj, ns_object):
                continue
            for binding in policy.bindings:
                if _matches(binding.get("matchResources") or {}, obj, ns_object, narrowing=True):
                    context = context or self._context(obj, namespace, ns_object)
                    context.update({"variables": {}})
                    self._evaluate(policy, binding, context, verdict)
        return verdict

    def _namespace(self, name: str) -> dict[str, Any]:
        known = self.namespaces.get(name) or {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        meta = dict(known.get("metadata") or {})
        meta["labels"] = {**(meta.get("labels") or {}), "kubernetes.io/metadata.name": name}
        return {**known, "metadata": meta}

    def _evaluate(self, policy: Policy, binding: dict[str, Any], context: Context, verdict: Verdict) -> None:
        actions = binding.get("validationActions") or ["Deny"]
        outcome: Outcome = "denied" if "Deny" in actions else "warned" if "Warn" in actions else "audited"
        try:
            for condition in policy.spec.get("matchConditions") or ():
                if self._run(condition["expression"], context) is not True:
                    return
            verdict.evaluated = True
            values: dict[str, Any] = {}
            for variable in policy.spec.get("variables") or ():
                values[variable["name"]] = self._run(variable["expression"], context)
                context.update({"variables": values})
            for validation in policy.spec.get("validations") or ():
                result = self._run(validation["expression"], context)
                if result is not True:
                    if result is not False:
                        raise CelError(f"validation expression returned {result!r}, not a bool")
                    verdict.add(outcome, policy.name, self._message(validation, context))
        except CelError as exc:
            if policy.spec.get("failurePolicy", "Fail") == "Fail":
                verdict.add(outcome, policy.name, f"expression error (failurePolicy Fail): {exc}")

    def _message(self, validation: dict[str, Any], context: Context) -> str:
        if validation.get("messageExpression"):
            try:
                text = self._run(validation["messageExpression"], context)
                if isinstance(text, str) and text.strip():
                    return text
            except CelError:
                pass  # the API server falls back to `message` too
        return str(validation.get("message") or f"failed expression: {validation['expression']}")

    def _run(self, source: str, context: Context) -> Any:
        program = self._programs.get(source)
        if program is None:
            program = self._programs[source] = compile_expression(source)
        return evaluate(program, context)

    @staticmethod
    def _context(obj: dict[str, Any], namespace: str | None, ns_object: dict[str, Any] | None) -> Context:
        context = new_context(helpers=False)
        kind = str(obj.get("kind") or "")
        group, version, resource = resource_of(kind, str(obj.get("apiVersion") or ""))
        name = str((obj.get("metadata") or {}).get("name") or "")
        context.update({
            "object": obj,
            "oldObject": None,
            "namespaceObject": ns_object,
            "params": None,
            "variables": {},
            "request": {
                "kind": {"group": group, "version": version, "kind": kind},
                "resource": {"group": group, "version": version, "resource": resource},
                "requestKind": {"group": group, "version": version, "kind": kind},
                "requestResource": {"group": group, "version": version, "resource": resource},
                "name": name, "namespace": namespace or "", "operation": "CREATE",
                "userInfo": {"username": "kspm-tui:policy-test", "groups": ["system:authenticated"]},
                "dryRun": True, "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
            },
        })
        return context


def namespace_of(obj: dict[str, Any]) -> str | None:
    """The namespace the API server would put the object in (`default` when unset), None if cluster-scoped."""
    if obj.get("kind") in CLUSTER_SCOPED:
        return None
    return str((obj.get("metadata") or {}).get("namespace") or "default")


def _matches(constraints: dict[str, Any], obj: dict[str, Any], ns_object: dict[str, Any] | None,
             narrowing: bool = False) -> bool:
    """matchConstraints / matchResources: resource rules (a binding's may be empty: all the
    policy matched), exclusions, and the namespace and object selectors."""
    rules = constraints.get("resourceRules") or []
    if (rules or not narrowing) and not any(_rule_matches(r, obj) for r in rules):
        return False
    if any(_rule_matches(r, obj) for r in constraints.get("excludeResourceRules") or ()):
        return False
    labels = (obj.get("metadata") or {}).get("labels") or {}
    object_selector = constraints.get("objectSelector")
    if object_selector and not selector_matches(object_selector, labels):
        return False
    ns_selector = constraints.get("namespaceSelector")
    if ns_selector and ns_object is not None:
        ns_labels = (ns_object.get("metadata") or {}).get("labels") or {}
        if not selector_matches(ns_selector, ns_labels):
            return False
    return True


def _rule_matches(rule: dict[str, Any], obj: dict[str, Any]) -> bool:
    group, version, resource = resource_of(str(obj.get("kind") or ""), str(obj.get("apiVersion") or ""))

    def has(key: str, value: str) -> bool:
        values = rule.get(key) or []
        return "*" in values or value in values

    resources = rule.get("resources") or []
    names = rule.get("resourceNames") or []
    name = (obj.get("metadata") or {}).get("name")
    return (has("apiGroups", group) and has("apiVersions", version) and has("operations", "CREATE")
            and ("*" in resources or "*/*" in resources or resource in resources)
            and (not names or name in names))
