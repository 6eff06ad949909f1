"""The collection progress bar: on stderr, only when stderr is a terminal."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from kspm_tui.sources.live import Progress, ProgressFn


@contextmanager
def collection_progress(context: str) -> Iterator[ProgressFn | None]:
    """A callback for `Collector` that drives a rich bar (kinds done, objects read)."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    from kspm_tui.safe_console import SafeConsole
    from kspm_tui.textsafe import raw_stderr

    with Bar(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
             TextColumn("kinds  {task.fields[objects]} objects"), TimeElapsedColumn(),
             console=SafeConsole(file=raw_stderr()), transient=True) as bar:
        task = bar.add_task(f"reading {context}", total=None, objects=0)

        def update(p: Progress) -> None:
            bar.update(task, completed=p.kinds_done, total=p.kinds_total, objects=p.objects)

        yield update
