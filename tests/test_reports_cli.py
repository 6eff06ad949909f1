"""Triage through the real CLI: exit codes with exceptions and baselines, diff, history, --skip/--only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

# The fixture's debug pod accepts its own critical finding by annotation (see conftest).
pytestmark = pytest.mark.usefixtures("annotations_may_accept_critical")

FIXTURES = Path(__file__).parent / "fixtures" / "reports"
SHOP = str(FIXTURES / "shop.yaml")
ONLY = ("--only", "K8S-PRIVILEGED")


def test_fail_on_ignores_accepted_findings(run_cli) -> None:
    # web/app and web/sidecar are privileged; debug is accepted by its annotation
    assert run_cli("scan", SHOP, *ONLY, "--fail-on", "critical").code == 1
    app_only = FIXTURES / "exceptions.yaml"
    res = run_cli("scan", SHOP, *ONLY, "--fail-on", "critical", "--exceptions", str(app_only), "-o", "json")
    assert res.code == 1  # app is still privileged
    doc = json.loads(res.stdout)
    statuses = {(f["name"], f["container"]): f["status"] for f in doc["findings"]}
    assert statuses == {("web", "app"): "fail", ("web", "sidecar"): "accepted", ("debug", "shell"): "accepted"}
    accepted = next(f for f in doc["findings"] if f["container"] == "sidecar")["acceptance"]
    assert accepted["owner"] == "team-network" and accepted["expires"] == "2099-12-31"
    assert doc["summary"]["by_status"] == {"fail": 1, "accepted": 2}


def test_everything_accepted_passes_the_gate(run_cli, tmp_path: Path) -> None:
    exc = tmp_path / "all.yaml"
    exc.write_text("- {rule: K8S-PRIVILEGED, namespace: shop, name: web, reason: legacy, expires: 2099-01-01}\n")
    res = run_cli("scan", SHOP, *ONLY, "--fail-on", "critical", "--exceptions", str(exc))
    assert res.code == 0, res.stdout + res.stderr
    assert "Accepted risks (3 of 3)" in res.stdout and "legacy" in res.stdout and "2099-01-01" in res.stdout


def test_invalid_exceptions_file_names_file_and_entry_and_still_scans(run_cli) -> None:
    res = run_cli("scan", SHOP, *ONLY, "--exceptions", str(FIXTURES / "exceptions-mixed.yaml"), "-o", "json")
    assert res.code == 2
    assert "exceptions-mixed.yaml: entry 2 (K8S-PRIVILEGED): reason: Field required" in res.stderr
    doc = json.loads(res.stdout)
    assert len(doc["findings"]) == 3
    app = next(f for f in doc["findings"] if f["container"] == "app")
    assert app["status"] == "fail" and app["message"].endswith("(exception expired on 2021-03-01)")
    missing = run_cli("scan", SHOP, *ONLY, "--exceptions", "/nonexistent/exc.yaml")
    assert missing.code == 2 and "/nonexistent/exc.yaml: exceptions file not found" in missing.stdout


def test_baseline_fails_only_on_new_findings(run_cli, tmp_path: Path) -> None:
    base = tmp_path / "baseline.json"
    assert run_cli("scan", SHOP, *ONLY, "-o", "json", "--output", str(base)).code == 0
    same = run_cli("scan", SHOP, *ONLY, "--fail-on", "critical", "--baseline", str(base))
    assert same.code == 0 and "0 new failing findings" in same.stderr
    worse = tmp_path / "worse.yaml"
    worse.write_text(Path(SHOP).read_text() + """---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: ops}
spec:
  template:
    spec:
      containers: [{name: a, image: agent:2, securityContext: {privileged: true}}]
