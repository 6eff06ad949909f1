"""Live scans: workloads in system namespaces are a counted group, never silently out of --fail-on."""

from __future__ import annotations

import json

from kspm_tui.tui.app import KspmApp
from kspm_tui.target import Target
from tests.apiserver.fixtures import manifests
from tests.tui_helpers import run_async, screen_text, wait_scanned


def system_only_criticals() -> list[dict]:
    """The fixture cluster without its application workloads: the one privileged workload left
    is kube-system's node agent."""
    return [o for o in manifests() if o["kind"] not in ("Pod", "Deployment", "ReplicaSet", "CronJob", "Job",
                                                         "StatefulSet") and
            not (o["kind"] == "DaemonSet" and o["metadata"].get("namespace") != "kube-system")]


def test_system_namespace_findings_count_for_fail_on_and_the_footer_says_how_to_see_them(
        serve, kubeconfig, run_cli) -> None:
    server = serve(system_only_criticals())
    config = str(kubeconfig(server))
    table = run_cli("scan", "--context", "test", "--kubeconfig", config, "--fail-on", "critical", "--no-history")
    assert table.code == 1
    assert "findings at or above critical are in system namespaces (kube-system) and count for --fail-on" \
        in table.stderr.replace("\n", " ")
    footer = " ".join(table.stdout.split())
    assert "System namespaces (kube-system): 1 workloads with" in footer and "1 critical" in footer
    assert "counted by --fail-on; --include-system lists them" in footer
    report = json.loads(run_cli("scan", "--context", "test", "--kubeconfig", config, "-o", "json",
                                "--no-history").stdout)
    assert report["excluded"]["by_severity"]["critical"] == 1
    assert not [f for f in report["findings"] if f["namespace"] == "kube-system" and f["kind"] == "DaemonSet"]
    shown = json.loads(run_cli("scan", "--context", "test", "--kubeconfig", config, "-o", "json", "--no-history",
                               "--include-system").stdout)
    assert {(f["rule"], f["name"]) for f in shown["findings"] if f["namespace"] == "kube-system"} >= {
        ("K8S-PRIVILEGED", "node-agent")}


@run_async
async def test_the_explorer_counts_the_system_group_and_s_drills_into_it() -> None:
    app = KspmApp(Target("demo"))
    async with app.run_test(size=(150, 40)) as pilot:
        await wait_scanned(pilot, app)
        excluded = app.scanned.result.excluded

        def system_rows() -> int:
            return sum(1 for r in app.index.workloads.values() if r.namespace in excluded.namespaces)

        hidden_view = system_rows()  # static control-plane Pods and the like have rules of their own
        assert excluded.workloads
        text = " ".join(screen_text(app).split())
        assert f"{excluded.workloads} workloads in system namespaces not listed" in text
        assert f"({excluded.findings} findings, counted by --fail-on); press S to show them" in text
        await pilot.press("S")
        await wait_scanned(pilot, app)
        assert app.scanned.result.excluded.workloads == 0 and system_rows() > hidden_view
        await pilot.press("S")
        await wait_scanned(pilot, app)
        assert system_rows() == hidden_view
