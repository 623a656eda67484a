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
import importlib
from collections.abc import Iterator

__all__ = ["start_up_heap_frozen"]

# Imported lazily where they are used, and used by the load within its first second: numpy
# folds the latency histograms' values every 4,096 of them (lgbench/metrics/_hdr.py). A
# library caller of run_workload that has not imported it yet (the command line has, for
# its other verbs) would import it there, 0.1-0.2 s in one piece; imported here, before the
# run's clock starts, it also joins the frozen heap.
_LOADED_ON_FIRST_USE = ("numpy",)


@contextlib.contextmanager
def start_up_heap_frozen() -> Iterator[None]:
    """Import what the load imports on first use, collect, freeze what survives for the
    duration of the block, unfreeze after.

    Nothing is done when the caller turned the collector off or froze objects of its own
    (unfreezing would undo that); nested or concurrent blocks (two runs in one process)
    unfreeze when the outermost one ends.
    """
    global _frozen_by_us
    for module in _LOADED_ON_FIRST_USE:
        importlib.import_module(module)
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
