"""Nothing in a manifest or a cluster can attack the operator (issue 14, inputs half).

Each case is an attack tried the way an attacker would (all on loopback or in tmp_path), and
asserts what the user sees: exit codes, error lines, reports, files left behind.
"""

from __future__ import annotations

import json
import os
import socket
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kspm_tui.sources.files import read_text

POD = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: shop\nspec:\n"
       "  containers:\n  - name: c\n    image: nginx:1.25\n    securityContext:\n      privileged: true\n")


def _billion_laughs() -> str:
    """The classic bomb: nine levels of nine aliases, 9^9 strings once expanded (under 500 bytes)."""
    lines = ["apiVersion: v1", "kind: ConfigMap", "metadata: {name: lol, namespace: shop}", "data:",
             '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    names = "abcdefghi"
    for prev, name in pairwise(names):
        lines.append(f"  {name}: &{name} [" + ",".join(f"*{prev}" for _ in range(9)) + "]")
    return "\n".join(lines) + "\n"


def _input_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("input error:")]


# --- parsing bounded -------------------------------------------------------------------------

def test_alias_bomb_is_one_input_error_naming_file_and_document_and_the_rest_is_scanned(
        run_cli, tmp_path: Path) -> None:
    bomb = _billion_laughs()
    assert len(bomb.encode()) < 500
    (tmp_path / "a-bomb.yaml").write_text(POD.format(name="before") + "---\n" + bomb
                                          + "---\n" + POD.format(name="after"))
    (tmp_path / "b-good.yaml").write_text(POD.format(name="other"))
    res = run_cli("scan", str(tmp_path), "-o", "json")
    assert res.code == 2, res.stderr
    errors = json.loads(res.stdout)["errors"]
    assert len(errors) == 1
    assert errors[0]["file"].endswith("a-bomb.yaml") and errors[0]["document"] == 2
    assert "alias bomb" in errors[0]["message"]
    [line] = _input_errors(res.stderr)
    assert "a-bomb.yaml document 2" in line and "alias bomb" in line
    names = {f["name"] for f in json.loads(res.stdout)["findings"] if f["rule"] == "K8S-PRIVILEGED"}
    assert names == {"before", "after", "other"}


def test_alias_bomb_inside_a_pod_template_never_reaches_template_hashing(run_cli, tmp_path: Path) -> None:
    """Identical templates are hashed as JSON: the bomb must be refused before it is expanded."""
    level = ['  - &e0 {name: E, value: "lol"}']
    for i in range(1, 12):
        level.append(f"  - &e{i} [" + ",".join(f"*e{i - 1}" for _ in range(9)) + "]")
    deploy = ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n"
              "  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n"
              "    spec:\n      containers:\n      - name: c\n        image: nginx:1.25\n        args:\n"
              + "\n".join("    " + line for line in level) + "\n")
    (tmp_path / "deploy.yaml").write_text(deploy + "---\n" + POD.format(name="still"))
    res = run_cli("scan", str(tmp_path / "deploy.yaml"), "-o", "json")
    assert res.code == 2
    doc = json.loads(res.stdout)
    assert [e["document"] for e in doc["errors"]] == [1] and "alias bomb" in doc["errors"][0]["message"]
    assert {f["name"] for f in doc["findings"]} == {"still"}


def test_ordinary_anchors_and_aliases_still_load(run_cli, tmp_path: Path) -> None:
    text = ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n"
            "  selector: {matchLabels: &labels {app: web}}\n  template:\n    metadata: {labels: *labels}\n"
            "    spec:\n      containers:\n      - &c {name: a, image: 'nginx:1.25', securityContext: "
            "{privileged: true}}\n")
    (tmp_path / "web.yaml").write_text(text)
    res = run_cli("scan", str(tmp_path / "web.yaml"), "-o", "json")
    assert res.code == 0, res.stderr
    assert any(f["rule"] == "K8S-PRIVILEGED" for f in json.loads(res.stdout)["findings"])