""")
    res = run_cli("scan", str(worse), *ONLY, "--fail-on", "critical", "--baseline", str(base))
    assert res.code == 1 and "1 new failing findings" in res.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    bad = run_cli("scan", SHOP, *ONLY, "--baseline", str(broken))
    assert bad.code == 2 and "is not JSON" in bad.stderr and "Traceback" not in bad.stderr


def test_skip_and_only_flags(run_cli) -> None:
    rules = ("--rules", str(FIXTURES / "rules"))
    both = json.loads(run_cli("scan", SHOP, *rules, "--only", "K8S-PRIVILEGED,K8S-TEST-LATEST-TAG",
                              "-o", "json").stdout)
    assert {f["rule"] for f in both["findings"]} == {"K8S-PRIVILEGED", "K8S-TEST-LATEST-TAG"}
    res = run_cli("scan", SHOP, *rules, "--only", "Image hygiene", "--skip", "K8S-PRIVILEGED", "-o", "json")
    only_images = json.loads(res.stdout)["findings"]
    assert "K8S-TEST-LATEST-TAG" in {f["rule"] for f in only_images}
    assert {f["category"] for f in only_images} == {"Image hygiene"}
    typo = run_cli("scan", SHOP, "--skip", "K8S-NOPE")
    assert typo.code == 2 and "--skip K8S-NOPE: no rule of that id" in typo.stdout


def test_diff_and_history_after_two_scans(run_cli, tmp_path: Path) -> None:
    folder = tmp_path / "k8s"
    folder.mkdir()
    manifest = folder / "shop.yaml"
    manifest.write_text(Path(SHOP).read_text())
    none_yet = run_cli("diff")
    assert none_yet.code == 2 and "no saved scans yet" in none_yet.stderr
    assert run_cli("scan", str(folder), *ONLY).code == 0
    one = run_cli("diff")
    assert one.code == 2 and "nothing to compare yet" in one.stderr
    manifest.write_text(manifest.read_text().replace("v1.30.1", "v1.31.0") + """---
apiVersion: v1
kind: Pod
metadata: {name: miner, namespace: shop}
spec:
  containers: [{name: x, image: xmrig:6, securityContext: {privileged: true}}]
""")
    assert run_cli("scan", str(folder), *ONLY).code == 0
    table = run_cli("diff")
    assert table.code == 0, table.stderr
    assert "New findings (1)" in table.stdout and "Pod/shop/miner" in table.stdout
    assert "New images (2): envoyproxy/envoy:v1.31.0, xmrig:6" in table.stdout
    doc = json.loads(run_cli("diff", "-o", "json").stdout)
    assert [f["name"] for f in doc["new_findings"]] == ["miner"]
    assert doc["removed_images"] == ["envoyproxy/envoy:v1.30.1"]
    listing = run_cli("history", "-o", "json")
    [entry] = json.loads(listing.stdout)
    assert entry["target"].startswith("manifests-") and len(entry["scans"]) == 2
    assert doc["target"] == entry["target"]
    assert run_cli("diff", "--cluster", entry["target"][:14], "--since", "1d").code == 0
    assert run_cli("diff", "--cluster", "nope").code == 2
    bad_since = run_cli("diff", "--since", "last tuesday")
    assert bad_since.code == 2 and "invalid --since" in bad_since.stderr


def test_diff_survives_a_truncated_history_file(run_cli, user_dirs: Path, tmp_path: Path) -> None:
    for _ in range(3):
        assert run_cli("scan", SHOP, *ONLY).code == 0
    files = sorted((user_dirs / "data" / "history").rglob("*.json.gz"))
    assert len(files) == 3
    files[1].write_bytes(files[1].read_bytes()[:10])
    res = run_cli("diff")
    assert res.code == 0 and "skipped" in res.stderr and "No changes." in res.stdout


def test_no_history_and_stdin_are_not_saved(run_cli, user_dirs: Path) -> None:
    run_cli("scan", SHOP, *ONLY, "--no-history")
    run_cli("scan", "-", *ONLY, stdin=Path(SHOP).read_text())
    assert not list((user_dirs / "data").rglob("*.json.gz"))


def test_exceptions_command_lists_states_and_origins(run_cli, tmp_path: Path) -> None:
    exc = tmp_path / "exc.yaml"
    exc.write_text("""exceptions:
  - {rule: K8S-PRIVILEGED, name: web, container: sidecar, reason: proxy, owner: net, expires: 2099-01-01}
  - {rule: K8S-PRIVILEGED, name: web, container: app, reason: rewrite, expires: 2021-03-01}
  - {rule: K8S-PRIVILEGED, name: gone, reason: decommissioned}
""")
    res = run_cli("exceptions", SHOP, *ONLY, "--exceptions", str(exc), "-o", "json")
    assert res.code == 0, res.stderr
    rows = [(r["state"], r["matches"], r["origin"].split("/")[-1]) for r in json.loads(res.stdout)]
    assert rows == [("active", 1, "exc.yaml entry 1"), ("expired", 1, "exc.yaml entry 2"),
                    ("unmatched", 0, "exc.yaml entry 3"), ("active", 1, "debug")]
    assert run_cli("exceptions", SHOP, *ONLY, "--exceptions", str(exc), "--fail-on-stale").code == 1
