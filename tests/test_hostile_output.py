"""Nothing in a manifest can attack the operator who reads what kspm-tui prints.

Objects whose names, namespaces, labels, annotations, container names, images, exception
reasons, file names and rule texts are full of terminal escapes (OSC 52 clipboard write, OSC 0
title set, CSI, C1 CSI, bidi override, zero-width) go through every output format and CLI
command as real runs, and through every explorer screen with Pilot. No raw control character
may reach the output, the rendered screen or the clipboard; each shows up as a visible escape
(the test checks that too, so it cannot pass by showing nothing). JSON, SARIF and PolicyReport
keep the exact values (their serialisers escape C0 controls; they are data for programs).
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from kspm_tui.scan import ScanSettings
from kspm_tui.target import Target
from kspm_tui.tui.app import KspmApp
from kspm_tui.tui.screens.by_rule import ByRuleScreen
from kspm_tui.tui.screens.finding import FindingScreen
from kspm_tui.tui.screens.namespace import NamespaceScreen
from kspm_tui.tui.screens.paths import PathsScreen
from kspm_tui.tui.screens.rbac import RbacScreen
from kspm_tui.tui.screens.rules import RulesScreen
from kspm_tui.tui.screens.workload import WorkloadScreen
from tests.tui_helpers import move_to, run_async, screen_text, wait_for, wait_scanned

OSC52 = "\x1b]52;c;cm0gLXJmIH4K\x07"  # writes "rm -rf ~" to the clipboard
TITLE = "\x1b]0;pwned\x07"
CSI = "\x1b[2J"
C1 = "\x9b31m"
BIDI = "\u202e"
ZW = "\u200b"
# What may never reach a terminal raw: C0 (but line feed), DEL, C1, bidi controls, zero-width.
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
VISIBLE = ("\\x1b]52;c;", "\\x1b]0;pwned\\x07", "\\u202e", "\\x9b31m", "\\u200b")

NS = f"ops{TITLE}"
NAME = f"web{OSC52}"
HOSTILE = {
    "Namespace": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS, "labels": {"team": CSI}}},
    "Deployment": {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": NAME, "namespace": NS, "labels": {"app": f"a{C1}"},
                     "annotations": {"kspm-tui.io/accept": f"K8S-IMAGE-PULL-POLICY legacy {TITLE}{BIDI}gpj.exe"}},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"serviceAccountName": f"sa{ZW}", "hostPID": True, "containers": [
                {"name": f"c{BIDI}1", "image": f"nginx{ZW}:latest{C1}",
                 "securityContext": {"privileged": True}}]}}}},
    "ServiceAccount": {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": f"sa{ZW}", "namespace": NS}},
    "Service": {"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"lb{CSI}", "namespace": NS},
                "spec": {"type": "LoadBalancer", "selector": {"app": "web"}, "ports": [{"port": 80}]}},
    "ClusterRoleBinding": {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": f"admin{OSC52}"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "ServiceAccount", "name": f"sa{ZW}", "namespace": NS},
                     {"kind": "User", "name": f"mallory{BIDI}{C1}"}]},
}
EXCEPTIONS = {"exceptions": [{"rule": "K8S-PRIVILEGED", "namespace": NS, "name": NAME,
                              "reason": f"approved {OSC52}{BIDI}", "owner": f"eve{TITLE}",
                              "expires": "2099-12-31"}]}
RULE = {"id": "K8S-HOSTILE-TEST", "title": f"hostile title {TITLE}", "severity": "high", "category": "Workload hygiene",
        "scope": "object", "match": {"kinds": ["Deployment"]}, "check": "false",
        "message": f"message {OSC52}{BIDI}", "why": f"why {C1}{ZW}"}
BROKEN_RULE = {"id": f"K8S-BROKEN{CSI}", "title": "broken", "severity": "low", "category": "Workload hygiene",
               "scope": "object", "match": {"kinds": ["Deployment"]}, "check": f"object.{OSC52} ==",
               "message": "x", "why": "x"}


def write_inputs(root: Path) -> dict[str, Path]:
    manifests = root / "manifests"
    manifests.mkdir()
    (manifests / "cluster.yaml").write_text(yaml.safe_dump_all(HOSTILE.values()), encoding="utf-8")
    # a file whose name and content make input errors that quote both
    (manifests / f"bad{TITLE}.yaml").write_text(f"kind: [unclosed {C1}\n", encoding="utf-8")
    rules = root / "rules"
    rules.mkdir()
    (rules / "hostile.yaml").write_text(yaml.safe_dump(RULE), encoding="utf-8")
    (rules / "broken.yaml").write_text(yaml.safe_dump(BROKEN_RULE), encoding="utf-8")
    exceptions = root / "exceptions.yaml"
    exceptions.write_text(yaml.safe_dump(EXCEPTIONS), encoding="utf-8")
    return {"manifests": manifests, "rules": rules, "exceptions": exceptions}


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, Path]:
    return write_inputs(tmp_path)


def assert_safe(text: str, where: str, *, shown: int = 1) -> None:
    """No raw control character; at least `shown` of the hostile strings visible as escapes."""
    raw = sorted({repr(m) for m in RAW.findall(text)})
    assert not raw, f"{where}: raw {raw} reached the output"
    seen = [v for v in VISIBLE if v in text]
    assert len(seen) >= shown, f"{where}: the hostile text is not shown (only {seen})"


def scan_args(inputs: dict[str, Path], *extra: str) -> list[str]:
    return ["scan", str(inputs["manifests"]), "--rules", str(inputs["rules"]),
            "--exceptions", str(inputs["exceptions"]), *extra]


@pytest.mark.parametrize("fmt", ["table", "markdown", "html", "csv"])
def test_human_formats_show_escapes_never_send_them(run_cli, inputs, fmt: str) -> None:
    result = run_cli(*scan_args(inputs, "-o", fmt))
    assert result.code in (0, 2), result.stderr
    assert_safe(result.stdout, f"scan -o {fmt}", shown=3)
    assert not RAW.findall(result.stderr), result.stderr
    if fmt == "table":
        assert "\\x1b]0;pwned\\x07" in result.stderr or "\\x1b]0;pwned\\x07" in result.stdout  # the bad file
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(result.stdout)))
        assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows[1:] for cell in row)
    if fmt == "markdown":
        assert "<img" not in result.stdout and "](http" not in result.stdout


def test_markdown_and_csv_escape_their_own_syntax(run_cli, tmp_path: Path) -> None:
    """A message that is a Markdown link and HTML tag, a name that is a spreadsheet formula."""
    root = tmp_path / "m"
    root.mkdir()
    deploy = {"apiVersion": "apps/v1", "kind": "Deployment",
              "metadata": {"name": "=HYPERLINK(\"http://x\")", "namespace": "# | [x](http://e) <img src=x>"},
              "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}},
                       "spec": {"containers": [{"name": "`c`|", "image": "nginx:1",
                                                "securityContext": {"privileged": True}}]}}}}
    (root / "d.yaml").write_text(yaml.safe_dump(deploy), encoding="utf-8")
    md = run_cli("scan", str(root), "-o", "markdown").stdout
    assert "'# \\| \\[x\\](http://e) \\<img src=x\\>'" in md  # the guidance quoting the namespace
    rows = [line for line in md.splitlines() if "HYPERLINK" in line and line.startswith("|")]  # table rows
    assert rows and all(line.count(" | ") == 4 for line in rows), rows  # pipes inside cells escaped
    table = list(csv.DictReader(io.StringIO(run_cli("scan", str(root), "-o", "csv").stdout)))
    assert table and {row["name"] for row in table} == {"'=HYPERLINK(\"http://x\")"}


@pytest.mark.parametrize("fmt", ["json", "sarif", "policyreport"])
def test_data_formats_keep_exact_values(run_cli, inputs, fmt: str) -> None:
    result = run_cli(*scan_args(inputs, "-o", fmt))
    assert result.code in (0, 2), result.stderr
    assert not re.search("[\x00-\x1f]", result.stdout.replace("\n", "")), "a raw C0 control in JSON"
    data = list(yaml.safe_load_all(result.stdout)) if fmt == "policyreport" else json.loads(result.stdout)
    text = json.dumps(data)
    assert json.dumps(NAME)[1:-1] in text  # the exact name, as data


@pytest.mark.parametrize("command", [
    ["rules", "list"], ["rules", "show", "K8S-HOSTILE-TEST"], ["exceptions"],
    ["rbac", "who-can", "get", "secrets"], ["rbac", "subjects"], ["rbac", "paths", "--internal"],
    ["rbac", "show", "--"],
], ids=lambda c: " ".join(c[:2]))
def test_cli_commands_show_escapes_never_send_them(run_cli, inputs, command: list[str]) -> None:
    args = list(command)
    if args[0] == "rules":
        args[1:1] = ["--rules", str(inputs["rules"])]
    elif args[0] == "exceptions":
        args += [str(inputs["manifests"]), "--exceptions", str(inputs["exceptions"])]
    elif args[:2] == ["rbac", "show"]:
        args = ["rbac", "show", f"User:mallory{BIDI}{C1}", str(inputs["manifests"])]
    else:
        args.append(str(inputs["manifests"]))
    result = run_cli(*args)
    assert result.code in (0, 1, 2), result.stderr
    assert_safe(result.stdout + result.stderr, " ".join(command))


def test_history_and_diff_show_escapes_never_send_them(run_cli, inputs) -> None:
    assert run_cli(*scan_args(inputs, "-o", "json")).code in (0, 2)
    changed = dict(HOSTILE)
    changed["Pod"] = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"new{OSC52}", "namespace": NS},
                      "spec": {"containers": [{"name": "x", "image": f"evil{BIDI}:1",
                                               "securityContext": {"privileged": True}}]}}
    (inputs["manifests"] / "cluster.yaml").write_text(yaml.safe_dump_all(changed.values()), encoding="utf-8")
    assert run_cli(*scan_args(inputs, "-o", "json")).code in (0, 2)
    for command in (["history"], ["diff"]):
        result = run_cli(*command)
        assert result.code == 0, result.stderr
        assert not RAW.findall(result.stdout + result.stderr), command
    assert_safe(run_cli("diff").stdout, "diff")


# -- the explorer ----------------------------------------------------------------------------

def assert_screen_safe(app: KspmApp, where: str, *, shown: int = 1) -> None:
    svg = app.export_screenshot()
    text = screen_text(app)
    assert not RAW.findall(svg), f"{where}: raw control characters on screen"
    assert_safe(text, where, shown=shown)


async def jump(pilot: Any, app: KspmApp, where: str, screen: type) -> None:
    await pilot.press("colon", *where, "enter")
    await wait_for(pilot, lambda: isinstance(app.screen, screen))


@run_async
async def test_every_explorer_screen_shows_escapes_never_sends_them(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("KSPM_TUI_CLIPBOARD", "osc52")  # the copy path an attacker would aim at
    paths = write_inputs(tmp_path)
    (paths["manifests"] / f"bad{TITLE}.yaml").unlink()
    settings = ScanSettings(rules_dirs=[paths["rules"]], exception_files=[paths["exceptions"]], include_system=True)
    app = KspmApp(Target("paths", paths=(str(paths["manifests"]),)), settings=settings)
    copied: list[str] = []
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_scanned(pilot, app)
        assert_screen_safe(app, "overview")
        await move_to(pilot, app.screen.table, lambda row: getattr(row, "name", None) == NS)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, NamespaceScreen))
        assert_screen_safe(app, "namespace", shown=2)
        await move_to(pilot, app.screen.table, lambda row: getattr(row, "name", None) == NAME)
        await pilot.press("c")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, WorkloadScreen))
        assert_screen_safe(app, "workload", shown=2)
        await move_to(pilot, app.screen.table, lambda row: getattr(row, "rule", None) == "K8S-READONLY-ROOT-FILESYSTEM")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, FindingScreen))
        for tab in range(3):
            assert_screen_safe(app, f"finding tab {tab}", shown=2)
            await pilot.press("c")
            await pilot.press("tab")
            await pilot.pause()
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, WorkloadScreen))
        await jump(pilot, app, "rule K8S-HOSTILE-TEST", ByRuleScreen)
        assert_screen_safe(app, "by rule", shown=2)
        await pilot.press("c")
        await jump(pilot, app, "rules HOSTILE", RulesScreen)
        assert_screen_safe(app, "rules")
        await jump(pilot, app, "rbac", RbacScreen)
        await wait_for(pilot, lambda: app.screen.analysis is not None)
        assert_screen_safe(app, "rbac", shown=2)
        await jump(pilot, app, "paths", PathsScreen)
        await wait_for(pilot, lambda: app.screen.analysis is not None)
        assert_screen_safe(app, "paths", shown=2)
        await pilot.press("c")
        from kspm_tui.tui.screens.drift import DriftScreen
        from kspm_tui.tui.screens.exceptions import ExceptionsScreen

        await jump(pilot, app, "exceptions", ExceptionsScreen)
        assert_screen_safe(app, "exceptions")
        await jump(pilot, app, "drift", DriftScreen)
        assert not RAW.findall(app.export_screenshot())
        app.notify(f"hostile {OSC52}", title=TITLE)
        await pilot.pause()
        [note] = [n for n in app._notifications if "hostile" in n.message]
        assert_safe(note.message + note.title, "notification", shown=2)
        assert not RAW.findall(app.export_screenshot())
    assert copied, "nothing was copied"
    for text in copied:
        assert not RAW.findall(text.replace("\n", "")), f"raw control characters copied: {text!r}"


def hostile_kubeconfig(path: Path) -> Path:
    """A kubeconfig whose context, cluster, user and namespace names hold escapes."""
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": f"prod{OSC52}",
        "clusters": [{"name": f"eu{TITLE}", "cluster": {"server": "https://127.0.0.1:1"}}],
        "users": [{"name": f"ops{BIDI}", "user": {"token": "not-a-real-token"}}],
        "contexts": [{"name": f"prod{OSC52}", "context": {"cluster": f"eu{TITLE}", "user": f"ops{BIDI}",
                                                        "namespace": f"shop{C1}"}}],
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def test_contexts_command_shows_escapes_never_sends_them(run_cli, tmp_path: Path) -> None:
    config = hostile_kubeconfig(tmp_path / "kubeconfig")
    result = run_cli("contexts", env={"KUBECONFIG": str(config)})
    assert result.code == 0, result.stderr
    assert_safe(result.stdout, "contexts", shown=3)


@run_async
async def test_contexts_screen_shows_escapes_never_sends_them(tmp_path: Path, monkeypatch) -> None:
    from kspm_tui.tui.screens.contexts import ContextsScreen

    monkeypatch.setenv("KUBECONFIG", str(hostile_kubeconfig(tmp_path / "kubeconfig")))
    app = KspmApp()
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ContextsScreen))
        assert_screen_safe(app, "contexts", shown=2)


def test_rich_markup_in_names_stays_text_on_a_colour_terminal(tmp_path: Path) -> None:
    """On a real terminal the table report is coloured; a message carrying Rich markup must
    not become a hyperlink (OSC 8) or any other escape of ours."""
    from kspm_tui.report.table import render
    from kspm_tui.scan import scan
    from kspm_tui.sources.files import read_paths

    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yaml").write_text(yaml.safe_dump({**RULE, "message": "[link=https://evil.example]x[/link] [blink]"}))
    (tmp_path / "d.yaml").write_text(yaml.safe_dump(HOSTILE["Deployment"] | {"metadata": {"name": "web", "namespace": "s"}}))
    result = scan(read_paths([str(tmp_path / "d.yaml")]), ScanSettings(rules_dirs=[rules]))
    text = render(result, width=200, color=True)
    assert "[link=https://evil.example]x[/link]" in text
    assert "\x1b]8;" not in text and "\x1b[5m" not in text
    assert not RAW.findall(re.sub(r"\x1b\[[0-9;]*m", "", text))