def test_recursive_alias_and_too_many_aliases_are_input_errors(tmp_path: Path) -> None:
    recursive = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: r}\ndata: &d {k: *d}\n"
    many = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\nx: &x [1]\nitems:\n"
            + "".join("- *x\n" for _ in range(10_001)))
    got = read_text((recursive + "---\n" + many).encode(), "hostile.yaml")
    assert not got.objects
    assert [(e.document, e.message) for e in got.errors] == [
        (1, "invalid YAML: an alias refers to a node that contains it (recursive YAML)"),
        (2, "invalid YAML: more than 10,000 aliases in one document"),
    ]


def test_fifo_device_and_socket_paths_are_refused_and_the_rest_scanned(run_cli, tmp_path: Path) -> None:
    fifo = tmp_path / "manifests.fifo"
    os.mkfifo(fifo)  # no writer: opening it for reading would block for ever
    sock_path = tmp_path / "s.sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    good = tmp_path / "pod.yaml"
    good.write_text(POD.format(name="good"))
    try:
        res = run_cli("scan", str(fifo), "/dev/zero", str(sock_path), str(good), "-o", "json")
    finally:
        sock.close()
    assert res.code == 2
    doc = json.loads(res.stdout)
    assert [(e["file"], e["message"].split(",")[0]) for e in doc["errors"]] == [
        (str(fifo), "a FIFO (named pipe)"), ("/dev/zero", "a character device"), (str(sock_path), "a socket")]
    assert all("not a regular file" in e["message"] for e in doc["errors"])
    assert f"input error: {fifo}: a FIFO (named pipe), not a regular file: not read" in res.stderr
    assert {f["name"] for f in doc["findings"]} == {"good"}


def test_directory_walk_skips_fifos(run_cli, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "trap.yaml")
    (tmp_path / "pod.yaml").write_text(POD.format(name="good"))
    res = run_cli("scan", str(tmp_path), "-o", "json")
    assert res.code == 0, res.stderr
    assert {f["name"] for f in json.loads(res.stdout)["findings"]} == {"good"}


def test_file_and_stdin_size_cap_with_a_flag_to_raise_it(run_cli, tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text(POD.format(name="big") + "# padding\n" * 200)  # ~2.3 KB
    small = tmp_path / "small.yaml"
    small.write_text(POD.format(name="small"))
    res = run_cli("scan", str(big), str(small), "-o", "json", "--max-file-size", "1KiB")
    assert res.code == 2
    doc = json.loads(res.stdout)
    assert [(e["file"], e["message"]) for e in doc["errors"]] == [
        (str(big), "larger than 1 KiB: not read (raise the limit with --max-file-size)")]
    assert {f["name"] for f in doc["findings"]} == {"small"}
    raised = run_cli("scan", str(big), "-o", "json", "--max-file-size", "4Ki")
    assert raised.code == 0 and not json.loads(raised.stdout)["errors"]
    piped = run_cli("scan", "-", "-o", "json", "--max-file-size", "1KiB", stdin=big.read_text())
    assert [e["file"] for e in json.loads(piped.stdout)["errors"]] == ["<stdin>"]
    bad = run_cli("scan", str(small), "--max-file-size", "lots")
    assert bad.code == 2 and "invalid size 'lots'" in bad.stderr


def test_stdin_from_an_endless_stream_stops_at_the_cap(tmp_path: Path) -> None:
    import subprocess
    import sys

    with open("/dev/zero", "rb") as zero:
        proc = subprocess.run([sys.executable, "-m", "kspm_tui", "scan", "-", "--max-file-size", "1MiB",
                               "-o", "json"], stdin=zero, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 2
    [error] = json.loads(proc.stdout)["errors"]
    assert error["file"] == "<stdin>" and error["message"].startswith("larger than 1 MiB")


_VALID = POD.format(name="fuzz")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    st.text(alphabet=st.sampled_from(list("&*!|>-:[]{},'\"#%@` \n\tab01?~.<=")), max_size=200),
    st.tuples(st.integers(0, len(_VALID)), st.integers(0, 40), st.text(max_size=30)).map(
        lambda t: _VALID[: t[0]] + t[2] + _VALID[t[0] + t[1]:]),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
))
def test_fuzzed_yaml_never_crashes_only_objects_or_named_errors(text: str) -> None:
    got = read_text(text.encode("utf-8", "surrogatepass"), "fuzz.yaml")  # never raises
    for err in got.errors:
        assert err.file == "fuzz.yaml" and err.message
    for item in got.objects:
        assert isinstance(item.obj, dict) and isinstance(item.obj["metadata"]["name"], str)


