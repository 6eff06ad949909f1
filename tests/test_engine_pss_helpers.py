"""CEL helpers and the `allContainers` variable added for the Pod Security Standards pack."""

from __future__ import annotations

from typing import Any

from kspm_tui.engine.cel import compile_expression, evaluate, new_context
from kspm_tui.engine.loader import compile_rule, load_rules
from kspm_tui.engine.testing import failing_rules
from kspm_tui.locations import builtin_dir
from kspm_tui.model import Rule
from kspm_tui.scan import ScanSettings, scan
from kspm_tui.sources.files import read_text

SPEC = {
    "initContainers": [{"name": "init", "image": "busybox:1.36"}],
    "containers": [{"name": "app", "image": "nginx:1.27"}, {"name": "sidecar", "image": "envoy:1.31"}],
    "ephemeralContainers": [{"name": "debug", "image": "busybox:1.36"}],
}


def cel(expression: str, **variables: Any) -> Any:
    context = new_context()
    context.update(variables)
    return evaluate(compile_expression(expression), context)


def test_pod_spec_patch_places_fragments_in_the_list_holding_each_name() -> None:
    patch = cel(
        "podSpecPatch(podSpec, {'securityContext': {'runAsNonRoot': true}, 'hostPID': {}},"
        " [{'name': 'sidecar', 'x': 1}, {'name': 'init', 'x': 2},"
        "  {'name': 'debug', 'x': 3}, {'name': 'gone'}])",
        podSpec=SPEC,
    )
    assert patch == {
        "securityContext": {"runAsNonRoot": True},
        "initContainers": [{"name": "init", "x": 2}],
        "containers": [{"name": "sidecar", "x": 1}],
        "ephemeralContainers": [{"name": "debug", "x": 3}],
    }
    assert cel("podSpecPatch(podSpec, {'securityContext': {}}, [])", podSpec=SPEC) == {}


def test_delete_patch_deletes_only_present_paths() -> None:
    container = {
        "livenessProbe": {"httpGet": {"host": "10.0.0.1", "port": 80}},
        "lifecycle": {"preStop": {"exec": {"command": ["true"]}}},
    }
    patch = cel(
        "deletePatch(c, ['livenessProbe.httpGet.host', 'livenessProbe.tcpSocket.host',"
        " 'lifecycle.preStop.httpGet.host', 'readinessProbe.httpGet.host'])",
        c=container,
    )
    assert patch == {"livenessProbe": {"httpGet": {"host": None}}}


def test_map_from_keys() -> None:
    assert cel("mapFromKeys(['a/b', 'c'], null)") == {"a/b": None, "c": None}


def test_without_keys() -> None:
    port = {"containerPort": 53, "hostPort": 53, "protocol": "UDP"}
    assert cel("withoutKeys(p, ['hostPort', 'hostIP'])", p=port) == {"containerPort": 53, "protocol": "UDP"}


def test_compact_patch_drops_empty_maps_only() -> None:
    patch = cel(
        "compactPatch({'metadata': {'annotations': {}}, 'spec': {'a': {'b': {}}, 'add': [], 'x': null}})"
    )
    assert patch == {"spec": {"add": [], "x": None}}


def test_all_containers_variable_lists_init_regular_and_ephemeral_containers() -> None:
    rule = compile_rule(
        Rule.model_validate(
            {
                "id": "K8S-TEST-ALL",
                "title": "t",
                "severity": "low",
                "category": "Pod Security",
                "scope": "pod",
                "check": "allContainers.map(c, c.name) != ['init', 'app', 'sidecar', 'debug']",
                "why": "w",
            }
        )
    )
    assert rule.template_only, "allContainers depends only on the pod template"
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": SPEC}
    assert "K8S-TEST-ALL" in failing_rules([pod], [rule])
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d"},
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}}},
    }
    assert failing_rules([deployment], [rule]) == {}


def test_null_fields_in_a_pod_template_count_as_unset() -> None:
    """`securityContext:` left empty in YAML is null; rules must see it as unset, not error."""
    manifest = b"""
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}, annotations: null}
    spec:
      securityContext:
      volumes:
        - name: data
          emptyDir:
          hostPath: null
      containers:
        - name: app
          image: nginx:1.27
          securityContext:
            # runAsUser: 1000
          ports: [{containerPort: 80, hostPort: null}]
"""
    objects = [o.obj for o in read_text(manifest, "web.yaml").objects]
    rules = load_rules([builtin_dir("rules") / "pod-security"]).rules
    failing = failing_rules(objects, rules)
    assert "!error" not in failing, failing["!error"]
    assert "K8S-ALLOW-PRIVILEGE-ESCALATION" in failing and "K8S-RUN-AS-NON-ROOT" in failing
    assert not {"K8S-PRIVILEGED", "K8S-HOST-PORTS", "K8S-HOSTPATH-VOLUMES", "K8S-RESTRICTED-VOLUMES"} & set(
        failing
    )


def test_evidence_paths_are_paths_in_the_scanned_object() -> None:
    """Pod-scope evidence is relative to the pod template, container evidence to the container."""
    manifest = b"""
apiVersion: batch/v1
kind: CronJob
metadata: {name: job}
spec:
  schedule: "@daily"
  jobTemplate:
    spec:
      template:
        metadata:
          annotations: {container.apparmor.security.beta.kubernetes.io/c: unconfined}
        spec:
          hostPID: true
          containers: [{name: c, image: busybox:1.36, securityContext: {privileged: true}}]
"""
    collected = read_text(manifest, "job.yaml")
    result = scan(collected, ScanSettings(), ruleset=load_rules([builtin_dir("rules") / "pod-security"]))
    paths = {(f.rule, e.path) for f in result.findings for e in f.evidence if e.value is not None}
    base = "spec.jobTemplate.spec.template."
    assert (
        ("K8S-HOST-NAMESPACES", base + "spec.hostPID") in paths
        and ("K8S-APPARMOR-UNCONFINED", base + "metadata.annotations") in paths
        and ("K8S-PRIVILEGED", base + "spec.containers[c].securityContext.privileged") in paths
    ), paths
