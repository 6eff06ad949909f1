"""Process-level speed helpers shared by the scan path.

Python's cyclic garbage collector runs a full pass each time enough container objects have
been created, and each pass walks every live object. Loading 40k Kubernetes objects creates
millions of dicts and lists, none of them garbage, so with the collector on most of the load
time is the collector re-walking the growing heap (4–6× the parse itself). Parsed manifests,
snapshots and findings form no reference cycles, so pausing the collector for a scan loses
nothing; it resumes when the scan returns.

Resuming is not free either: every object allocated meanwhile is still in the youngest
generation, so the next collection would walk them all (over a second after a 10k-workload
scan). They are the scan's long-lived results, so they are moved to the permanent
generation (`gc.freeze`) instead, where collections never look; reference counting still
frees them when they are dropped.
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
            gc.freeze()
            gc.enable()