# --- --output writes through -----------------------------------------------------------------

def test_output_writes_through_a_symlink_and_keeps_it(run_cli, tmp_path: Path) -> None:
    target = tmp_path / "reports" / "scan.json"
    target.parent.mkdir()
    target.write_text("old")
    target.chmod(0o644)
    link = tmp_path / "latest.json"
    link.symlink_to(target)
    res = run_cli("scan", "--demo", "-o", "json", "--output", str(link))
    assert res.code == 0, res.stderr
    assert link.is_symlink() and link.resolve() == target
    assert json.loads(target.read_text())["cluster"]["name"] == "demo"
    assert target.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in target.parent.iterdir()) == ["scan.json"]  # no temp file left


def test_output_to_dev_stdout_writes_to_the_stream(run_cli) -> None:
    was_link = os.path.islink("/dev/stdout")
    res = run_cli("scan", "--demo", "-o", "json", "--output", "/dev/stdout")
    assert res.code == 0, res.stderr
    assert json.loads(res.stdout)["cluster"]["name"] == "demo"
    assert os.path.islink("/dev/stdout") == was_link


def test_output_to_a_fifo_is_streamed_to_its_reader(run_cli, tmp_path: Path) -> None:
    import threading

    fifo = tmp_path / "report.pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    res = run_cli("scan", "--demo", "-o", "json", "--output", str(fifo))
    reader.join()
    assert res.code == 0, res.stderr
    assert fifo.exists() and not fifo.is_file()  # still the FIFO, not replaced by a file
    assert json.loads(received[0])["cluster"]["name"] == "demo"


def test_output_to_a_directory_is_a_clear_error(run_cli, tmp_path: Path) -> None:
    res = run_cli("scan", "--demo", "-o", "json", "--output", str(tmp_path))
    assert res.code == 2
    assert res.stderr.strip().splitlines()[-1] == f"kspm-tui scan: cannot write {tmp_path}: Is a directory"


# --- self-waivers bounded --------------------------------------------------------------------

def _annotated(name: str, value: str, owner: str | None = None) -> str:
    notes = f"    kspm-tui.io/accept: {json.dumps(value)}\n"
    if owner is not None:
        notes += f"    kspm-tui.io/accept-owner: {json.dumps(owner)}\n"
    return (f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: shop\n  annotations:\n{notes}"
            "spec:\n  hostNetwork: true\n  containers:\n  - name: c\n    image: nginx:1.25\n"
            "    securityContext:\n      privileged: true\n")


def _statuses(doc: dict, name: str) -> dict[str, str]:
    return {f["rule"]: f["status"] for f in doc["findings"] if f["name"] == name}


def test_glob_in_the_accept_annotation_accepts_nothing_and_is_an_error_on_that_object(
        run_cli, tmp_path: Path) -> None:
    (tmp_path / "pod.yaml").write_text(_annotated("evil", "K8S-* we are special"))
    res = run_cli("scan", str(tmp_path / "pod.yaml"), "--fail-on", "low", "-o", "json")
    assert res.code == 2  # not 0: the waiver is an error, and the findings still fail
    doc = json.loads(res.stdout)
    assert set(_statuses(doc, "evil").values()) == {"fail"}
    assert doc["summary"]["self_waived"] == 0
    assert "exceptions: annotation kspm-tui.io/accept: Pod/shop/evil: kspm-tui.io/accept must name rule ids, " \
           "not patterns: K8S-* ignored" in res.stderr


