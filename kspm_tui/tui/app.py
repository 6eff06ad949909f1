"""The explorer app: owns the current scan, runs scans in workers, routes keys to screens.

Screens read `app.scanned` / `app.index` and receive scan messages; they never start
collection themselves, and nothing here knows whether objects came from files, the demo or
a live cluster (see `target.py`).
"""

from __future__ import annotations

import argparse
import gc
import sys
import traceback
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import App
from textual.binding import BindingType
from textual.message import Message
from textual.worker import get_current_worker

from kspm_tui import exit_codes
from kspm_tui.config import Config, load_config, save_config
from kspm_tui.locations import data_dir
from kspm_tui.model import Finding, Rule, Status
from kspm_tui.tui import keymap
from kspm_tui.tui.clipboard import Clipboard
from kspm_tui.tui.commands import KspmCommands
from kspm_tui.tui.index import ResultIndex
from kspm_tui.tui.live_watch import LiveWatch, updated_result
from kspm_tui.tui.messages import ScanCompleted, ScanFailedMessage, ScanProgress, ScanStarted
from kspm_tui.tui.target import ScanFailed, Scanned, Target, build_analysis, run_scan, save_history
from kspm_tui.tui.themes import DEFAULT_THEME, load_themes, severity_variables

if TYPE_CHECKING:  # the scan stack loads in the first scan's worker, after the first paint
    from kspm_tui.engine.loader import RuleSet
    from kspm_tui.exceptions import AcceptedRisk
    from kspm_tui.graph.analysis import Analysis
    from kspm_tui.scan import ScanSettings

WATCH_SECONDS = 15.0


class KspmApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "kspm-tui"
    COMMANDS = App.COMMANDS | {KspmCommands}
    BINDINGS: ClassVar[list[BindingType]] = keymap.bindings(keymap.APP_KEYS)

    def __init__(self, target: Target | None = None, *, settings: ScanSettings | None = None,
                 theme: str | None = None, config: Config | None = None, include_system: bool = False) -> None:
        super().__init__()
        self.config = config or (settings.config if settings else Config())
        self._settings = settings
        self.include_system = settings.include_system if settings else include_system
        self.initial_target = target
        self.requested_theme = theme
        self.target: Target | None = None
        self.scanned: Scanned | None = None
        self.index: ResultIndex | None = None
        self.scanning = False
        self.watching = False
        self.clipboard_service = Clipboard()
        self.user_keys: dict[str, str] = {}
        self.kspm_themes: list[str] = []
        self._ruleset: RuleSet | None = None
        self._watch_timer = None
        self._live_timer = None
        self.live_watch = LiveWatch()
        self._crash: BaseException | None = None

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
        from kspm_tui.tui.screens.contexts import ContextsScreen, kubeconfig_problem, read_contexts
        from kspm_tui.tui.screens.welcome import WelcomeScreen

        if read_contexts():
            self.push_screen(ContextsScreen())
            return
        self.push_screen(WelcomeScreen())
        if problem := kubeconfig_problem():
            self.notify(problem, title="Cannot read the kubeconfig", severity="error", timeout=15)

    def _persist_theme(self, theme: object) -> None:
        name = getattr(theme, "name", None)
        if name and name != self.config.theme and name in self.kspm_themes + list(self.available_themes):
            self.config.theme = name
            try:
                save_config(self.config)
            except OSError as exc:
                self.notify(f"could not save the theme choice: {exc}", severity="warning")

    # -- scanning ------------------------------------------------------------------------
    def open_target(self, target: Target) -> None:
        """Scan `target` and show its overview (the drill path starts over)."""
        from kspm_tui.tui.screens.overview import OverviewScreen

        self.target, self.scanned, self.index = target, None, None
        self.scanning = False  # a scan of the previous target still running is superseded
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
        previous = {f.fingerprint for f in self.scanned.result.findings if f.status is Status.fail} \
            if self.scanned else None
        self._scan(self.target, previous, save)

    def _watch_tick(self) -> None:
        self.start_scan(save=False)

    @work(thread=True, exclusive=True, group="scan")
    def _scan(self, target: Target, previous: set[str] | None, save: bool) -> None:
        worker = get_current_worker()

        def progress(stage: str, done: int, total: int) -> None:
            if not worker.is_cancelled:
                self.call_from_thread(self.broadcast, ScanProgress(stage, done, total))

        try:
            scanned = run_scan(target, self.settings, progress)
            if save:
                save_history(scanned, self.config.history_keep)
            elif self.scanned is not None:
                scanned.history_target, scanned.trend = self.scanned.history_target, self.scanned.trend
            hidden = set(scanned.result.excluded.namespaces)  # none for manifests: they are shown whole
            keys = [(w.kind, w.namespace, w.name) for w in scanned.snapshot.workloads()
                    if w.namespace not in hidden]
            index = ResultIndex(scanned.result.findings, keys, previous)
            # A big scan is millions of long-lived objects; without this every full garbage
            # collection walks them all and the UI stalls for a second. Frozen objects are
            # still freed by reference counting when a later scan replaces them.
            gc.freeze()
        except ScanFailed as exc:
            self.call_from_thread(self._scan_failed, target, str(exc), "")
            return
        except Exception as exc:  # never a traceback on screen: a clear message and the detail  # noqa: BLE001
            self.call_from_thread(self._scan_failed, target, f"{type(exc).__name__}: {exc}",
                                  traceback.format_exc(limit=3))
            return
        if not worker.is_cancelled:
            self.call_from_thread(self._scan_done, scanned, index)

    def _scan_done(self, scanned: Scanned, index: ResultIndex) -> None:
        if scanned.target != self.target:
            return  # a superseded scan of another target
        self.scanning = False
        self.scanned, self.index, self._ruleset = scanned, index, scanned.ruleset
        self.broadcast(ScanCompleted(scanned))
        if scanned.history_warning:
            self.notify(scanned.history_warning, severity="warning", timeout=8)
        if index.previous is not None and (index.new or index.resolved):
            self.notify(f"{len(index.new)} new, {len(index.resolved)} resolved findings since the last scan")

    def _scan_failed(self, target: Target, message: str, detail: str) -> None:
        from kspm_tui.tui.screens.modals import ErrorScreen

        if target != self.target:
            return  # a superseded scan of another target
        self.scanning = False
        self.broadcast(ScanFailedMessage(target, message))
        self.push_screen(ErrorScreen(f"Cannot scan {target.label}", message, detail))

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
            analysis = build_analysis(scanned, tuple(self.config.system_namespaces))
        except Exception as exc:  # noqa: BLE001 - a graph bug must not take the explorer down
            self.call_from_thread(self.notify, f"cannot build the RBAC graph: {type(exc).__name__}: {exc}",
                                  severity="error", timeout=10)
            return
        self.call_from_thread(then, analysis)

    def ruleset(self) -> RuleSet:
        if self._ruleset is None:
            from kspm_tui.scan import load_ruleset

            self._ruleset = load_ruleset(self.settings)
        return self._ruleset

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
        return "  ".join(parts)

    def accept(self, finding: Finding, risk: AcceptedRisk | None) -> None:
        """Write the exception from the `a` form and re-judge the current scan with it."""
        from kspm_tui.exceptions import accept_risks, add_exception

        if risk is None or self.scanned is None or self.index is None:
            return
        try:
            path = add_exception(risk)
        except (OSError, ValueError) as exc:
            self.notify(str(exc), title="Exception not saved", severity="error", timeout=10)
            return
        result = self.scanned.result
        accept_risks(result, self.settings.exception_files, user_file=self.settings.user_exceptions)
        self.index = ResultIndex(result.findings, [r.key for r in self.index.workloads.values()],
                                 self.index.previous)
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
        if len(self.screen_stack) > 2:
            self.pop_screen()

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
        """Show or hide a live scan's system-namespace group (always counted in the summary)."""
        self.include_system = not self.include_system
        self.settings.include_system = self.include_system
        self.notify("system namespaces shown" if self.include_system
                    else "system namespaces hidden (counted in the summary; S shows them)", timeout=4)
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
            self.live_watch.start(scanned, self.settings, lambda: self.call_from_thread(self._live_changed))
        except Exception as exc:  # noqa: BLE001 - unreachable cluster, auth...: say so, stop watching
            self.live_watch.stop()
            self.call_from_thread(self._live_failed, str(exc))

    def _live_failed(self, message: str) -> None:
        self.watching = False
        self.notify(message, title="Watch stopped", severity="error", timeout=10)

    def _live_changed(self) -> None:
        """Batch bursts of watch events into one refresh."""
        if self._live_timer is None:
            self._live_timer = self.set_timer(0.3, self._apply_live)

    def _apply_live(self) -> None:
        self._live_timer = None
        scanned, service = self.scanned, self.live_watch.service
        if not self.watching or scanned is None or self.index is None or service is None:
            return
        result = updated_result(scanned.result, self.live_watch.failing(), self.settings)
        previous = {f.fingerprint for f in scanned.result.findings if f.status is Status.fail}
        self.scanned = replace(scanned, result=result, snapshot=service.snapshot, analysis=None,
                               finished=datetime.now(UTC))
        self.index = ResultIndex(result.findings, [r.key for r in self.index.workloads.values()], previous)
        self.broadcast(ScanCompleted(self.scanned))

    def action_help(self) -> None:
        from kspm_tui.tui.screens.modals import HelpScreen

        self.push_screen(HelpScreen())

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
        """`:ns prod`, `:rules priv`, `:rule K8S-PRIVILEGED`, `:ctx`, `:paths`, ..."""
        from kspm_tui.tui.screens.by_rule import ByRuleScreen
        from kspm_tui.tui.screens.contexts import ContextsScreen
        from kspm_tui.tui.screens.namespace import NamespaceScreen
        from kspm_tui.tui.screens.overview import OverviewScreen
        from kspm_tui.tui.screens.rules import RulesScreen

        word, _, arg = text.strip().partition(" ")
        word = keymap.JUMP_ALIASES.get(word.lower(), word.lower())
        arg = arg.strip()
        needs_scan = {"overview", "ns", "workloads", "rule", "rbac", "paths", "can", "exceptions", "drift"}
        if word in needs_scan and self.target is None:
            self.notify(f":{word} needs a scan: pick a context, the demo or a folder first", severity="warning")
            return
        overview = next((s for s in self.screen_stack if isinstance(s, OverviewScreen)), None)
        if word in ("overview", "ns", "workloads", "rule") and overview is not None:
            while self.screen is not overview:
                self.pop_screen()
        if word == "overview" or (word == "ns" and not arg):
            return
        if word == "ns":
            if self.index is not None and arg not in self.index.namespaces:
                known = ", ".join(sorted(self.index.namespaces))
                self.notify(f"no findings or workloads in namespace {arg!r} (known: {known})", severity="error")
                return
            self.push_screen(NamespaceScreen(arg))
        elif word == "workloads":
            self.push_screen(NamespaceScreen(None))
        elif word == "rules":
            self.push_screen(RulesScreen(arg))
        elif word == "rule" or word.upper().startswith("K8S-"):
            rule_id = (arg or word).upper()
            if self.rule(rule_id) is None:
                self.notify(f"no rule {rule_id}", severity="error")
            else:
                self.push_screen(ByRuleScreen(rule_id))
        elif word == "ctx":
            if arg:
                self.open_target(Target("context", context=arg))
            else:
                self.push_screen(ContextsScreen())
        elif word == "themes":
            self.search_themes()
        elif word == "exceptions":
            from kspm_tui.tui.screens.exceptions import ExceptionsScreen

            self.push_screen(ExceptionsScreen())
        elif word == "drift":
            from kspm_tui.tui.screens.drift import DriftScreen

            self.push_screen(DriftScreen())
        elif word == "rbac":
            from kspm_tui.tui.screens.rbac import RbacScreen

            self.push_screen(RbacScreen())
        elif word == "paths":
            from kspm_tui.tui.screens.paths import PathsScreen

            self.push_screen(PathsScreen())
        elif word == "can":
            from kspm_tui.tui.screens.rbac import open_who_can

            open_who_can(self, arg)
        else:
            self.notify(f"unknown view :{word} (try {', '.join(':' + j for j in keymap.JUMPS)})",
                        severity="error")

    # -- crashes -------------------------------------------------------------------------
    def _handle_exception(self, error: Exception) -> None:
        self._crash = error
        super()._handle_exception(error)

    def _fatal_error(self) -> None:
        """A friendly crash: one sentence on screen, the traceback saved to a file."""
        from rich.text import Text

        error = self._crash
        detail = "".join(traceback.format_exception(error)) if error else traceback.format_exc()
        path = crash_log(detail)
        self.bell()
        self._exit_renderables.append(Text(
            f"kspm-tui stopped on an unexpected error: {type(error).__name__ if error else 'error'}: {error}\n"
            f"The details were saved to {path}; please include them when you report this."))
        self._close_messages_no_wait()


