"""Saved state on disk: written atomically so a crash never leaves a half-written file."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO


def atomic_write(path: Path, data: bytes | Iterable[bytes]) -> None:
    """Write-temp-then-rename in the same directory, fsynced: readers see old or new, never half.

    `data` may be pieces (a streamed report), written one after the other. A symlink is
    written through (its target replaced, the link kept), and a device or pipe
    (`/dev/stdout`, a FIFO) is written to in place: renaming over those would replace them.
    """
    try:
        mode: int | None = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        with open(path, "wb") as handle:
            _write(handle, data)
        return
    path = Path(os.path.realpath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if mode is not None:
            os.chmod(tmp, stat.S_IMODE(mode))  # a replaced file keeps its permissions
        with os.fdopen(fd, "wb") as handle:
            _write(handle, data)
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write(handle: BinaryIO, data: bytes | Iterable[bytes]) -> None:
    handle.writelines([data] if isinstance(data, bytes) else data)
    handle.flush()