def test_annotation_cannot_accept_a_critical_finding_unless_configured(run_cli, tmp_path: Path,
                                                                       user_dirs: Path) -> None:
    (tmp_path / "pod.yaml").write_text(_annotated("dbg", "K8S-PRIVILEGED,K8S-HOST-NAMESPACES node debugging"))
    res = run_cli("scan", str(tmp_path / "pod.yaml"), "-o", "json")
    doc = json.loads(res.stdout)
    statuses = _statuses(doc, "dbg")
    assert statuses["K8S-PRIVILEGED"] == "fail"  # critical: refused
    assert statuses["K8S-HOST-NAMESPACES"] == "accepted"  # high: the object may waive it
    assert doc["summary"]["self_waived"] == 1
    assert "Pod/shop/dbg: cannot accept its own critical finding K8S-PRIVILEGED" in res.stderr
    assert res.code == 2
    listed = run_cli("exceptions", str(tmp_path / "pod.yaml"), "-o", "json")
    assert [(r["origin"], r["matches"]) for r in json.loads(listed.stdout)] == [("annotation on Pod/shop/dbg", 1)]
    (user_dirs / "config").mkdir(parents=True, exist_ok=True)
    (user_dirs / "config" / "config.yaml").write_text("annotation_exceptions: {allow_critical: true}\n")
    allowed = run_cli("scan", str(tmp_path / "pod.yaml"), "-o", "json")
    assert allowed.code == 0, allowed.stderr
    doc = json.loads(allowed.stdout)
    assert _statuses(doc, "dbg")["K8S-PRIVILEGED"] == "accepted" and doc["summary"]["self_waived"] == 2