def crash_log(detail: str) -> Path:
    path = data_dir() / "crash.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{datetime.now(UTC).isoformat()}\n{detail}", encoding="utf-8")
    except OSError:
        pass
    return path


def target_from(args: argparse.Namespace) -> Target | None:
    if getattr(args, "context", None):
        return Target("context", context=args.context)
    if args.demo:
        return Target("demo")
    if args.paths:
        return Target("paths", paths=tuple(args.paths))
    return None


def run(args: argparse.Namespace) -> int:
    """`kspm-tui [--demo | PATH ...] [--theme NAME]`: run the explorer until the user quits."""
    config, warning = load_config()
    if warning:
        print(warning, file=sys.stderr)
    for raw in args.paths or ():
        if raw != "-" and not Path(raw).exists():
            print(f"kspm-tui: error: {raw}: no such file or directory", file=sys.stderr)
            return exit_codes.INPUT_ERRORS
    if sum(map(bool, (args.paths, args.demo, getattr(args, "context", None)))) > 1:
        print("kspm-tui: error: open one thing: PATHs, --demo or --context NAME", file=sys.stderr)
        return exit_codes.INPUT_ERRORS
    if "-" in (args.paths or ()):
        print("kspm-tui: error: the explorer cannot read stdin (it needs the terminal); "
              "use `kspm-tui scan -` or save the manifests to a file", file=sys.stderr)
        return exit_codes.INPUT_ERRORS
    app = KspmApp(target_from(args), theme=args.theme, config=config, include_system=args.include_system)
    app.run()
    return exit_codes.INPUT_ERRORS if app._crash is not None else int(app.return_code or 0)
