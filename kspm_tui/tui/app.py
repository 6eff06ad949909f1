"""The explorer app: owns the current scan, runs scans in workers, routes keys to screens.

Screens read `app.scanned` / `app.index` and receive scan messages; they never start
collection themselves, and nothing here knows whether objects came from files, the demo or
a live cluster (see `target.py`).
"""

from __future__ import annotations

import gc
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import App
from textual.binding import BindingType
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import get_current_worker

from kspm_tui.config import Config, save_config
from kspm_tui.model import Finding, Rule
from kspm_tui.safe_console import safe_app_console
from kspm_tui.target import SourceUnavailable, Step, Target
from kspm_tui.textsafe import visible
from kspm_tui.tui import keymap
from kspm_tui.tui.clipboard import Clipboard
from kspm_tui.tui.commands import KspmCommands
from kspm_tui.tui.index import PendingIndex, ResultIndex, index_scanned
from kspm_tui.tui.live_watch import LiveWatch
from kspm_tui.tui.messages import ScanCompleted, ScanFailedMessage, ScanPending, ScanProgress, ScanStarted
from kspm_tui.tui.session import Field, Session
from kspm_tui.tui.themes import DEFAULT_THEME, load_themes, severity_variables

if TYPE_CHECKING:  # the scan stack loads in the first scan's worker, after the first paint
    from kspm_tui.engine.loader import RuleSet
    from kspm_tui.graph.analysis import Analysis
    from kspm_tui.scan import Partial, Scanned, ScanSettings
    from kspm_tui.triage.acceptance import AcceptedRisk

WATCH_SECONDS = 15.0
LIVE_REFRESH_SECONDS = 1.0  # a live watch under churn refreshes the screens at most this often
PENDING_SECONDS = 0.25  # provisional rows reach the screen at most this often while files are read


class KspmApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "kspm-tui"
    COMMANDS = App.COMMANDS | {KspmCommands}
    BINDINGS: ClassVar[list[BindingType]] = keymap.bindings(keymap.APP_KEYS)
    # The explorer's state is its session's (see session.py); screens read it through these.
    target: Field[Target | None] = Field()
    scanned: Field[Scanned | None] = Field()
    index: Field[ResultIndex | None] = Field()
    scanning: Field[bool] = Field()
    watching: Field[bool] = Field()
    live_watch: Field[LiveWatch] = Field()
    pending: Field[PendingIndex | None] = Field()

    def __init__(self, target: Target | None = None, *, settings: ScanSettings | None = None,
                 theme: str | None = None, config: Config | None = None, include_system: bool = False,
                 reach: Target | None = None) -> None:
        super().__init__()
        self.console = safe_app_console(self.console)
        self.session = Session(reach or (target if target is not None and target.kind == "context"
                                         else Target("context")))
        self.config = config or (settings.config if settings else Config())
        self.session.fix_tab = f"tab-{self.config.fix_tab}"
        self._settings = settings
        self.include_system = settings.include_system if settings else include_system
        self.initial_target = target
        self.requested_theme = theme
        self.clipboard_service = Clipboard()
        self.user_keys: dict[str, str] = {}
        self.kspm_themes: list[str] = []
        self._watch_timer = None
        self._live_timer = None
        self._restart_live = False
        self._crash: BaseException | None = None
        self._picker: type[Screen[None]] | None = None

    @property
    def settings(self) -> ScanSettings:
        """Scan settings (built on first use: importing the scan stack is for the worker)."""
        if self._settings is None:
            from kspm_tui.scan import ScanSettings

            self._settings = ScanSettings(include_system=self.include_system, config=self.config)
        return self._settings

    # -- start-up ------------------------------------------------------------------------
    def get_theme_variable_defaults(self) -> dict[str, str]:
        return {**super().get_theme_variable_defaults(), **severity_variables()}

    def on_mount(self) -> None:
        themes, warnings = load_themes()
        for theme in themes:
            self.register_theme(theme)
        self.kspm_themes = [t.name for t in themes]
        wanted = self.requested_theme or self.config.theme or DEFAULT_THEME
        if wanted not in self.available_themes:
            warnings.append(f"unknown theme {wanted!r}; using {DEFAULT_THEME} "
                            f"(available: {', '.join(self.kspm_themes)})")
            wanted = DEFAULT_THEME
        self.theme = wanted
        self.theme_changed_signal.subscribe(self, self._persist_theme)
        self.user_keys, warning = keymap.user_keymap()
        if self.user_keys:
            self.set_keymap(self.user_keys)
        for message in [*warnings, *([warning] if warning else [])]:
            self.notify(message, severity="warning", timeout=8)
        if self.initial_target is not None:
            self.open_target(self.initial_target)
            return
        from kspm_tui.target import kubeconfig_problem
        from kspm_tui.tui.screens.contexts import ContextsScreen, read_contexts
        from kspm_tui.tui.screens.welcome import WelcomeScreen

        if read_contexts(self.session.reach.kubeconfig):
            self.push_screen(ContextsScreen())
            return
        self.push_screen(WelcomeScreen())
        if problem := kubeconfig_problem(self.session.reach.kubeconfig):
            self.notify(problem, title="Cannot read the kubeconfig", severity="error", timeout=15)

    def _persist_theme(self, theme: object) -> None:
        name = getattr(theme, "name", None)
        if name and name != self.config.theme and name in self.kspm_themes + list(self.available_themes):
            self.config.theme = name
            try:
                save_config(self.config)
            except OSError as exc:
                self.notify(f"could not save the theme choice: {exc}", severity="warning")

    def remember_fix_tab(self, pane_id: str) -> None:
        """The finding screen's tab chosen last: the next finding opens on it, in this run and the next."""
        self.session.fix_tab = pane_id
        tab = pane_id.removeprefix("tab-")
        if tab != self.config.fix_tab and tab in ("patch", "kubectl", "diff"):
            self.config.fix_tab = tab  # type: ignore[assignment]
            try:
                save_config(self.config)
            except OSError as exc:
                self.notify(f"could not save the fix tab choice: {exc}", severity="warning")

    # -- scanning ------------------------------------------------------------------------
    def open_target(self, target: Target) -> None:
        """Scan `target` and show its overview (the drill path starts over)."""
        from kspm_tui.tui.screens.contexts import ContextsScreen
        from kspm_tui.tui.screens.overview import OverviewScreen
        from kspm_tui.tui.screens.welcome import WelcomeScreen

        # Where the user picked this target: where a scan that shows nothing returns to.
        picker = next((s for s in reversed(self.screen_stack) if isinstance(s, (ContextsScreen, WelcomeScreen))),
                      None)
        self._picker = type(picker) if picker is not None else None
        self.session.open(target)
        self.stop_watch()
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.push_screen(OverviewScreen())
        self.start_scan()

    def start_scan(self, *, save: bool = True) -> None:
        """Scan the current target in a worker; `save` adds it to the history (watch ticks don't)."""
        if self.target is None or self.scanning:
            return
        self.scanning = True
        self.broadcast(ScanStarted(self.target))
        self._scan(self.target, self.session.failing(), save)

    def _watch_tick(self) -> None:
        self.start_scan(save=False)

    def context_target(self, name: str | None) -> Target:
        return self.session.context_target(name)

    @work(thread=True, exclusive=True, group="scan")
    def _scan(self, target: Target, previous: set[str] | None, save: bool) -> None:
        from kspm_tui.scan import run_scan

        worker = get_current_worker()

        def progress(step: Step) -> None:
            if not worker.is_cancelled:
                self.call_from_thread(self.broadcast, ScanProgress(step.stage, step.done, step.total))

        batch: list[Partial] = []
        shown = 0.0  # when the last batch went to the screen

        def partial(part: Partial) -> None:
            """Files' provisional rows to the screen, batched: at most one refresh per PENDING_SECONDS."""
            nonlocal shown
            batch.append(part)
            now = time.monotonic()
            if worker.is_cancelled or (now - shown < PENDING_SECONDS and part.files_done < part.files_total):
                return
            shown = now
            ready = batch[:]
            batch.clear()
            self.call_from_thread(self._show_pending, target, ready)

        try:
            # The first scan of a target lists rows as files are read; a rescan keeps the last result up.
            scanned = run_scan(target, self.settings, progress=progress,
                               history_keep=self.config.history_keep if save else None,
                               on_partial=partial if self.scanned is None else None)
            collected = scanned.collected
            if target.kind == "paths" and not collected.objects and collected.errors:
                raise SourceUnavailable(f"nothing readable in {target.label}: {collected.errors[0].message}")
            if not save and self.scanned is not None:
                scanned.history_target, scanned.trend = self.scanned.history_target, self.scanned.trend
            index = index_scanned(scanned, previous)
            # A big scan is millions of long-lived objects; without this every full garbage
            # collection walks them all and the UI stalls for a second. Frozen objects are
            # still freed by reference counting when a later scan replaces them.
            gc.freeze()
        except SourceUnavailable as exc:
            self.call_from_thread(self._scan_failed, target, str(exc), "")
            return
        except Exception as exc:  # never a traceback on screen: a clear message and the detail  # noqa: BLE001
            self.call_from_thread(self._scan_failed, target, f"{type(exc).__name__}: {exc}",
                                  traceback.format_exc(limit=3))
            return
        if not worker.is_cancelled:
            self.call_from_thread(self._scan_done, scanned, index)

    def _show_pending(self, target: Target, parts: list[Partial]) -> None:
        if target != self.target or self.scanned is not None:
            return  # superseded, or already judged
        pending = self.pending or PendingIndex()
        for part in parts:
            pending.add(part.findings, part.workloads)
        pending.read = (parts[-1].files_done, parts[-1].files_total)
        self.pending = pending
        self.broadcast(ScanPending(*pending.read))

    def _scan_done(self, scanned: Scanned, index: ResultIndex) -> None:
        if scanned.target != self.target:
            return  # a superseded scan of another target
        self.session.show(scanned, index)
        self.broadcast(ScanCompleted(scanned))
        if scanned.settings.include_system != self.include_system:
            self.start_scan()  # S (or Enter on the system group) was pressed while this scan ran
        elif self._restart_live:
            self._restart_live = False
            if self.watching:  # restarted with the system namespaces shown or hidden
                self._start_live_watch(scanned)
        for notice in scanned.collected.notices:  # e.g. TLS not verified: said once per scan
            self.notify(notice, title="Warning", severity="warning", timeout=10)
        if scanned.history_warning:
            self.notify(scanned.history_warning, severity="warning", timeout=8)
        if index.previous is not None and (index.new or index.resolved):
            self.notify(f"{len(index.new)} new, {len(index.resolved)} resolved findings since the last scan")

    def _scan_failed(self, target: Target, message: str, detail: str) -> None:
        from kspm_tui.tui.screens.modals import ErrorScreen

        if target != self.target:
            return  # a superseded scan of another target
        self.scanning, self.pending = False, None
        self.broadcast(ScanFailedMessage(target, message))
        shown = self.scanned is not None  # a rescan failed: the last result stays on screen
        self.push_screen(ErrorScreen(f"Cannot scan {target.label}", message, detail),
                         None if shown else lambda _: self._back_to_picker(target))

    def _back_to_picker(self, failed: Target) -> None:
        """A new target could not be scanned: back to where it was picked, not to an empty overview."""
        from kspm_tui.tui.screens.contexts import ContextsScreen

        if self.target != failed or self.scanned is not None or self.scanning:
            return  # another target was opened (or this one rescanned) meanwhile
        # A context chosen with `:ctx NAME` or on the command line returns to the context picker; a
        # folder given on the command line has no picker: its overview says the scan failed (r retries).
        picker = self._picker or (ContextsScreen if failed.kind == "context" else None)
        if picker is None:
            return
        self.session.target = None  # nothing is open: jumps that need a scan say so
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.push_screen(picker())

    def broadcast(self, message: Message) -> None:
        for screen in self.screen_stack:
            screen.post_message(message)

    # -- data for screens ----------------------------------------------------------------
    def with_analysis(self, then: Callable[[Analysis], None]) -> None:
        """Call `then(analysis)` on the UI thread once the RBAC graph exists (built in a worker)."""
        scanned = self.scanned
        if scanned is None:
            return
        if scanned.analysis is not None:
            then(scanned.analysis)
            return
        self._build_analysis(scanned, then)

    @work(thread=True, group="analysis")
    def _build_analysis(self, scanned: Scanned, then: Callable[[Analysis], None]) -> None:
        try:
            analysis = scanned.graph()
        except Exception as exc:  # noqa: BLE001 - a graph bug must not take the explorer down
            self.call_from_thread(self.notify, f"cannot build the RBAC graph: {type(exc).__name__}: {exc}",
                                  severity="error", timeout=10)
            return
        self.call_from_thread(then, analysis)

    def ruleset(self) -> RuleSet:
        if self.session.ruleset is None:
            from kspm_tui.scan import load_ruleset

            self.session.ruleset = load_ruleset(self.settings)
        return self.session.ruleset

    def rule(self, rule_id: str) -> Rule | None:
        compiled = self.ruleset().by_id().get(rule_id)
        return compiled.rule if compiled else None

    def colors(self) -> dict[str, str]:
        v = self.theme_variables
        return {**{k.removeprefix("severity-"): c for k, c in v.items() if k.startswith("severity-")},
                "good": v.get("success", "green"), "warn": v.get("warning", "yellow"),
                "bad": v.get("error", "red")}

    def status_line(self) -> str:
        parts = []
        if self.scanned:
            parts.append(f"score {self.scanned.result.summary.score}")
            parts.append(f"scanned {self.scanned.finished.astimezone().strftime('%H:%M:%S')}")
        if self.scanning:
            parts.append("scanning…")
        if self.watching:
            parts.append("● watching")
        if watch_status := self.live_watch.status(self.scanned):
            parts.append(watch_status)
        return "  ".join(parts)

    def accept(self, finding: Finding, risk: AcceptedRisk | None) -> None:
        """Write the exception from the `a` form and re-judge the current scan with it."""
        from kspm_tui.triage.acceptance import accept_risks, add_exception

        if risk is None or self.scanned is None or self.index is None:
            return
        try:
            path = add_exception(risk)
        except (OSError, ValueError) as exc:
            self.notify(str(exc), title="Exception not saved", severity="error", timeout=10)
            return
        result = self.scanned.result
        accept_risks(result, self.settings)
        self.session.reindex(self.index.previous)
        self.broadcast(ScanCompleted(self.scanned))
        scope = f"container {risk.container}" if risk.container else "the whole object"
        self.notify(f"accepted {finding.rule} on {finding.kind}/{finding.name} ({scope}) "
                    f"until {risk.expires or 'no expiry'}; saved to {path}", title="Risk accepted")

    # -- actions -------------------------------------------------------------------------
    def action_back(self) -> None:
        from kspm_tui.tui.screens.base import TableScreen

        screen = self.screen
        if isinstance(screen, TableScreen) and screen.clear_filter():
            return
        hide_system = getattr(screen, "hide_system", None)  # the overview with system namespaces listed
        if hide_system is not None and hide_system():
            return
        if len(self.screen_stack) > 2:
            self.pop_screen()

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Notifications quote names from anyone: hidden characters shown as escapes, and
        brackets shown as they are (never Textual markup: `[K8S-X]` would vanish as a style and a
        `[@click=...]` in an API server's error would become an action link)."""
        super().notify(visible(message, keep_lines=True), title=visible(title), severity=severity,
                       timeout=timeout, markup=markup)

    def action_copy(self) -> None:
        copy_text = getattr(self.screen, "copy_text", None)
        got = copy_text() if copy_text else None
        if not got:
            self.notify("nothing to copy here", severity="warning", timeout=2)
            return
        text, what = got
        method = self.clipboard_service.copy(text, self)
        self.notify(f"copied {what} to the {method}", title="Copied", timeout=4)

    def action_rescan(self) -> None:
        if self.target is None:
            self.notify("nothing to rescan yet: pick a context, the demo, or a folder", severity="warning")
        elif self.scanning:
            self.notify("a scan is already running", timeout=2)
        else:
            self.start_scan()

    def action_toggle_system(self) -> None:
        """Show or hide a live scan's system-namespace group (always counted in the overview)."""
        self.show_system(not self.include_system)

    def show_system(self, show: bool) -> None:
        """List the system namespaces' workloads (or hide them again as one counted group) and
        rescan; a scan already running is followed by one with the new choice."""
        if show == self.include_system:
            return
        self.include_system = show
        self.settings.include_system = show
        self.notify("system namespaces shown (Esc or S hides them)" if show
                    else "system namespaces hidden: one counted row in the overview (Enter or S shows them)",
                    timeout=4)
        if self.watching and self.live_watch.service is not None:
            self.live_watch.stop()  # its service judges with the old choice; restarted after the rescan
            self._restart_live = True
        if self.target is not None and not self.scanning:
            self.start_scan()

    def action_toggle_watch(self) -> None:
        if self.target is None:
            self.notify("nothing to watch yet", severity="warning")
            return
        self.watching = not self.watching
        if self.watching and self.target.kind == "context" and self.scanned is not None:
            self._start_live_watch(self.scanned)
            self.notify(f"watching {self.target.label} live: findings update as objects change, new ones marked +")
        elif self.watching:
            self._watch_timer = self.set_interval(WATCH_SECONDS, self._watch_tick)
            self.notify(f"watching {self.target.label}: rescanning every {WATCH_SECONDS:.0f}s, "
                        "new findings marked +")
        else:
            self.stop_watch()
            self.notify("watch stopped")
        update = getattr(self.screen, "update_breadcrumbs", None)
        if update:
            update()

    def stop_watch(self) -> None:
        self.watching = False
        if self._watch_timer is not None:
            self._watch_timer.stop()
            self._watch_timer = None
        self.live_watch.stop()

    def on_unmount(self) -> None:
        self.live_watch.stop()

    @work(thread=True, group="live-watch")
    def _start_live_watch(self, scanned: Scanned) -> None:
        try:
            self.live_watch.start(scanned, self.settings, lambda: self.call_from_thread(self._live_changed),
                                  lambda text: self.call_from_thread(self._live_notice, text),
                                  lambda why: self.call_from_thread(self._live_stopped, why))
        except Exception as exc:  # noqa: BLE001 - unreachable cluster, auth...: say so, stop watching
            self.live_watch.stop()
            self.call_from_thread(self._live_failed, str(exc))

    def _live_failed(self, message: str) -> None:
        self.watching = False
        self.notify(message, title="Watch stopped", severity="error", timeout=10)

    def _live_notice(self, text: str) -> None:
        """A lost connection, a relist, a recovery: said, and the header's watch status updated."""
        self.notify(text, title="Watch", severity="warning", timeout=6)
        self._update_header()

    def _live_stopped(self, why: str) -> None:
        """The watch cannot go on: the last results stay, marked stale in the header."""
        self._show_live(self.live_watch.take())
        self.stop_watch()
        if self.scanned is not None:
            self.live_watch.mark_stale(self.scanned, why)
        self.notify(f"{why}. The results shown are from the last change seen; r rescans.",
                    title="Watch stopped", severity="error", timeout=20)
        self._update_header()

    def _update_header(self) -> None:
        update = getattr(self.screen, "update_breadcrumbs", None)
        if update:
            update()

    def _live_changed(self) -> None:
        """Batch bursts of watch batches into one refresh (keys stay responsive under churn)."""
        if self._live_timer is None:
            self._live_timer = self.set_timer(LIVE_REFRESH_SECONDS, self._refresh_live)

    def _refresh_live(self) -> None:
        self._live_timer = None
        self._index_live()

    @work(thread=True, exclusive=True, group="live-index")
    def _index_live(self) -> None:
        """The watch's latest scan indexed off the UI thread, then shown."""
        latest = self.live_watch.take()
        if latest is not None:
            self.call_from_thread(self._show_live, latest)

    def _show_live(self, latest: tuple[Scanned, ResultIndex] | None) -> None:
        """Swap in a scan of the watch and its index (the drill path stays where it is)."""
        scanned = self.scanned
        if latest is None or scanned is None or not self.watching:
            return
        fresh, index = latest
        if fresh.target != scanned.target:
            return  # the watch of a target no longer shown
        self.scanned = replace(fresh, target=scanned.target, finished=datetime.now(UTC),
                               history_target=scanned.history_target, trend=scanned.trend)
        self.index = index
        self.broadcast(ScanCompleted(self.scanned))

    def action_help(self) -> None:
        from kspm_tui.tui.screens.modals import HelpScreen

        self.push_screen(HelpScreen(self.screen))

    def action_jump(self) -> None:
        self.jump_prompt()

    def jump_prompt(self, prefill: str = "") -> None:
        from kspm_tui.tui.screens.modals import JumpScreen

        self.push_screen(JumpScreen(prefill), lambda text: self.jump(text) if text else None)

    def action_jump_to(self, name: str) -> None:
        self.jump(name)

    def run_command_action(self, action: str) -> None:
        self.call_later(self.run_action, action)

    def set_theme(self, name: str) -> None:
        self.theme = name

    def jump(self, text: str) -> None:
        """`:ns prod`, `:rules priv`, `:rule K8S-PRIVILEGED`, `:ctx`, `:paths`, ... (see jumps.py)."""
        from kspm_tui.tui.jumps import JUMPS, parse
        from kspm_tui.tui.screens.overview import OverviewScreen

        jump, arg, word = parse(text)
        if jump is None:
            self.notify(f"unknown view :{word} (try {', '.join(':' + j.name for j in JUMPS)})", severity="error")
            return
        if jump.needs_scan and self.target is None:
            self.notify(f":{jump.name} needs a scan: pick a context, the demo or a folder first", severity="warning")
            return
        overview = next((s for s in self.screen_stack if isinstance(s, OverviewScreen)), None)
        if jump.from_overview and overview is not None:
            while self.screen is not overview:
                self.pop_screen()
        jump.open(self, arg)

    # -- crashes -------------------------------------------------------------------------
    def _handle_exception(self, error: Exception) -> None:
        self._crash = error
        super()._handle_exception(error)

    def _fatal_error(self) -> None:
        """A friendly crash: one line on exit saying where the report (traceback, no locals) is."""
        from rich.text import Text

        from kspm_tui import crash

        error = self._crash
        if error is None:
            error = sys.exc_info()[1] or RuntimeError("unknown error")
        path = crash.save_report(error)
        self.bell()
        self._exit_renderables.append(Text(crash.summary(error, path)))
        self._close_messages_no_wait()
