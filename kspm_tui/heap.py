"""The C heap of a process that watches for weeks: make glibc give back what it frees.

Measured (`bench/README.md`, "Soak"): under churn with relists the watch's Python objects and
its C allocations in use stay flat, yet glibc's heap grows at relists (every kind listed
again on its own thread at once) and keeps what was freed: 108 → 198 MB of heap holding
25-29 MB in use over five minutes at 1k workloads. Two of glibc's defaults cause it: a freed
large block raises the mmap threshold to its size (up to 32 MB), so later page-sized list
bodies come from the heap instead of mmap and stay there; and each thread may get an arena
of its own (8 per core), each keeping its high-water mark. `bound()` fixes both thresholds
and caps the arenas; `trim()` hands free pages back after a burst (the initial list, a relist).

Elsewhere (musl, macOS) both do nothing: the process runs as before.
"""

from __future__ import annotations

import ctypes
import os
import sys
from functools import cache

# mallopt parameter (glibc's malloc.h), our value, and the environment variable and tunable
# that set it instead (a setting the user chose is kept).
SETTINGS = (
    (-3, 128 * 1024, "MALLOC_MMAP_THRESHOLD_", "glibc.malloc.mmap_threshold"),  # glibc's start, kept
    (-1, 128 * 1024, "MALLOC_TRIM_THRESHOLD_", "glibc.malloc.trim_threshold"),  # top beyond this goes back
    (-8, 2, "MALLOC_ARENA_MAX", "glibc.malloc.arena_max"),  # shared by the watch's threads (most wait on sockets)
)


@cache
def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 - only glibc has it (musl has mallopt but not these semantics)
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
    except (OSError, AttributeError):
        return None
    return libc


@cache
def bound() -> bool:
    """Fix glibc's thresholds and cap its arenas for the rest of the process (once; before
    the watch's threads start, so they share the capped arenas), except what the environment
    sets (`MALLOC_*`, `GLIBC_TUNABLES`). Whether it applied."""
    libc = _glibc()
    if libc is None:
        return False
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    return all(libc.mallopt(param, value) == 1 for param, value, variable, tunable in SETTINGS
               if variable not in os.environ and tunable not in tunables)


def trim() -> None:
    """Give free heap pages back to the system (a few ms; after a burst, not per batch)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
