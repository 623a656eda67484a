"""The report's time buckets: whole intervals, at most MAX_BUCKETS, every interval placed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lgbench.report import MAX_BUCKETS
from lgbench.report._grid import Grid


@pytest.mark.parametrize(
    ("span_s", "interval_s", "width_s", "count"),
    [
        pytest.param(8.337, 1.0, 1.0, 9, id="short run: one interval per bucket"),
        pytest.param(600.0, 1.0, 1.0, 600, id="exactly the limit"),
        pytest.param(601.0, 1.0, 2.0, 301, id="one past the limit: pairs"),
        pytest.param(8 * 3600.0, 1.0, 48.0, 600, id="8 h soak: 48 s buckets"),
        pytest.param(8 * 3600.0 + 0.4, 1.0, 49.0, 588, id="8 h and a short last interval"),
        pytest.param(30.0, 5.0, 5.0, 6, id="5 s intervals"),
        pytest.param(0.0, 1.0, 1.0, 1, id="nothing logged: one empty bucket"),
        pytest.param(3.0, 0.0, 1.0, 3, id="unknown interval: 1 s"),
    ],
)
def test_grid_for_span(span_s: float, interval_s: float, width_s: float, count: int) -> None:
    grid = Grid.for_span(span_s, interval_s)
    assert (grid.width_s, grid.count) == (width_s, count)


def test_index_places_interval_starts_and_clamps() -> None:
    grid = Grid.for_span(8 * 3600.0, 1.0)
    assert grid.index(0.0) == 0
    assert grid.index(47.0) == 0
    assert grid.index(48.0) == 1
    assert grid.index(47.9996) == 1  # the 48th interval, its timer fired a hair early
    assert grid.index(48.0004) == 1
    assert grid.index(-1.0) == 0
    assert grid.index(10 * 3600.0) == grid.count - 1


def test_intervals_a_hair_early_or_late_each_get_their_own_bucket() -> None:
    grid = Grid.for_span(60.0, 1.0)
    starts = [k + (-0.0004 if k % 3 else 0.0006) for k in range(1, 60)]
    assert [grid.index(start) for start in starts] == list(range(1, 60))


@given(
    span_s=st.floats(min_value=0.001, max_value=7 * 24 * 3600.0),
    interval_s=st.sampled_from([0.5, 1.0, 2.0, 5.0, 10.0]),
)
def test_every_grid_covers_the_span_in_whole_intervals(span_s: float, interval_s: float) -> None:
    grid = Grid.for_span(span_s, interval_s)
    assert 1 <= grid.count <= MAX_BUCKETS
    assert grid.count * grid.width_s >= span_s - 1e-6
    per_bucket = grid.width_s / interval_s
    assert abs(per_bucket - round(per_bucket)) < 1e-9
    last_start = (span_s // interval_s) * interval_s
    assert grid.index(last_start) <= grid.count - 1
