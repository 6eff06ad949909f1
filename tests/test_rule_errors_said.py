"""A broken rule is said where the user looks, and the other rules still run.

A rule that cannot load, or whose check breaks on an object's shape (a CEL "no such key"), is
listed in the report's `rule_errors` and makes a one-shot scan exit 2. With a report that is
not the table (`-o json`), stderr is the only place a user reads it: it must be said there.
A watch meets objects the first scan never saw: a rule that first breaks on a ConfigMap
created while watching must be said once on the CLI watch's stderr, and shown by the
explorer and in the watch's report, not left to the first scan's list.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from kspm_tui.scan import ScanSettings
from kspm_tui.target import Target
from kspm_tui.tui.app import KspmApp
from tests.apiserver.fixtures import kubeconfig, serve  # noqa: F401 - fixtures
from tests.tui_helpers import run_async, screen_text, start_watch, wait_for, wait_scanned
from tests.watch_process import WatchProcess

# Breaks (no such key) on a ConfigMap whose data has no `mode`; passes or fails on the others.
MODE_RULE = """\
id: K8S-TEST-CM-MODE
title: ConfigMaps do not switch on debug mode
severity: low
category: Workload hygiene
scope: object
match: {kinds: [ConfigMap]}
check: object.data['mode'] != 'debug'
why: A test rule that forgets has().
remediation: {guidance: Set mode to prod.}
"""
# Cannot load: the id is not a K8S- id.
BAD_ID_RULE = MODE_RULE.replace("K8S-TEST-CM-MODE", "test-bad-id")


def rules_dir(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "mode.yaml").write_text(MODE_RULE)
    (rules / "bad-id.yaml").write_text(BAD_ID_RULE)
    return rules


def config_map(name: str, data: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "app", "uid": f"uid-{name}"}, "data": data}


CLUSTER = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "uid": f"uid-{name}"}}
           for name in ("kube-system", "app")] + [config_map("settings", {"mode": "prod"})]


def test_a_json_report_says_its_rule_errors_on_stderr(run_cli, tmp_path: Path) -> None:
    rules = rules_dir(tmp_path)
    manifest = tmp_path / "app.yaml"
    manifest.write_text(json.dumps(config_map("loose", {"other": "x"})) + "\n---\n"
                        + json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "app"},
                                      "spec": {"containers": [{"name": "c", "image": "nginx:1.27.0",
                                                               "securityContext": {"privileged": True}}]}}))
    out = tmp_path / "report.json"
    result = run_cli("scan", str(manifest), "--rules", str(rules), "--no-history", "-o", "json", "--output", str(out))
    assert result.code == 2, result.stderr
    lines = result.stderr.splitlines()
    assert f"rule error: {rules / 'bad-id.yaml'} [test-bad-id]: id: String should match pattern " \
           "'^K8S-[A-Z0-9][A-Z0-9-]*$'" in lines
    assert (f"rule error: {rules / 'mode.yaml'} [K8S-TEST-CM-MODE]: ConfigMap app/loose: no such key: 'mode' "
            "(guard it with has())") in lines
    report = json.loads(out.read_text())
    assert {(e["rule"], Path(e["file"]).name) for e in report["rule_errors"]} == {
        ("test-bad-id", "bad-id.yaml"), ("K8S-TEST-CM-MODE", "mode.yaml")}
    assert "K8S-PRIVILEGED" in {f["rule"] for f in report["findings"]}  # the other rules ran


def test_the_cli_watch_says_a_rule_error_a_later_object_brings_once(serve, kubeconfig, tmp_path) -> None:  # noqa: F811
    server = serve(CLUSTER)
    config = kubeconfig(server, context="live")
    rules = rules_dir(tmp_path)
    watch = WatchProcess(config, "--context", "live", "--rules", str(rules))
    try:
        # The loader's error is said at start; the first scan met no broken object.
        watch.wait_line(rf"^rule error: {re.escape(str(rules / 'bad-id.yaml'))} \[test-bad-id\]: ")
        watch.wait_line(r"^watching context live for changes")
        assert "K8S-TEST-CM-MODE" not in watch.stderr_text()
        server.store.put(config_map("loose", {"other": "x"}))
        line = watch.wait_line(r"K8S-TEST-CM-MODE")
        assert line.rstrip("\n") == (
            f"kspm-tui: context 'live': rule error: {rules / 'mode.yaml'} [K8S-TEST-CM-MODE]: ConfigMap app/loose: "
            "no such key: 'mode' (guard it with has()) (met while watching; the other rules still run)")
        # A second broken object is the same broken rule: not said again, and the rule still
        # judges the objects it can (the watch applies the changes in order: `debug` comes last).
        server.store.put(config_map("looser", {"other": "y"}))
        server.store.put(config_map("debug", {"mode": "debug"}))
        watch.wait_event(lambda e: e["finding"]["rule"] == "K8S-TEST-CM-MODE")
    finally:
        watch.stop()
    assert watch.stderr_text().count("[K8S-TEST-CM-MODE]") == 1
    assert [(e["event"], e["finding"]["name"]) for e in map(json.loads, watch.out)
            if e["finding"]["rule"] == "K8S-TEST-CM-MODE"] == [("finding opened", "debug")]


@run_async
async def test_the_explorer_shows_a_rule_error_a_later_object_brings(serve, kubeconfig, tmp_path,  # noqa: F811
                                                                     monkeypatch) -> None:
    server = serve(CLUSTER)
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig(server, context="live")))
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "mode.yaml").write_text(MODE_RULE)
    app = KspmApp(Target("context", context="live"), settings=ScanSettings(rules_dirs=[rules]))
    async with app.run_test(size=(160, 45), notifications=True) as pilot:
        await wait_scanned(pilot, app)
        await start_watch(pilot, app)
        assert "rule errors" not in screen_text(app)
        server.store.put(config_map("loose", {"other": "x"}))
        await wait_for(pilot, lambda: "1 rule errors (first: ConfigMap app/loose: no such key: 'mode'"
                       in screen_text(app), timeout=60)
        assert [(e.rule, Path(e.file).name) for e in app.scanned.result.rule_errors] == [
            ("K8S-TEST-CM-MODE", "mode.yaml")]
        toasts = [toast.render().plain for toast in app.screen.query("Toast")]
        assert any("[K8S-TEST-CM-MODE]" in shown and "met while watching" in shown for shown in toasts), toasts