def test_self_waiver_carries_owner_and_reason_and_the_table_counts_it(run_cli, tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(_annotated("a", "K8S-HOST-NAMESPACES needs the node's network", owner="team-net"))
    (tmp_path / "b.yaml").write_text(_annotated("b", "K8S-HOST-NAMESPACES same here"))
    doc = json.loads(run_cli("scan", str(tmp_path), "-o", "json").stdout)
    acceptance = {f["name"]: f["acceptance"] for f in doc["findings"] if f["rule"] == "K8S-HOST-NAMESPACES"}
    assert acceptance["a"]["owner"] == "team-net" and acceptance["a"]["reason"] == "needs the node's network"
    assert acceptance["b"]["owner"] == "annotation on Pod/shop/b"
    assert acceptance["a"]["self_waiver"] is True and acceptance["a"]["origin"] == "annotation on Pod/shop/a"
    table = run_cli("scan", str(tmp_path))
    assert "2 findings accepted by an annotation on their own object" in table.stdout
    assert "team-net" in table.stdout


def test_no_annotation_exceptions_flag_and_config_key_ignore_them_for_ci_gates(
        run_cli, tmp_path: Path, user_dirs: Path) -> None:
    (tmp_path / "pod.yaml").write_text(_annotated("a", "K8S-HOST-NAMESPACES needs the node's network"))
    path = str(tmp_path / "pod.yaml")
    gate = ("--only", "K8S-HOST-NAMESPACES", "--fail-on", "high")
    assert run_cli("scan", path, *gate).code == 0
    flagged = run_cli("scan", path, *gate, "-o", "json", "--no-annotation-exceptions")
    assert flagged.code == 1
    assert json.loads(flagged.stdout)["summary"]["self_waived"] == 0
    (user_dirs / "config").mkdir(parents=True, exist_ok=True)
    (user_dirs / "config" / "config.yaml").write_text("annotation_exceptions: {enabled: false}\n")
    assert run_cli("scan", path, *gate).code == 1


# --- credentials -----------------------------------------------------------------------------

EXEC_API = "client.authentication.k8s.io/v1"


def _plugin(tmp_path: Path, name: str, body: str) -> dict:
    script = tmp_path / name
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(0o755)
    return {"exec": {"apiVersion": EXEC_API, "command": str(script), "interactiveMode": "Never"}}


def _kubeconfig_of(path: Path, *configs: dict) -> Path:
    """One kubeconfig holding every context of `configs` (each from ApiServer.kubeconfig)."""
    import yaml

    merged = {"apiVersion": "v1", "kind": "Config", "current-context": configs[0]["current-context"],
              "clusters": [], "users": [], "contexts": []}
    for config in configs:
        for key in ("clusters", "users", "contexts"):
            merged[key] += config[key]
    path.write_text(yaml.safe_dump(merged))
    return path


def test_hanging_exec_plugin_is_killed_at_the_request_timeout_with_one_line(serve, run_cli, tmp_path: Path) -> None:
    server = serve()
    pidfile = tmp_path / "plugin.pid"
    user = _plugin(tmp_path, "hang-login", f"echo $$ > {pidfile}\nexec sleep 600\n")
    config = _kubeconfig_of(tmp_path / "kubeconfig", server.kubeconfig(user=user))
    res = run_cli("scan", "--context", "test", "--kubeconfig", str(config), "--request-timeout", "2")
    assert res.code == 3
    [line] = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert line == ("kspm-tui: context 'test': getting credentials failed (exec plugin 'hang-login' gave no "
                    "credentials within 2s (it may be waiting for an interactive login)): run the login "
                    "command by hand (or fix the kubeconfig user), then retry")
    pid = int(pidfile.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the plugin was killed, not left behind


def test_all_contexts_reports_the_hung_one_and_returns_the_good_ones(serve, run_cli, tmp_path: Path) -> None:
    server = serve()
    hung = _plugin(tmp_path, "hang-login", "exec sleep 600\n")
    config = _kubeconfig_of(tmp_path / "kubeconfig", server.kubeconfig(context="alpha"),
                            server.kubeconfig(context="hung", user=hung), server.kubeconfig(context="omega"))
    res = run_cli("scan", "--all-contexts", "--kubeconfig", str(config), "--request-timeout", "2", "-o", "json")
    assert res.code == 3  # one context could not be scanned
    assert [doc["cluster"]["context"] for doc in json.loads(res.stdout)] == ["alpha", "omega"]
    [line] = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert line.startswith("kspm-tui: context 'hung': getting credentials failed (exec plugin 'hang-login' gave "
                           "no credentials within 2s")


def test_exec_plugin_stderr_is_one_redacted_line(serve, run_cli, tmp_path: Path) -> None:
    server = serve()
    user = _plugin(tmp_path, "leaky-login", "echo 'login failed: token=s3cr3t-v4lue-123 rejected' >&2\n"
                                            "echo 'debug: password=hunter2' >&2\necho 'more noise' >&2\nexit 1\n")
    config = _kubeconfig_of(tmp_path / "kubeconfig", server.kubeconfig(user=user))
    res = run_cli("scan", "--context", "test", "--kubeconfig", str(config))
    assert res.code == 3
    [line] = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert "exec plugin 'leaky-login' exited with 1: login failed: <redacted: " in line
    assert "s3cr3t" not in res.stderr and "hunter2" not in res.stderr and "more noise" not in res.stderr


def test_server_url_userinfo_is_never_printed(serve, run_cli, tmp_path: Path, user_dirs: Path) -> None:
    server = serve()
    # A password no file of ours holds: the rule pack (cached in the user's cache dir) has `hunter2` fixtures.
    secret_url = server.url.replace("https://", "https://admin:url-pw-7f3e@")
    config = _kubeconfig_of(tmp_path / "kubeconfig", server.kubeconfig(server=secret_url))
    outputs = [run_cli("contexts", "--kubeconfig", str(config)),
               run_cli("contexts", "--kubeconfig", str(config), "-o", "json")]
    scanned = run_cli("scan", "--context", "test", "--kubeconfig", str(config), "-o", "json")
    outputs.append(scanned)
    assert json.loads(scanned.stdout)["cluster"]["server"] == server.url
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    dead = _kubeconfig_of(tmp_path / "dead", server.kubeconfig(server=f"https://admin:url-pw-7f3e@127.0.0.1:{port}"))
    unreachable = run_cli("scan", "--context", "test", "--kubeconfig", str(dead), "--request-timeout", "2")
    assert unreachable.code == 3 and f"https://127.0.0.1:{port}" in unreachable.stderr
    outputs.append(unreachable)
    outputs.append(run_cli("history", "list"))
    assert server.url in outputs[0].stdout
    for res in outputs:
        assert "url-pw-7f3e" not in res.stdout + res.stderr
    saved = [p.read_bytes() for p in user_dirs.rglob("*") if p.is_file()]
    assert saved and not any(b"url-pw-7f3e" in data for data in saved)


def test_insecure_skip_tls_verify_is_one_notice_of_our_own(serve, run_cli, tmp_path: Path) -> None:
    server = serve()
    config = server.kubeconfig()
    del config["clusters"][0]["cluster"]["certificate-authority-data"]
    config["clusters"][0]["cluster"]["insecure-skip-tls-verify"] = True
    path = _kubeconfig_of(tmp_path / "kubeconfig", config)
    res = run_cli("scan", "--context", "test", "--kubeconfig", str(path), "-o", "json")
    assert res.code == 0, res.stderr
    assert json.loads(res.stdout)["summary"]["objects"] > 0
    notice = (f"kspm-tui: warning: context 'test' skips TLS verification (insecure-skip-tls-verify): "
              f"the identity of {server.url} is not checked")
    assert [ln for ln in res.stderr.splitlines() if ln.strip()] == [notice]
    _explorer_says_once(path, notice.removeprefix("kspm-tui: warning: "))


def _explorer_says_once(kubeconfig: Path, notice: str) -> None:
    """The explorer scanning the same context shows the same notice, once, as a warning."""
    from kspm_tui.target import Target
    from kspm_tui.tui.app import KspmApp
    from tests.tui_helpers import run_async, wait_scanned

    @run_async
    async def scenario() -> None:
        app = KspmApp(Target("context", context="test", kubeconfig=str(kubeconfig)))
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_scanned(pilot, app)
            said = [n for n in app._notifications if n.message == notice]
            assert len(said) == 1 and said[0].severity == "warning"

    scenario()


# --- honest exits ----------------------------------------------------------------------------

def test_partial_scan_exits_4_unless_allowed(serve, kubeconfig, run_cli) -> None:
    server = serve()
    server.forbidden.add("clusterrolebindings")
    config = str(kubeconfig(server))
    res = run_cli("scan", "--context", "test", "--kubeconfig", config)
    assert res.code == 4
    assert "coverage: cannot list clusterrolebindings (403 Forbidden)" in res.stdout
    assert run_cli("scan", "--context", "test", "--kubeconfig", config, "--allow-partial").code == 0
    gated = run_cli("scan", "--context", "test", "--kubeconfig", config, "--fail-on", "critical")
    assert gated.code == 1  # failing findings still say so first


def test_server_dying_mid_scan_exits_4(serve, kubeconfig, run_cli) -> None:
    server = serve()
    server.faults.die_after_lists = 6
    res = run_cli("scan", "--context", "test", "--kubeconfig", str(kubeconfig(server)), "-o", "json")
    assert res.code == 4
    assert json.loads(res.stdout)["cluster"]["partial"] is True


# --- secrets in the explorer's manifest views -------------------------------------------------

SECRET_DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: billing
  namespace: shop
spec:
  selector: {matchLabels: {app: billing}}
  template:
    metadata: {labels: {app: billing}}
    spec:
      containers:
      - name: app
        image: billing:1.0
        args: ["--db-password", "hunter2-arg", "--verbose"]
        env:
        - {name: DB_PASSWORD, value: hunter2-env}
        - {name: LOG_LEVEL, value: debug}
        securityContext: {privileged: true}
"""


def test_diff_tab_and_its_copy_redact_secrets_like_evidence(tmp_path: Path) -> None:
    from kspm_tui.target import Target
    from kspm_tui.tui.app import KspmApp
    from kspm_tui.tui.screens.finding import FindingScreen
    from tests.tui_helpers import run_async, screen_text, wait_scanned

    (tmp_path / "billing.yaml").write_text(SECRET_DEPLOY)

    @run_async
    async def scenario() -> None:
        app = KspmApp(Target("paths", paths=(str(tmp_path),)))
        async with app.run_test(size=(130, 60)) as pilot:
            await wait_scanned(pilot, app)
            finding = next(f for f in app.scanned.result.findings
                           if f.rule == "K8S-PRIVILEGED" and f.name == "billing")
            await app.push_screen(FindingScreen(finding))
            await pilot.pause()
            await pilot.press("tab", "tab")  # the fix tabs open on the patch: patch → kubectl → Diff
            await pilot.pause()
            text = screen_text(app)
            assert "privileged: false" in text and "LOG_LEVEL" in text and "debug" in text
            assert "<redacted: 11 chars>" in text
            await pilot.press("c")
            await pilot.pause()
            copied = app.clipboard_service.last_text
            assert any("copied before/after diff" in n.message for n in app._notifications)
            assert "+" in copied and "privileged: false" in copied
            for secret in ("hunter2-env", "hunter2-arg"):
                assert secret not in text and secret not in copied

    scenario()


def test_watch_says_when_its_api_server_dies_and_keeps_retrying(serve, kubeconfig, tmp_path: Path) -> None:
    import queue
    import signal
    import subprocess
    import sys
    import threading
    import time

    server = serve()
    proc = subprocess.Popen([sys.executable, "-m", "kspm_tui", "scan", "--context", "test", "--watch",
                             "--kubeconfig", str(kubeconfig(server)), "--request-timeout", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr], daemon=True).start()

    def line_with(text: str) -> str:
        while text not in (line := lines.get(timeout=120)):
            pass
        return line

    try:
        line_with("watching context test")
        url = server.url
        server.stop()  # the API server dies
        lost = line_with("lost the API server")
        assert lost.startswith(f"kspm-tui: context 'test': lost the API server {url} (")
        assert lost.rstrip().endswith("retrying with backoff")
        time.sleep(1)  # a few backoff rounds
        assert proc.poll() is None  # still running, retrying
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(60)
    assert code == 0
    rest = "".join(iter(lambda: lines.get(timeout=5) if not lines.empty() else "", ""))
    assert "lost the API server" not in rest  # said once, not once per kind or per retry


_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=12))
_NODES = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(
        ["name", "cluster", "context", "user", "server", "namespace", "exec", "command", "contexts",
         "clusters", "users", "current-context", "token"]), inner, max_size=4)), max_leaves=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.one_of(
    st.fixed_dictionaries({"apiVersion": st.just("v1"), "kind": st.just("Config")},
                          optional={"contexts": _NODES, "clusters": _NODES, "users": _NODES,
                                    "current-context": _NODES}),
    _NODES,
))
def test_fuzzed_kubeconfig_lists_contexts_or_is_one_clear_error(tmp_path: Path, config: object) -> None:
    import yaml

    from kspm_tui.sources.kubeconfig import LiveError, list_contexts

    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    try:
        contexts = list_contexts(str(path))
    except LiveError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert all(c.name for c in contexts)
