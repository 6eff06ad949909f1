"""The scan service (scan.py, target.py): the CLI and the explorer scan a Target the same way,
and the kubectl conventions every cluster-addressing command shares."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import yaml

from kspm_tui.cli.common import request_timeout
from kspm_tui.config import AnnotationExceptions, Config
from kspm_tui.scan import ScanSettings, run_scan
from kspm_tui.target import Target
from kspm_tui.tui.app import KspmApp
from tests.conftest import FIXTURES
from tests.tui_helpers import run_async, wait_scanned

RBAC_CLUSTER = FIXTURES / "rbac"


def failing(findings: list) -> set[tuple[str, str, str | None, str]]:
    return {(f["rule"], f["kind"], f["namespace"], f["name"]) if isinstance(f, dict)
            else (f.rule, f.kind, f.namespace, f.name)
            for f in findings if (f["status"] if isinstance(f, dict) else f.status.value) == "fail"}


def test_cli_and_explorer_give_the_same_findings_history_label_and_paths(run_cli) -> None:
    cli = run_cli("scan", str(RBAC_CLUSTER), "-o", "json")
    assert cli.code in (0, 1), cli.stderr
    cli_findings = failing(json.loads(cli.stdout)["findings"])
    assert cli_findings, "the fixture has failing findings"
    cli_paths = json.loads(run_cli("rbac", "paths", str(RBAC_CLUSTER), "-o", "json").stdout)
    assert cli_paths, "the fixture has attack paths"

    seen: dict[str, object] = {}

    @run_async
    async def explore() -> None:
        app = KspmApp(Target("paths", paths=(str(RBAC_CLUSTER),)))
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_scanned(pilot, app)
            scanned = app.scanned
            seen["findings"] = failing(scanned.result.findings)
            seen["paths"] = [p.model_dump(mode="json") for p in scanned.graph().attack_paths()]
            seen["engine_graph"] = scanned.analysis is not None and scanned.graph() is scanned.analysis

    explore()
    assert seen["findings"] == cli_findings
    assert seen["paths"] == cli_paths
    assert seen["engine_graph"], "the explorer reuses the graph the engine built, not a second one"
    saved = json.loads(run_cli("history", "-o", "json").stdout)
    assert len(saved) == 1, saved  # one target: CLI and explorer scans share the history key
    assert saved[0]["label"] == str(RBAC_CLUSTER) and len(saved[0]["scans"]) == 2


def test_the_engine_graph_is_handed_over_not_rebuilt() -> None:
    scanned = run_scan(Target("demo"), ScanSettings())
    assert scanned.analysis is not None, "the demo's attack-path rules built the graph"
    assert scanned.graph() is scanned.analysis
    assert scanned.result.findings and len(scanned.snapshot) == scanned.result.summary.objects


@pytest.mark.parametrize(("text", "seconds"), [("10", 10.0), ("10s", 10.0), ("1m", 60.0), ("500ms", 0.5),
                                                ("1m30s", 90.0), ("2.5", 2.5), ("0", None)])
def test_request_timeout_reads_like_kubectl(text: str, seconds: float | None) -> None:
    assert request_timeout(text) == seconds


@pytest.mark.parametrize("text", ["ten", "10x", "-1", "1m junk", ""])
def test_request_timeout_rejects_what_kubectl_rejects(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        request_timeout(text)


def test_bad_request_timeout_is_a_usage_error(run_cli) -> None:
    result = run_cli("scan", "--demo", "--request-timeout", "soon")
    assert result.code == 2 and "invalid --request-timeout 'soon'" in result.stderr


@pytest.mark.parametrize("command", [["scan"], ["rbac", "paths"], ["doctor"], ["exceptions"], []])
def test_every_cluster_command_takes_kubectl_flags(run_cli, command: list[str]) -> None:
    result = run_cli(*command, "--help") if command else run_cli("--help")
    assert result.code == 0
    if command and command[0] != "rbac":
        for flag in ("--kubeconfig", "--context", "-n NS, --namespace NS", "-A, --all-namespaces",
                     "--request-timeout DURATION"):
            assert flag in result.stdout, (command, flag)
    elif command:
        for flag in ("--kubeconfig", "--context", "--request-timeout DURATION"):
            assert flag in result.stdout, (command, flag)


def test_namespace_places_namespaceless_manifests_like_kubectl_apply(tmp_path: Path, run_cli) -> None:
    def pod(name: str, namespace: str | None = None) -> dict:
        meta = {"name": name, **({"namespace": namespace} if namespace else {})}
        return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
                "spec": {"containers": [{"name": "c", "image": "nginx:1", "securityContext": {"privileged": True}}]}}

    (tmp_path / "pods.yaml").write_text(yaml.safe_dump_all([pod("loose"), pod("placed", "team"), pod("other", "ops")]))
    result = run_cli("scan", str(tmp_path), "-n", "team", "-o", "json", "--no-history")
    assert result.code in (0, 1), result.stderr
    privileged = {(f["namespace"], f["name"]) for f in json.loads(result.stdout)["findings"]
                  if f["rule"] == "K8S-PRIVILEGED"}
    assert privileged == {("team", "loose"), ("team", "placed")}
    everything = run_cli("scan", str(tmp_path), "-n", "team", "-A", "-o", "json", "--no-history")
    names = {f["name"] for f in json.loads(everything.stdout)["findings"] if f["rule"] == "K8S-PRIVILEGED"}
    assert names == {"loose", "placed", "other"}  # -A: every namespace, as kubectl


def test_accept_annotation_on_the_pod_template(tmp_path: Path) -> None:
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "debug", "namespace": "ops"},
        "spec": {"selector": {"matchLabels": {"app": "debug"}}, "template": {
            "metadata": {"labels": {"app": "debug"},
                         "annotations": {"kspm-tui.io/accept": "K8S-PRIVILEGED node debugging, ticket OPS-7"}},
            "spec": {"containers": [{"name": "c", "image": "busybox:1",
                                     "securityContext": {"privileged": True}}]}}},
    }
    (tmp_path / "debug.yaml").write_text(yaml.safe_dump(deployment))
    # K8S-PRIVILEGED is critical: an object may waive it for itself only where config allows it.
    allow = Config(annotation_exceptions=AnnotationExceptions(allow_critical=True))
    result = run_scan(Target("paths", paths=(str(tmp_path),)), ScanSettings(user_exceptions=False, config=allow)).result
    privileged = [f for f in result.findings if f.rule == "K8S-PRIVILEGED"]
    assert [f.status.value for f in privileged] == ["accepted"]
    assert privileged[0].acceptance and "OPS-7" in privileged[0].acceptance.reason


def test_scan_without_a_target_scans_the_current_context(serve, kubeconfig, run_cli) -> None:
    server = serve()
    config = kubeconfig(server)
    result = run_cli("scan", "-o", "json", "--no-history", env={"KUBECONFIG": str(config)})
    assert result.code in (0, 1), result.stderr
    assert "scanning the current context 'test'" in result.stderr
    assert json.loads(result.stdout)["cluster"]["context"] == "test"


def test_scan_without_a_target_or_kubeconfig_is_a_clear_error(tmp_path: Path, run_cli) -> None:
    result = run_cli("scan", env={"KUBECONFIG": str(tmp_path / "none.yaml"), "HOME": str(tmp_path)})
    assert result.code == 2
    assert "nothing to scan" in result.stderr


def test_live_namespace_lists_namespaced_kinds_only_there(serve, kubeconfig, run_cli) -> None:
    server = serve()
    config = kubeconfig(server)
    result = run_cli("scan", "--context", "test", "--kubeconfig", str(config), "-n", "default",
                     "-o", "json", "--no-history")
    assert result.code in (0, 1), result.stderr
    namespaces = {f["namespace"] for f in json.loads(result.stdout)["findings"] if f["namespace"]}
    assert namespaces == {"default"}
    listed = {e.path for e in server.log if e.method == "GET" and "/pods" in e.path}
    assert listed and all(p.startswith("/api/v1/namespaces/default/") for p in listed), listed


def test_crash_reports_keep_the_last_few_without_locals(user_dirs: Path) -> None:
    from kspm_tui import crash

    class WorkerFailed(Exception):  # the shape of Textual's: the real error in `.error`
        def __init__(self, error: BaseException) -> None:
            super().__init__(f"worker failed: {error}")
            self.error = error

    def fail(token: str) -> None:
        secret_local = token  # noqa: F841 - a local that must never reach a report
        raise ValueError("bad object")

    paths = []
    for n in range(crash.KEEP + 3):
        try:
            fail("-".join(["hunter2", str(n)]))
        except ValueError as exc:
            paths.append(crash.save_report(WorkerFailed(exc)))
    kept = sorted(crash.crash_dir().glob("crash-*.txt"))
    assert kept == sorted(paths[-crash.KEEP:])
    text = kept[-1].read_text()
    assert "ValueError: bad object" in text and "in fail" in text
    assert "WorkerFailed" not in text and f"hunter2-{crash.KEEP + 2}" not in text  # no wrapper, no locals
    line = crash.summary(WorkerFailed(ValueError("bad object")), kept[-1])
    assert "\n" not in line and "ValueError: bad object" in line and str(kept[-1]) in line


def test_explorer_flags_reach_the_contexts_it_offers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`kspm-tui --kubeconfig FILE -n NS --request-timeout 1m`: the picker lists FILE's contexts
    and the context picked is scanned through FILE, in NS, with that timeout."""
    from kspm_tui.cli.common import target_from
    from kspm_tui.cli.explore import build_parser
    from kspm_tui.tui.screens.contexts import ContextsScreen
    from tests.tui_helpers import wait_for, write_kubeconfig

    config = write_kubeconfig(tmp_path / "elsewhere.yaml")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent.yaml"))
    args = build_parser().parse_args(["--kubeconfig", str(config), "-n", "shop", "--request-timeout", "1m"])
    assert target_from(args) is None  # nothing named: the picker opens
    reach = target_from(args, current_context=True)
    seen: dict[str, object] = {}

    @run_async
    async def explore() -> None:
        app = KspmApp(None, reach=reach)
        async with app.run_test(size=(130, 40)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, ContextsScreen) and app.screen.table.rows)
            seen["contexts"] = sorted(r.name for r in app.screen.table.rows)
            seen["picked"] = app.context_target("prod-eu")

    explore()
    assert seen["contexts"] == ["prod-eu", "staging"]
    assert seen["picked"] == Target("context", context="prod-eu", kubeconfig=str(config), namespace="shop",
                                    request_timeout=60.0)
