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

Not in a long-running process, though: a freeze moves *every* tracked object to the
permanent generation, including whatever cyclic garbage the rest of the process (the
explorer's UI, a watch's earlier batches) has not collected yet, and that is then never
freed. The watch loop pauses with `freeze=False` around each batch (and everything nested
in it: the engine's own pauses see the collector already off and leave it alone).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc(*, freeze: bool = True) -> Iterator[None]:
    """Pause the cyclic collector for the block; nesting-safe, restores the previous state.

    `freeze`: move what survives to the permanent generation on the way out (one-shot scans);
    long-running loops pass False so garbage made meanwhile stays collectable.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if freeze:
                gc.freeze()
            gc.enable()
