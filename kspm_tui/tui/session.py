"""What the explorer is looking at: the target, its latest scan and index, and watch state.

Kept out of `KspmApp` so the app only wires screens, keys and workers; screens read the
session's fields through the app (`app.scanned`, `app.index`, ...), which delegates here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from kspm_tui.model import Status
from kspm_tui.target import Target
from kspm_tui.tui.index import PendingIndex, ResultIndex
from kspm_tui.tui.live_watch import LiveWatch

if TYPE_CHECKING:
    from kspm_tui.engine.loader import RuleSet
    from kspm_tui.scan import Scanned

T = TypeVar("T")


@dataclass(slots=True)
class Session:
    reach: Target  # how contexts picked in the explorer are reached (--kubeconfig, -n, --request-timeout)
    target: Target | None = None
    scanned: Scanned | None = None
    index: ResultIndex | None = None
    ruleset: RuleSet | None = None
    scanning: bool = False
    watching: bool = False
    live_watch: LiveWatch = field(default_factory=LiveWatch)
    fix_tab: str = "tab-patch"  # the finding screen's fix tab last chosen (the patch until one is; kept in config)
    pending: PendingIndex | None = None  # the first scan of a target, while its files are read

    def open(self, target: Target) -> None:
        """A new target: the previous scan is gone (and a scan of it still running superseded)."""
        self.target, self.scanned, self.index, self.scanning = target, None, None, False
        self.pending = None

    def context_target(self, name: str | None) -> Target:
        """A context picked in the explorer, reached the way the command line said."""
        return replace(self.reach, kind="context", context=name, paths=())

    def failing(self) -> set[str] | None:
        """Fingerprints failing in the current scan (None before the first): what `+` marks are new against."""
        if self.scanned is None:
            return None
        return {f.fingerprint for f in self.scanned.result.findings if f.status is Status.fail}

    def show(self, scanned: Scanned, index: ResultIndex) -> None:
        self.scanning, self.pending = False, None
        self.scanned, self.index, self.ruleset = scanned, index, scanned.ruleset

    def reindex(self, previous: set[str] | None) -> None:
        """The index again after the scan's findings were re-judged (same workloads)."""
        assert self.scanned is not None and self.index is not None
        self.index = ResultIndex(self.scanned.result.findings, [r.key for r in self.index.workloads.values()],
                                 previous, self.index.system)


class Field(Generic[T]):
    """An app attribute that lives on its session (so screens keep reading `app.scanned`)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, app: Any, owner: type | None = None) -> T:
        return getattr(app.session, self.name)

    def __set__(self, app: Any, value: T) -> None:
        setattr(app.session, self.name, value)
