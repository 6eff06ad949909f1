"""The collection progress bar: on stderr, only when stderr is a terminal."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from kspm_tui.scan import Progress, Step


@contextmanager
def collection_progress(label: str) -> Iterator[Progress | None]:
    """A scan progress callback that drives a rich bar while a live cluster is listed."""
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
        task = bar.add_task(f"reading {label}", total=None, objects=0)

        def update(step: Step) -> None:
            if step.stage == "collect":
                bar.update(task, completed=step.done, total=step.total, objects=step.objects)

        yield update
