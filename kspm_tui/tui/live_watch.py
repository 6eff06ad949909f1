"""Watch mode on a live context: the scan service's watch keeps the explorer's scan current.

The service re-evaluates only what changed and hands over a new `Scanned` per batch (accepted
risks judged again, exception files re-read); here the latest is kept for the app to show.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kspm_tui.scan import Scanned, ScanSettings
    from kspm_tui.watch_scan import WatchService


class LiveWatch:
    def __init__(self) -> None:
        self.service: WatchService | None = None

    def start(self, scanned: Scanned, settings: ScanSettings, on_change: Callable[[], None]) -> None:
        """Connect, list once, start the watch streams (blocking: call it in a worker)."""
        from kspm_tui.watch_scan import open_watch

        self.service = open_watch(scanned.target, settings, scanned.ruleset, on_update=lambda _: on_change())
        self.service.start()
        on_change()

    @property
    def scanned(self) -> Scanned | None:
        """The latest Scanned of the watched cluster."""
        return self.service.scanned if self.service else None

    def stop(self) -> None:
        if self.service is not None:
            self.service.close()
        self.service = None
