"""deploy/: what a platform team applies for the in-cluster reporter. Rendered with the real
kubectl, validated against the Kubernetes OpenAPI schemas, scanned by kspm-tui itself, and its
service account questioned with kspm-tui's own who-can."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from kspm_tui.graph.rbac import Request, Subject, build_rbac, plural
from kspm_tui.model import Severity, SourceRef
from kspm_tui.snapshot import Snapshot
from kspm_tui.sources import SourcedObject
from kspm_tui.sources.live import WANTED
from tests.conftest import ROOT
from tests.kubectl import KUBECTL, requires_kubectl

DEPLOY = ROOT / "deploy"
ACCOUNT = Subject("ServiceAccount", "kspm-tui-reporter", "kspm-tui")
WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection", "escalate", "bind", "impersonate",
               "approve", "sign")
pytestmark = requires_kubectl


def kustomize(path: Path) -> list[dict[str, Any]]:
    done = subprocess.run([str(KUBECTL), "kustomize", str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


@pytest.fixture(scope="module")
def rendered() -> list[dict[str, Any]]:
    return kustomize(DEPLOY)


def test_kustomize_renders_the_reporter(rendered) -> None:
    kinds = sorted((d["kind"], d["metadata"]["name"]) for d in rendered)
    config = next(name for kind, name in kinds if kind == "ConfigMap")
    assert kinds == sorted([
        ("Namespace", "kspm-tui"), ("ServiceAccount", "kspm-tui-reporter"), ("ClusterRole", "kspm-tui-reporter"),
        ("ClusterRoleBinding", "kspm-tui-reporter"), ("ConfigMap", config), ("Service", "kspm-tui-reporter"),
        ("Deployment", "kspm-tui-reporter"), ("NetworkPolicy", "default-deny-ingress"),
        ("NetworkPolicy", "kspm-tui-reporter-metrics"), ("LimitRange", "kspm-tui"), ("ResourceQuota", "kspm-tui")])
    assert re.fullmatch(r"kspm-tui-exceptions-[a-z0-9]{10}", config)  # a new name per edit rolls the Pod
    namespaced = [d for d in rendered if d["kind"] not in ("Namespace", "ClusterRole", "ClusterRoleBinding")]
    assert {d["metadata"]["namespace"] for d in namespaced} == {"kspm-tui"}
    deployment = next(d for d in rendered if d["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == "ghcr.io/kspm-tui/kspm-tui:0.1.0"
    assert container["args"][:2] == ["reporter", "--in-cluster"]
    assert pod["volumes"][0]["configMap"]["name"] == config
    assert {p["httpGet"]["path"] for p in (container["livenessProbe"], container["readinessProbe"])} == {
        "/healthz", "/readyz"}
    service = next(d for d in rendered if d["kind"] == "Service")
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]


def test_an_overlay_adds_the_crd_component_and_pins_the_image(tmp_path) -> None:
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(yaml.safe_dump({
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
        "resources": [os.path.relpath(DEPLOY, overlay)],
        "components": [os.path.relpath(DEPLOY / "components" / "policyreport-crds", overlay)],
        "images": [{"name": "ghcr.io/kspm-tui/kspm-tui", "newName": "registry.example.com/kspm-tui",
                    "digest": "sha256:" + "0" * 64}]}))  # as docs/reporter.md shows
    docs = kustomize(overlay)
    crds = {d["metadata"]["name"]: d for d in docs if d["kind"] == "CustomResourceDefinition"}
    assert set(crds) == {"policyreports.wgpolicyk8s.io", "clusterpolicyreports.wgpolicyk8s.io"}
    assert all("namespace" not in d["metadata"] for d in crds.values())
    assert next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"]["containers"][0][
        "image"] == "registry.example.com/kspm-tui@sha256:" + "0" * 64  # the overlay's pinned image
    vendored = [d for d in yaml.safe_load_all((ROOT / "tests" / "schemas" / "wgpolicyk8s.io_policyreports.yaml")
                                               .read_text()) if d][0]
    assert crds["policyreports.wgpolicyk8s.io"]["spec"] == vendored["spec"]
    for doc in crds.values():
        kubernetes_validate.validate(doc, "1.34.0", strict=True)


@pytest.mark.parametrize("version", ["1.30.0", "1.34.0"])
def test_rendered_objects_validate_against_the_kubernetes_schema(rendered, version) -> None:
    for doc in rendered:
        kubernetes_validate.validate(doc, version, strict=True)
    broken = json.loads(json.dumps(next(d for d in rendered if d["kind"] == "Deployment")))
    broken["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"] = "yes"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, version, strict=True)


def test_the_deployment_passes_its_own_scanner(rendered, run_cli, tmp_path) -> None:
    manifest = tmp_path / "rendered.yaml"
    manifest.write_text(yaml.safe_dump_all(rendered))
    res = run_cli("scan", str(manifest), "-o", "json", "--no-history")
    assert res.code == 0, res.stderr
    doc = json.loads(res.stdout)
    failing = [f for f in doc["findings"] if f["status"] == "fail"]
    above_low = [(f["rule"], f["severity"], f["name"]) for f in failing
                 if Severity(f["severity"]).rank > Severity.low.rank]
    assert above_low == []
    # The one low: the Pod mounts its service-account token, which it reads the cluster with.
    assert [f["rule"] for f in failing if f["severity"] == "low"] == ["K8S-SA-TOKEN-AUTOMOUNT"]
    # Pod Security `restricted`: no Pod Security finding at all on the reporter's Pod.
    assert [f["rule"] for f in failing if f["category"] == "Pod Security"] == []
    assert not doc["errors"]


def test_the_service_account_reads_no_secret_and_writes_only_policyreports(rendered, run_cli, tmp_path) -> None:
    manifest = tmp_path / "rendered.yaml"
    manifest.write_text(yaml.safe_dump_all(rendered))
    for verb in ("get", "list", "watch"):
        res = run_cli("rbac", "who-can", verb, "secrets", str(manifest), "-o", "json")
        assert res.code == 0, res.stderr
        assert json.loads(res.stdout)["grants"] == [], f"someone may {verb} secrets"
    writers = run_cli("rbac", "who-can", "patch", "policyreports.wgpolicyk8s.io", str(manifest), "-o", "json")
    assert {g["subject"]["name"] for g in json.loads(writers.stdout)["grants"]} == {ACCOUNT.name}

    graph = build_rbac(Snapshot([SourcedObject(d, SourceRef(file="rendered.yaml")) for d in rendered]))
    grants = graph.effective(ACCOUNT)
    assert grants, "the reporter's service account is bound"
    for grant in grants:
        rule = grant.rule
        assert not rule.wildcard and not rule.non_resource_urls, grant.chain()
        if set(rule.verbs) & set(WRITE_VERBS):
            assert rule.api_groups == ("wgpolicyk8s.io",), grant.chain()
            assert set(rule.resources) <= {"policyreports", "clusterpolicyreports"}, grant.chain()
    # ...and it can read every kind the collector lists, Secrets excepted.
    for wanted in WANTED:
        request = Request("list", plural(wanted.kind), group=wanted.group)
        allowed = bool(graph.can(ACCOUNT, request))
        assert allowed == (wanted.kind != "Secret"), wanted
    assert graph.can(ACCOUNT, Request("get", "namespaces", name="kube-system"))  # the cluster id


def test_containerfile_is_pinned_multi_stage_and_non_root() -> None:
    text = (DEPLOY / "Containerfile").read_text()
    stages = re.split(r"(?m)^FROM ", text)[1:]
    assert len(stages) >= 2, "multi-stage: build tools stay in the first stage"
    for stage in stages:
        image = stage.split()[0]
        assert re.search(r"@sha256:[0-9a-f]{64}$|:\d+\.\d+\.\d+[-\w.]*$", image), f"base not pinned: {image}"
    final = stages[-1]
    user = re.findall(r"(?m)^USER (\S+)", final)
    assert user and user[-1].split(":")[0].isdigit() and user[-1].split(":")[0] != "0"
    assert not re.search(r"apt-get install|apk add|gcc|build-essential|pip install", final)
    assert re.search(r"COPY --from=\w+", final)
    for source in re.findall(r"(?m)^COPY (?!--from)(.+) \S+$", text):
        for path in source.split():
            assert (ROOT / path).exists(), f"Containerfile copies {path}, which is not in the repository"
