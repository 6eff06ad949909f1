"""`kspm-tui scan --context NAME --watch`: finding opened/resolved events as JSON lines.

Accepted risks (exception files, annotations) are not open findings, so they make no events;
an exception file edited while watching applies from the next batch of changes.

Everything else goes to stderr, one line each: lost connections and recoveries, relists,
failing kinds, `--heartbeat` lines, rule errors (those of the first scan, then each rule that
first breaks on an object a later change brought). A watch that cannot go on (credentials rejected, access
revoked, repeated internal errors) prints why and exits 3; `--liveness-file` is rewritten
while the watch is healthy, for supervisors that restart a process whose file went stale.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from kspm_tui import exit_codes
from kspm_tui.cli.common import request_timeout

if TYPE_CHECKING:
    from kspm_tui.engine.loader import RuleSet
    from kspm_tui.scan import ScanSettings, Target
    from kspm_tui.watch_scan import Heartbeat

LIVENESS_SECONDS = 5.0  # the liveness file is rewritten at least this often while healthy


def interval(value: str) -> float:
    """--heartbeat: a duration as kubectl writes them (60s, 1m, 500ms) or seconds; more than 0."""
    try:
        seconds = request_timeout(value)
    except argparse.ArgumentTypeError:
        seconds = None
    if not seconds:
        raise argparse.ArgumentTypeError(f"invalid --heartbeat {value!r}: use a duration above 0 (60s, 1m, 30)")
    return seconds


def add_arguments(group: argparse._ArgumentGroup) -> None:
    """The flags of a watch (only with --watch)."""
    group.add_argument("--heartbeat", type=interval, metavar="DURATION",
                       help="with --watch: one stderr line per DURATION (e.g. 60s) with the watch's counts")
    group.add_argument("--liveness-file", type=Path, metavar="PATH",
                       help=f"with --watch: rewrite PATH at least every {LIVENESS_SECONDS:g}s and after each "
                            "batch while the watch is healthy (a stale PATH means restart it)")


def watch(target: Target, settings: ScanSettings, ruleset: RuleSet, *, heartbeat: float | None = None,
          liveness: Path | None = None) -> int:
    from kspm_tui.atomic_write import atomic_write
    from kspm_tui.cli.progress import collection_progress
    from kspm_tui.watch_scan import FindingEvent, open_watch
    from kspm_tui.yamlio import dump_json

    def say(text: str) -> None:
        print(f"kspm-tui: {text}", file=sys.stderr, flush=True)

    last_line = time.monotonic()

    def beat(state: Heartbeat) -> None:
        nonlocal last_line
        if liveness is not None and not state.failure:
            try:
                atomic_write(liveness, f"{datetime.now(UTC).isoformat(timespec='seconds')} {state.line()}\n".encode())
            except OSError as exc:
                say(f"cannot write the liveness file {liveness}: {exc}")
        if heartbeat is not None and time.monotonic() - last_line >= heartbeat:
            last_line = time.monotonic()
            say(f"heartbeat: {state.line()}")

    with collection_progress(target.label) as progress:
        service = open_watch(target, settings, ruleset, progress=progress, on_notice=say, on_beat=beat,
                             beat_seconds=min(LIVENESS_SECONDS, heartbeat or LIVENESS_SECONDS))
    name = service.connection.context.name
    for notice in service.initial.collected.notices:
        print(f"kspm-tui: warning: {notice}", file=sys.stderr)

    def emit(event: FindingEvent) -> None:
        sys.stdout.write(dump_json(event.to_json()).decode() + "\n")
        sys.stdout.flush()

    # SIGTERM (a container or CI stopping us) ends watching cleanly, as Ctrl-C does.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        opened = service.start()
        for err in service.exception_errors:
            print(err.exceptions_line(), file=sys.stderr)
        for rule_error in service.rule_errors:  # later ones are said as the batch meets them
            print(rule_error.line(), file=sys.stderr)
        for event in opened:
            emit(event)
        for gap in service.initial.collected.coverage:
            print(f"coverage: {gap.reason}", file=sys.stderr)
        beat(service.heartbeat())
        print(f"watching context {name} for changes (Ctrl-C to stop)", file=sys.stderr)
        for event in service.events():
            emit(event)
    except KeyboardInterrupt:
        pass
    finally:
        service.close()
    if service.failure:
        say(f"error: {service.failure}")
        if liveness is not None:
            liveness.unlink(missing_ok=True)
        return exit_codes.UNAVAILABLE
    return exit_codes.OK
