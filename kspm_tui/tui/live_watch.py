"""Watch mode on a live context: the live source's WatchService keeps findings current.

The service re-evaluates only what changed (see `kspm_tui.sources.watch`); here its current
failing findings are folded back into the explorer's ScanResult (exceptions re-applied,
counts and score recomputed) so every screen updates and new findings are marked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from kspm_tui.model import Finding, ScanResult, Status

if TYPE_CHECKING:
    from kspm_tui.scan import ScanSettings
    from kspm_tui.sources.kubeconfig import Connection
    from kspm_tui.sources.watch import WatchService
    from kspm_tui.tui.target import Scanned


class LiveWatch:
    def __init__(self) -> None:
        self.service: WatchService | None = None
        self.connection: Connection | None = None

    def start(self, scanned: Scanned, settings: ScanSettings, on_change: Callable[[], None]) -> None:
        """Connect, list once, start the watch streams (blocking: call it in a worker)."""
        from kspm_tui.sources.kubeconfig import connect
        from kspm_tui.sources.live import Collector
        from kspm_tui.sources.watch import WatchService

        self.connection = connect(scanned.target.context)
        name = self.connection.context.name
        settings = replace(settings, context=name, cluster_name=name, server=self.connection.server)
        initial = Collector(self.connection).run()
        self.service = WatchService(self.connection, settings, scanned.ruleset, initial,
                                    on_event=lambda _event: on_change())
        self.service.start()
        on_change()

    def failing(self) -> list[Finding]:
        """Copies of the service's current failing findings (its dict is swapped, never edited)."""
        return [f.model_copy() for f in (self.service.findings.values() if self.service else ())]

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop()
        if self.connection is not None:
            self.connection.close()
        self.service = self.connection = None


def updated_result(result: ScanResult, failing: list[Finding], settings: ScanSettings) -> ScanResult:
    """`result` with its failing findings replaced by `failing`, re-judged and re-counted."""
    from kspm_tui.results import resummarize, sort_findings
    from kspm_tui.triage.acceptance import accept_risks

    kept = [f for f in result.findings if f.status is Status.not_assessable]
    fresh = result.model_copy(update={"findings": sort_findings(kept + failing)})
    counts = Counter(f.rule for f in failing)
    fresh.rule_stats = [st.model_copy(update={"failed": counts.get(st.rule, 0), "accepted": 0})
                        for st in result.rule_stats]
    fresh.summary = resummarize(fresh)
    accept_risks(fresh, settings.exception_files, user_file=settings.user_exceptions)
    return fresh
