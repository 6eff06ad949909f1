"""What an operator sees of fix safety: verdicts in JSON, withheld fixes explained, `kspm-tui fix`
plans applied with the real kubectl, the Pod Security level of namespaces."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import yaml

from kspm_tui import strategic_merge
from kspm_tui.fixes.agents import agent_traits
from kspm_tui.fixes.validation import validate_object
from kspm_tui.yamlio import load_yaml_all
from tests.test_remediation_kubectl import KUBECTL, apply

CASES = Path(__file__).parent / "fixtures" / "fixes" / "cases.yaml"


def findings(run_cli) -> dict[tuple[str, str, str | None], dict[str, Any]]:  # type: ignore[no-untyped-def]
    result = run_cli("scan", str(CASES), "--include-system", "-o", "json")
    assert result.code == 0, result.stderr
    return {(f["rule"], f["name"], f["container"]): f for f in json.loads(result.stdout)["findings"]}


def test_every_patch_carries_a_verdict_and_broken_ones_are_withheld(run_cli) -> None:  # type: ignore[no-untyped-def]
    by = findings(run_cli)
    for f in by.values():
        rem = f["remediation"]
        if rem["patch"] is not None:
            assert rem["safety"] in ("safe", "review") and rem["safety_reason"] and rem["cost"], f
    ro = by[("K8S-READONLY-ROOT-FILESYSTEM", "web", "web")]["remediation"]
    assert ro["safety"] == "safe" and ro["cost"] == "rolling restart"
    mounts = ro["patch"]["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    assert {m["mountPath"] for m in mounts} == {"/var/cache/nginx", "/var/run", "/tmp"}
    non_root = by[("K8S-RUN-AS-NON-ROOT", "web", None)]["remediation"]
    assert non_root["patch"] is None and "nginx-unprivileged" in non_root["guidance"]
    limit = by[("K8S-RESOURCES-MEMORY-LIMIT", "web", "web")]["remediation"]
    assert limit["safety"] == "review" and "OOM" in limit["safety_reason"]
    assert limit["patch"]["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "192Mi"
    # A privileged container's one finding covers allowPrivilegeEscalation and drop-ALL (`supersedes:`):
    # its merged patch sets privileged=false with allowPrivilegeEscalation=false, which the API server
    # accepts; dropping ALL capabilities may stop the process, so the merged fix is `review` and says why.
    assert ("K8S-ALLOW-PRIVILEGE-ESCALATION", "tuner", "tuner") not in by
    privileged = by[("K8S-PRIVILEGED", "tuner", "tuner")]
    assert {"K8S-ALLOW-PRIVILEGE-ESCALATION", "K8S-CAPABILITIES-DROP-ALL"} <= set(privileged["covers"])
    rem = privileged["remediation"]
    sc = rem["patch"]["spec"]["template"]["spec"]["containers"][0]["securityContext"]
    assert sc["privileged"] is False and sc["allowPrivilegeEscalation"] is False and sc["capabilities"]["drop"] == ["ALL"]
    tuner = next(d for d in load_yaml_all(CASES.read_text()) if d and d["metadata"]["name"] == "tuner")
    assert validate_object(strategic_merge.apply(tuner, rem["patch"])) == []
    assert rem["safety"] == "review" and "K8S-CAPABILITIES-DROP-ALL" in rem["safety_reason"]
    # a covering fix that drops ALL capabilities is never `safe`: nginx as root needs some of them
    ape = by[("K8S-ALLOW-PRIVILEGE-ESCALATION", "web", "web")]["remediation"]
    assert by[("K8S-ALLOW-PRIVILEGE-ESCALATION", "web", "web")]["covers"] == ["K8S-SECURITY-CONTEXT-MISSING"]
    assert ape["safety"] == "review" and "K8S-SECURITY-CONTEXT-MISSING" in ape["safety_reason"]
    # CAP_SYS_ADMIN + allowPrivilegeEscalation=false is refused by the API server: not offered
    refused = by[("K8S-ALLOW-PRIVILEGE-ESCALATION", "mounter", "mounter")]["remediation"]
    assert refused["patch"] is None and refused["kubectl"] is None
    assert "CAP_SYS_ADMIN" in refused["guidance"] and "remove the CAP_SYS_ADMIN capability first" in refused["guidance"]
    # the node agent keeps its privilege: no breaking patch, least privilege and a prefilled acceptance
    agent = by[("K8S-PRIVILEGED", "overlay-agent", "agent")]["remediation"]
    assert agent["patch"] is None and "node agent" in agent["guidance"]
    assert "specific capabilities" in agent["guidance"] and "reason:" in agent["guidance"]
    assert by[("K8S-HOST-NAMESPACES", "overlay-agent", None)]["remediation"]["patch"] is None


def test_node_agents_are_recognised_by_what_they_do() -> None:
    docs = {d["metadata"]["name"]: d for d in load_yaml_all(CASES.read_text()) if d}
    assert agent_traits(docs["overlay-agent"])[:2] == ["DaemonSet", "host network"]
    assert agent_traits(docs["web"]) == []
    renamed = json.loads(json.dumps(docs["web"]))
    renamed["kind"] = "DaemonSet"  # a DaemonSet without host access is no agent, whatever its name
    renamed["metadata"]["name"] = "calico-node"
    assert agent_traits(renamed) == []


def test_namespace_pod_security_level_is_computed_from_its_workloads(run_cli) -> None:  # type: ignore[no-untyped-def]
    by = findings(run_cli)
    missing = by[("K8S-NS-PSA-ENFORCE-MISSING", "shop", None)]
    # tuner is privileged, so shop meets only privileged: no enforce label is proposed
    assert missing["remediation"]["patch"] is None
    assert "satisfies privileged" in missing["message"] and "Deployment/tuner" in missing["message"]
    bomb = by[("K8S-NS-PSA-VIOLATED", "strict", None)]
    assert bomb["severity"] == "high" and "Deployment/api" in bomb["message"]
    # fixing the api workload would restart it into a namespace that rejects it: not `safe`
    seccomp = by[("K8S-SECCOMP-REQUIRED", "api", None)]["remediation"]
    assert seccomp["safety"] == "review" and "enforces restricted" in seccomp["safety_reason"]


def test_psa_label_fix_proposes_the_level_every_workload_meets(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    docs = [d for d in load_yaml_all(CASES.read_text()) if d and d["metadata"]["name"] != "tuner"]
    path = tmp_path / "cases.yaml"
    path.write_text(yaml.safe_dump_all(docs))
    result = run_cli("scan", str(path), "-o", "json")
    by = {(f["rule"], f["name"]): f for f in json.loads(result.stdout)["findings"]}
    missing = by[("K8S-NS-PSA-ENFORCE-MISSING", "shop")]
    labels = missing["remediation"]["patch"]["metadata"]["labels"]
    assert labels == {"pod-security.kubernetes.io/enforce": "baseline", "pod-security.kubernetes.io/warn": "restricted",
                      "pod-security.kubernetes.io/audit": "restricted"}
    assert missing["remediation"]["safety"] == "safe" and "Deployment/web" in missing["message"]


def test_fix_prints_one_command_per_workload_that_kubectl_applies(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("fix", "deploy/web", "-n", "shop", str(CASES))
    assert result.code == 0, result.stderr
    commands = [line for line in result.stdout.splitlines() if line.startswith("kubectl ")]
    assert len(commands) == 1
    assert "#   review K8S-RUN-AS-NON-ROOT" in result.stdout and "#   fixes K8S-READONLY-ROOT-FILESYSTEM" in result.stdout
    assert "#   fixes K8S-SECCOMP-REQUIRED" in result.stdout
    # its allowPrivilegeEscalation finding covers K8S-SECURITY-CONTEXT-MISSING, whose drop-ALL nginx may need: listed
    assert "#   review K8S-ALLOW-PRIVILEGE-ESCALATION [web]" in result.stdout
    args = shlex.split(commands[0])  # commands.py: options first, `--` before KIND NAME
    assert args[:4] == ["kubectl", "patch", "-n", "shop"] and args[-3:] == ["--", "deployment", "web"]
    web = next(d for d in load_yaml_all(CASES.read_text()) if d and d["metadata"]["name"] == "web")
    [patched] = apply(args[args.index("-p") + 1], [web], tmp_path / "web.yaml")
    assert patched["spec"]["template"]["spec"]["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    container = patched["spec"]["template"]["spec"]["containers"][0]
    assert container["securityContext"] == {"readOnlyRootFilesystem": True}  # no review item slipped in
    assert {m["mountPath"] for m in container["volumeMounts"]} == {"/var/cache/nginx", "/var/run", "/tmp"}
    assert container["ports"] == [{"containerPort": 80}]


def test_fix_yaml_is_the_patched_objects_for_gitops(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("fix", "ns/shop", str(CASES), "-o", "yaml")
    assert result.code == 0, result.stderr
    docs = {d["metadata"]["name"]: d for d in yaml.safe_load_all(result.stdout) if d}
    web = docs["web"]["spec"]["template"]["spec"]
    assert web["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True
    assert {v["name"] for v in web["volumes"]} == {m["name"] for m in web["containers"][0]["volumeMounts"]}


def test_fix_scope_errors_are_usage_errors(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("fix", "widget/x", str(CASES))
    assert result.code == 2 and "unknown SCOPE" in result.stderr
    assert KUBECTL.exists()
