"""The start-up heap is frozen for the run and given back to the collector after it."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator

import pytest

from lgbench.engine._heap import start_up_heap_frozen


@pytest.fixture(autouse=True)
def _collector_restored() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.unfreeze()
    yield
    gc.unfreeze()
    if enabled:
        gc.enable()


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_start_up_objects_are_frozen_then_released() -> None:
    with start_up_heap_frozen():
        assert gc.get_freeze_count() > 0
        # What the run creates is still collected as usual.
        before = len(gc.get_objects())
        for _ in range(1000):
            _Cycle()
        gc.collect()
        assert len(gc.get_objects()) < before + 100
    assert gc.get_freeze_count() == 0


def test_nested_blocks_unfreeze_at_the_outermost_end() -> None:
    with start_up_heap_frozen():
        frozen = gc.get_freeze_count()
        with start_up_heap_frozen():
            assert gc.get_freeze_count() == frozen
        assert gc.get_freeze_count() == frozen
    assert gc.get_freeze_count() == 0


def test_a_callers_own_freeze_is_left_alone() -> None:
    gc.freeze()
    frozen = gc.get_freeze_count()
    with start_up_heap_frozen():
        assert gc.get_freeze_count() == frozen
    assert gc.get_freeze_count() == frozen


def test_a_disabled_collector_stays_as_the_caller_set_it() -> None:
    gc.disable()
    with start_up_heap_frozen():
        assert gc.get_freeze_count() == 0
        assert not gc.isenabled()


def test_what_the_load_imports_on_first_use_is_imported_before_it() -> None:
    # In a fresh interpreter (this one may have numpy already): the histograms' fold would
    # otherwise import it in the load's first second.
    code = (
        "import sys\n"
        "from lgbench.engine._heap import start_up_heap_frozen\n"
        "assert 'numpy' not in sys.modules\n"
        "with start_up_heap_frozen():\n"
        "    assert 'numpy' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
