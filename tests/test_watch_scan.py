"""The scan service's watch (watch_scan.py): accepted risks follow the exception files while watching,
and a file broken while watching is said."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from kspm_tui.scan import ScanSettings, load_ruleset
from kspm_tui.target import Target
from kspm_tui.watch_scan import FindingEvent, open_watch
from tests.watch_process import WatchProcess


def test_exception_file_edited_while_watching_applies(serve, kubeconfig, tmp_path) -> None:
    server = serve()
    exceptions = tmp_path / "exceptions.yaml"
    exceptions.write_text("exceptions: []\n")
    settings = ScanSettings(user_exceptions=False, exception_files=[exceptions])
    updates: list[int] = []
    service = open_watch(Target("context", kubeconfig=str(kubeconfig(server))), settings, load_ruleset(settings),
                         on_update=lambda scanned: updates.append(len(scanned.result.findings)))
    try:
        opened = {(e.finding.rule, e.finding.name) for e in service.start()}
        assert ("K8S-PRIVILEGED", "debug") in opened
        events: queue.Queue[FindingEvent] = queue.Queue()
        threading.Thread(target=lambda: [events.put(e) for e in service.events()], daemon=True).start()

        exceptions.write_text("exceptions:\n  - rule: K8S-PRIVILEGED\n    namespace: default\n    name: debug\n"
                              "    reason: debugging the node, removed by Friday\n    expires: 2099-01-01\n")
        server.store.put({"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": "nudge", "namespace": "default"}, "data": {}})
        deadline = time.monotonic() + 30
        while True:
            event = events.get(timeout=max(0.01, deadline - time.monotonic()))
            if (event.finding.rule, event.finding.name) == ("K8S-PRIVILEGED", "debug"):
                break
        assert event.event == "finding resolved"
        scanned = service.scanned
        assert scanned is not None and len(updates) >= 2
        debug = [f for f in scanned.result.findings if (f.rule, f.name) == ("K8S-PRIVILEGED", "debug")]
        assert [f.status.value for f in debug] == ["accepted"]
        assert scanned.result.summary.by_status.get("accepted", 0) >= 1
    finally:
        service.close()


def test_an_exceptions_file_broken_while_watching_is_said_and_its_findings_open(serve, kubeconfig,
                                                                                tmp_path) -> None:
    """Fail-closed and loud: the CLI watch re-reads `--exceptions` with each batch; a file edited
    into bad YAML accepts nothing, so the finding it accepted opens again, and stderr says why
    (once); fixed, the finding is accepted again (resolved)."""
    server = serve()
    exceptions = tmp_path / "exceptions.yaml"
    accepting = ("exceptions:\n  - rule: K8S-PRIVILEGED\n    namespace: default\n    name: debug\n"
                 "    reason: debugging the node, removed by Friday\n    expires: 2099-01-01\n")
    exceptions.write_text(accepting)
    watch = WatchProcess(kubeconfig(server), "--context", "test", "--exceptions", str(exceptions))

    def nudge(name: str) -> None:  # the file is read again with the next batch of changes
        server.store.put({"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": name, "namespace": "default"}, "data": {}})

    def debug_event(kind: str) -> Callable[[dict[str, Any]], bool]:
        return lambda e: e["event"] == kind and (e["finding"]["rule"], e["finding"]["name"]) == ("K8S-PRIVILEGED",
                                                                                                 "debug")
    try:
        watch.wait_line(r"^watching context test for changes")
        exceptions.write_text("exceptions:\n  - rule: [K8S-PRIVILEGED\n")
        nudge("first")
        line = watch.wait_line(r"exceptions: ")
        assert line.startswith(f"kspm-tui: context 'test': exceptions: {exceptions} line ")
        assert line.rstrip("\n").endswith("(accepted risks it held no longer apply)")
        watch.wait_event(debug_event("finding opened"))
        nudge("second")  # still broken: not said again
        exceptions.write_text(accepting)
        nudge("third")
        watch.wait_event(debug_event("finding resolved"))
    finally:
        watch.stop()
    assert watch.stderr_text().count(f"exceptions: {exceptions}") == 1
    debug = [e["event"] for e in map(json.loads, watch.out) if debug_event(e["event"])(e)]
    assert debug == ["finding opened", "finding resolved"]
