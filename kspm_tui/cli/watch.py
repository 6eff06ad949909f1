"""`kspm-tui scan --context NAME --watch`: finding opened/resolved events as JSON lines.

Accepted risks (exception files, annotations) are not open findings, so they make no events.
"""

from __future__ import annotations

import argparse
import signal
import sys

from kspm_tui import exit_codes
from kspm_tui.engine.loader import RuleSet
from kspm_tui.scan import ScanSettings
from kspm_tui.yamlio import dump_json


def watch(args: argparse.Namespace, settings: ScanSettings, ruleset: RuleSet) -> int:
    from kspm_tui.cli.progress import collection_progress
    from kspm_tui.sources.kubeconfig import connect
    from kspm_tui.sources.live import Collector
    from kspm_tui.sources.watch import FindingEvent, WatchService

    connection = connect(args.context, args.kubeconfig, timeout=args.request_timeout)
    settings.context = settings.cluster_name = connection.context.name
    settings.server = connection.server
    with collection_progress(connection.context.name) as progress:
        initial = Collector(connection, progress=progress).run()
    service = WatchService(connection, settings, ruleset, initial,
                           on_notice=lambda text: print(f"kspm-tui: {text}", file=sys.stderr, flush=True))
    for err in service.exception_errors:
        print(f"exceptions: {err.file}: {err.message}", file=sys.stderr)

    def emit(event: FindingEvent) -> None:
        sys.stdout.write(dump_json(event.to_json()).decode() + "\n")
        sys.stdout.flush()

    # SIGTERM (a container or CI stopping us) ends watching cleanly, as Ctrl-C does.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        for event in service.start():
            emit(event)
        for gap in initial.collected.coverage:
            print(f"coverage: {gap.reason}", file=sys.stderr)
        print(f"watching context {connection.context.name} for changes (Ctrl-C to stop)", file=sys.stderr)
        for event in service.events():
            emit(event)
    except KeyboardInterrupt:
        pass
    finally:
        service.stop()
        connection.close()
    return exit_codes.OK
