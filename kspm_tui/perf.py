"""Process-level speed helpers shared by the scan path.

Python's cyclic garbage collector runs a full pass each time enough container objects have
been created, and each pass walks every live object. Loading 40k Kubernetes objects creates
millions of dicts and lists, none of them garbage, so with the collector on most of the load
time is the collector re-walking the growing heap (4–6× the parse itself). Parsed manifests,
snapshots and findings form no reference cycles, so pausing the collector for a scan loses
nothing; it resumes (and collects whatever it missed) when the scan returns.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic collector for the block; nesting-safe, restores the previous state."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
