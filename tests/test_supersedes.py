"""One finding per problem: rules that `supersedes:` others report their failures once.

A privileged container fails K8S-PRIVILEGED and also allowPrivilegeEscalation, drop-ALL and
added-capability checks that the same fix resolves: the user sees one finding that says what
else it covers, its patch (applied with the real kubectl) clears all of them, the score counts
the problem once, and the framework views still count every control as failing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from kspm_tui.engine.loader import load_rules
from kspm_tui.yamlio import dump_yaml

KUBECTL = Path(sys.executable).parent / "kubectl"

PRIVILEGED = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: agent, namespace: shop}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers:
        - name: agent
          image: registry.example.com/agent:1.4.2
          securityContext:
            privileged: true
            capabilities: {add: [SYS_ADMIN, NET_BIND_SERVICE]}
        - name: sidecar
          image: registry.example.com/sidecar:2.0.1
"""

HOSTPATH = """\
apiVersion: v1
kind: Pod
metadata: {name: logs, namespace: shop}
spec:
  containers:
    - name: c
      image: registry.example.com/shipper:3.1.0
      volumeMounts:
        - {name: varlog, mountPath: /var/log, readOnly: true}
        - {name: sock, mountPath: /run/containerd.sock}
  volumes:
    - {name: varlog, hostPath: {path: /var/log}}
    - {name: sock, hostPath: {path: /run/containerd/containerd.sock}}
"""


def _scan(run_cli, text: str, *args: str) -> dict:
    res = run_cli("scan", "-", "-o", "json", "--fail-on", "none", *args, stdin=text)
    assert res.code == 0, res.stderr
    return json.loads(res.stdout)


def _failing(result: dict, **where: str) -> dict[str, dict]:
    return {f["rule"]: f for f in result["findings"] if f["status"] == "fail"
            and all(f.get(k) == v for k, v in where.items())}


def test_a_privileged_container_is_one_finding_that_says_what_it_covers(run_cli) -> None:
    result = _scan(run_cli, PRIVILEGED)
    agent = _failing(result, container="agent")
    assert "K8S-PRIVILEGED" in agent
    for covered in ("K8S-ALLOW-PRIVILEGE-ESCALATION", "K8S-CAPABILITIES-DROP-ALL", "K8S-ADDED-CAPABILITIES"):
        assert covered not in agent, f"{covered} reported besides K8S-PRIVILEGED"
        assert covered in agent["K8S-PRIVILEGED"]["covers"]
    # The other container is not privileged: its own findings stay.
    sidecar = _failing(result, container="sidecar")
    assert {"K8S-ALLOW-PRIVILEGE-ESCALATION", "K8S-CAPABILITIES-DROP-ALL"} <= set(sidecar)
    # Evidence shows what the covered rules matched too.
    paths = {e["path"] for e in agent["K8S-PRIVILEGED"]["evidence"]}
    assert any(p.endswith("securityContext.privileged") for p in paths)
    assert any(p.endswith("securityContext.capabilities.add") for p in paths)


def test_the_table_and_markdown_say_also_covers(run_cli) -> None:
    table = run_cli("scan", "-", "--fail-on", "none", stdin=PRIVILEGED)
    assert "also covers K8S-" in table.stdout
    markdown = run_cli("scan", "-", "-o", "markdown", "--fail-on", "none", stdin=PRIVILEGED)
    # the findings table's row (the score-cap note above the table names the finding too)
    line = next(x for x in markdown.stdout.splitlines() if x.startswith("|") and "K8S-PRIVILEGED" in x and "agent" in x)
    covers = line.split("(also covers ")[1].split(")")[0].split(", ")  # sorted by rule id
    assert "K8S-ALLOW-PRIVILEGE-ESCALATION" in covers and covers == sorted(covers)


