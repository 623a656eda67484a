"""The start-up heap, set aside from the garbage collector while the load runs.

By the time the load starts, the process holds a few hundred thousand long-lived objects:
modules, classes, the workload, the client, the event loop's machinery. CPython's full
(generation 2) collection walks all of them, and the first VUs, actors and connections
promote enough new objects to trigger one within the first second: tens of milliseconds
in one piece, during which every timer fires late and, at a few thousand iterations per
second, every VU of an open-model scenario ends up busy and iterations are dropped
(benchmarks/README.md traces it). Collecting once before the run's clock starts and then
freezing what is left (:func:`gc.freeze`) moves that walk before the load and keeps the
start-up objects out of every later collection; the run's own cyclic garbage is still
collected as usual, and reference counting frees start-up objects as before. (A start-up
object that becomes part of a garbage cycle during the run waits for its end: bounded by
the start-up heap, so a soak does not grow from it.) The heap is unfrozen when the run
ends, so a process that runs several workloads (tests, a library caller) does not keep one
run's objects for good.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["start_up_heap_frozen"]


@contextlib.contextmanager
def start_up_heap_frozen() -> Iterator[None]:
    """Collect, freeze what survives for the duration of the block, unfreeze after.

    Nothing is done when the caller turned the collector off or froze objects of its own
    (unfreezing would undo that); nested or concurrent blocks (two runs in one process)
    unfreeze when the outermost one ends.
    """
    global _frozen_by_us
    ours = not _frozen_by_us and gc.isenabled() and gc.get_freeze_count() == 0
    if ours:
        gc.collect()
        gc.freeze()
        _frozen_by_us = True
    try:
        yield
    finally:
        if ours:
            gc.unfreeze()
            _frozen_by_us = False


_frozen_by_us = False
