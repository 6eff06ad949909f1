"""Crash reports: one file per unexpected error in the user data dir, the last few kept.

Headless (no Textual import) so the CLI can use it as well as the explorer. A report holds
the version, the platform and the traceback of the error that really happened (a Textual
worker's `WorkerFailed` is unwrapped), but never local variables: they may hold cluster data
or credentials, and a report is meant to be attached to a public issue.
"""

from __future__ import annotations

import platform
import secrets
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

from kspm_tui import __version__
from kspm_tui.atomic_write import atomic_write
from kspm_tui.locations import data_dir

KEEP = 10
PREFIX = "crash-"


def crash_dir() -> Path:
    return data_dir() / "crashes"


def unwrap(error: BaseException) -> BaseException:
    """The error that was raised, not a wrapper around it (Textual's WorkerFailed keeps it in `.error`)."""
    seen: set[int] = set()
    while isinstance(inner := getattr(error, "error", None), BaseException) and id(inner) not in seen:
        seen.add(id(error))
        error = inner
    return error


def report_text(error: BaseException, when: datetime) -> str:
    error = unwrap(error)
    lines = traceback.format_exception(type(error), error, error.__traceback__)  # no locals, ever
    return (f"kspm-tui {__version__} crash report\ntime: {when.isoformat()}\n"
            f"python: {sys.version.split()[0]} on {platform.platform()}\n\n" + "".join(lines))


def save_report(error: BaseException, keep: int = KEEP) -> Path:
    """Write the report, drop the oldest beyond `keep`; the path (even when writing failed)."""
    when = datetime.now(UTC)
    folder = crash_dir()
    path = folder / f"{PREFIX}{when.strftime('%Y%m%dT%H%M%S%f')}-{secrets.token_hex(3)}.txt"
    try:
        atomic_write(path, report_text(error, when).encode())
        for old in sorted(folder.glob(f"{PREFIX}*.txt"))[:-keep]:
            old.unlink(missing_ok=True)
    except OSError:
        pass
    return path


def summary(error: BaseException, path: Path) -> str:
    """The one line a user sees."""
    error = unwrap(error)
    return (f"kspm-tui stopped on an unexpected error: {type(error).__name__}: {error}. "
            f"The crash report is in {path}; please attach it when you report this.")
