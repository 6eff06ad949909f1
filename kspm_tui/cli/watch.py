"""`kspm-tui scan --context NAME --watch`: finding opened/resolved events as JSON lines.

Accepted risks (exception files, annotations) are not open findings, so they make no events;
an exception file edited while watching applies from the next batch of changes.
"""

from __future__ import annotations

import signal
import sys

from kspm_tui import exit_codes
from kspm_tui.engine.loader import RuleSet
from kspm_tui.scan import ScanSettings, Target
from kspm_tui.yamlio import dump_json


def watch(target: Target, settings: ScanSettings, ruleset: RuleSet) -> int:
    from kspm_tui.cli.progress import collection_progress
    from kspm_tui.watch_scan import FindingEvent, open_watch

    with collection_progress(target.label) as progress:
        service = open_watch(target, settings, ruleset, progress=progress,
                             on_notice=lambda text: print(f"kspm-tui: {text}", file=sys.stderr, flush=True))
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
            print(f"exceptions: {err.file}: {err.message}", file=sys.stderr)
        for event in opened:
            emit(event)
        for gap in service.initial.collected.coverage:
            print(f"coverage: {gap.reason}", file=sys.stderr)
        print(f"watching context {name} for changes (Ctrl-C to stop)", file=sys.stderr)
        for event in service.events():
            emit(event)
    except KeyboardInterrupt:
        pass
    finally:
        service.close()
    return exit_codes.OK
