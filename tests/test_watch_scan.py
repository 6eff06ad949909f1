"""The scan service's watch (watch_scan.py): accepted risks follow the exception files while watching."""

from __future__ import annotations

import queue
import threading
import time

from kspm_tui.scan import ScanSettings, load_ruleset
from kspm_tui.target import Target
from kspm_tui.watch_scan import FindingEvent, open_watch


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
