"""`policy test`'s evaluator on hand-written policies: the API server's matching and bindings."""

from __future__ import annotations

from kspm_tui.policy.admission import Admission, load_policies
from kspm_tui.yamlio import load_yaml_all

POLICIES = """\
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: replicas}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments]}
    namespaceSelector: {matchLabels: {env: prod}}
  matchConditions:
  - {name: created, expression: "request.operation == 'CREATE' && oldObject == null && params == null"}
  - {name: not-opted-out, expression: "!(has(object.metadata.labels) && 'skip' in object.metadata.labels)"}
  variables:
  - {name: wanted, expression: "namespaceObject.metadata.labels['min-replicas']"}
  validations:
  - expression: "object.spec.replicas >= int(variables.wanted)"
    messageExpression: "'needs ' + variables.wanted + ' replicas in ' + request.namespace"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: replicas-deny}
spec:
  policyName: replicas
  validationActions: [Deny]
  matchResources:
    objectSelector: {matchExpressions: [{key: tier, operator: In, values: [frontend]}]}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: replicas-warn}
spec: {policyName: replicas, validationActions: [Warn]}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: broken}
spec:
  failurePolicy: Ignore
  matchConstraints:
    resourceRules: [{apiGroups: ["*"], apiVersions: ["*"], operations: ["*"], resources: ["*"]}]
  validations: [{expression: "object.nope == 1", message: never shown}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: broken}
spec: {policyName: broken, validationActions: [Deny]}
"""

OBJECTS = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {env: prod, min-replicas: "3"}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: front, namespace: shop, labels: {tier: frontend}}
spec: {replicas: 1}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: back, namespace: shop, labels: {tier: backend}}
spec: {replicas: 1}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: big, namespace: shop, labels: {tier: frontend}}
spec: {replicas: 5}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: opted, namespace: shop, labels: {tier: frontend, skip: "yes"}}
spec: {replicas: 1}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: dev, namespace: sandbox, labels: {tier: frontend}}
spec: {replicas: 1}
"""


def outcomes() -> dict[str, tuple[str, list[tuple[str, str, str]]]]:
    objects = load_yaml_all(OBJECTS)
    namespaces = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Namespace"}
    admission = Admission(load_policies(load_yaml_all(POLICIES)), namespaces)
    return {o["metadata"]["name"]: (v.outcome, v.messages) for o in objects for v in [admission.admit(o)]}


def test_bindings_selectors_conditions_and_variables() -> None:
    got = outcomes()
    # both bindings apply to the frontend: Deny wins, the Warn binding adds its warning
    assert got["front"] == ("denied", [("denied", "replicas", "needs 3 replicas in shop"),
                                       ("warned", "replicas", "needs 3 replicas in shop")])
    assert got["back"] == ("warned", [("warned", "replicas", "needs 3 replicas in shop")])  # objectSelector
    assert got["big"] == ("admitted", [])
    assert got["opted"] == ("admitted", [])  # matchConditions
    assert got["dev"] == ("admitted", [])  # sandbox has no env=prod label: namespaceSelector
    # the broken policy errors everywhere, and failurePolicy Ignore lets everything through
    assert got["shop"] == ("admitted", [])


def test_failure_policy_fail_denies_on_expression_errors() -> None:
    text = POLICIES.replace("failurePolicy: Ignore", "failurePolicy: Fail")
    objects = load_yaml_all(OBJECTS)
    admission = Admission(load_policies(load_yaml_all(text)))
    verdict = admission.admit(objects[2])
    assert verdict.outcome == "denied"
    assert any(p == "broken" and "expression error (failurePolicy Fail)" in m for _, p, m in verdict.messages)