def test_the_score_counts_the_problem_once_and_frameworks_count_every_control(run_cli) -> None:
    result = _scan(run_cli, PRIVILEGED)
    stats = {s["rule"]: s for s in result["rule_stats"]}
    ape = stats["K8S-ALLOW-PRIVILEGE-ESCALATION"]
    assert ape["failed"] == 2 and ape["superseded"] == 1  # agent (covered) and sidecar (own finding)
    pss = _scan(run_cli, PRIVILEGED, "--framework", "pss-restricted")["compliance"]
    controls = {c["id"]: c for c in pss["controls"]}
    assert controls["allowprivilegeescalation"]["status"] == "fail"
    assert controls["capabilities_baseline"]["status"] == "fail"
    # Without supersession the score would weigh the covered failures again.
    from kspm_tui.model import RuleStat, Severity
    from kspm_tui.results import posture_score
    rule_stats = [RuleStat(**s) for s in result["rule_stats"]]
    severities = {s.rule: Severity(s.severity) for s in rule_stats}
    doubled = [s.model_copy(update={"superseded": 0}) for s in rule_stats]
    # the weighted pass rate (before an open critical finding caps the score, summary.score_cap)
    summary = result["summary"]
    uncapped = summary["score_cap"]["uncapped"] if summary["score_cap"] else summary["score"]
    assert uncapped == posture_score(rule_stats, severities) > posture_score(doubled, severities)


def test_the_covering_patch_clears_every_covered_failure_with_real_kubectl(run_cli, tmp_path: Path) -> None:
    finding = _failing(_scan(run_cli, PRIVILEGED), container="agent")["K8S-PRIVILEGED"]
    patch = finding["remediation"]["patch"]
    manifest = tmp_path / "agent.yaml"
    manifest.write_text(PRIVILEGED, encoding="utf-8")
    proc = subprocess.run([str(KUBECTL), "patch", "--local", "-f", str(manifest), "--type=strategic",
                           "-p", json.dumps(patch), "-o", "json"], capture_output=True, text=True,
                          check=False, env={"PATH": "", "KUBECONFIG": str(tmp_path / "none")})
    assert proc.returncode == 0, proc.stderr
    after = _failing(_scan(run_cli, dump_yaml(json.loads(proc.stdout))), container="agent")
    for rule in ("K8S-PRIVILEGED", *finding["covers"]):
        assert rule not in after, f"{rule} still fails after the covering patch"


def test_hostpath_is_one_finding_per_volume_kind_and_tells_read_only_from_writable(run_cli) -> None:
    found = _failing(_scan(run_cli, HOSTPATH))
    assert "K8S-RESTRICTED-VOLUMES" not in found
    hostpath = found["K8S-HOSTPATH-VOLUMES"]
    assert hostpath["covers"] == ["K8S-RESTRICTED-VOLUMES"]
    assert "/var/log (read-only)" in hostpath["message"]
    assert "/run/containerd/containerd.sock (writable)" in hostpath["message"]
    assert hostpath["severity"] == "high"
    read_only = HOSTPATH.replace("mountPath: /run/containerd.sock}", "mountPath: /run/containerd.sock, readOnly: true}")
    # A read-only mount does not stop a client talking to the runtime's socket.
    assert _failing(_scan(run_cli, read_only))["K8S-HOSTPATH-VOLUMES"]["severity"] == "high"
    certs = read_only.replace("/run/containerd/containerd.sock", "/etc/ssl/certs")
    found = _failing(_scan(run_cli, certs))["K8S-HOSTPATH-VOLUMES"]
    assert found["severity"] == "medium", found
    assert found["message"] == "hostPath volumes: /var/log (read-only), /etc/ssl/certs (read-only)"


def test_supersedes_must_name_a_known_rule(tmp_path: Path) -> None:
    rule = {"id": "K8S-X", "title": "x", "severity": "low", "category": "Workload hygiene", "scope": "pod",
            "check": "true", "why": "w", "supersedes": ["K8S-NOPE"]}
    (tmp_path / "x.yaml").write_text(dump_yaml(rule), encoding="utf-8")
    errors = load_rules([tmp_path]).errors
    assert [(e.rule, e.message) for e in errors] == [("K8S-X", "supersedes unknown rule K8S-NOPE")]
