"""Execution segments: tables of shares, then properties — the parts add up to the plan."""

from __future__ import annotations

import heapq
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lgbench.engine._pacer import ConstantRate, RampingRate, Stage
from lgbench.engine._plan import (
    Burst,
    ConstantVus,
    PerVuIterations,
    RampingVus,
    SharedIterations,
    VuStage,
)
from lgbench.engine._segment import (
    ScenarioPlan,
    Segment,
    SegmentPacer,
    SegmentVus,
    plan_scenario,
    segments,
)
from lgbench.errors import UsageError
from lgbench.workload import (
    BurstConfig,
    ConstantArrivalRateConfig,
    ConstantVusConfig,
    PerVuIterationsConfig,
    RampingArrivalRateConfig,
    RampingVusConfig,
    SharedIterationsConfig,
    StageConfig,
)

# --- Segment.share ------------------------------------------------------------------------------

SHARE_CASES = [
    pytest.param(7, 3, [3, 2, 2], id="uneven"),
    pytest.param(6, 3, [2, 2, 2], id="even"),
    pytest.param(2, 4, [1, 1, 0, 0], id="fewer-than-workers"),
    pytest.param(0, 2, [0, 0], id="nothing"),
    pytest.param(1, 1, [1], id="whole"),
]


@pytest.mark.parametrize(("total", "count", "expected"), SHARE_CASES)
def test_shares(total: int, count: int, expected: list[int]) -> None:
    assert [segment.share(total) for segment in segments(count)] == expected


@given(st.integers(0, 10_000), st.integers(1, 64))
def test_shares_add_up_and_differ_by_at_most_one(total: int, count: int) -> None:
    shares = [segment.share(total) for segment in segments(count)]
    assert sum(shares) == total
    assert max(shares) - min(shares) <= 1
    assert shares == sorted(shares, reverse=True)  # the first workers take the remainder


@given(st.integers(1, 64), st.integers(0, 500))
def test_global_indexes_partition_the_items(count: int, total: int) -> None:
    owned = sorted(
        segment.global_index(local)
        for segment in segments(count)
        for local in range(segment.share(total))
    )
    assert owned == list(range(total))
    for segment in segments(count):
        assert all(segment.owns(segment.global_index(k)) for k in range(5))


@pytest.mark.parametrize(("index", "count"), [(0, 0), (2, 2), (-1, 3), (0, True)])
def test_bad_segments(index: int, count: int) -> None:
    with pytest.raises(ValueError, match="segment needs"):
        Segment(index, count)


def test_labels_count_from_one() -> None:
    assert Segment(1, 4).label() == "worker 2/4"
    assert Segment(0, 1).whole and not Segment(0, 2).whole


# --- open model: arrivals interleave ----------------------------------------------------------


def _arrivals(
    pacer: SegmentPacer | ConstantRate | RampingRate, limit: int = 100_000
) -> list[float]:
    times: list[float] = []
    n = 0
    while n < limit and (at := pacer.next_at(n)) is not None:
        times.append(at)
        n += 1
    return times


PACERS = [
    pytest.param(ConstantRate(10, 3), id="constant"),
    pytest.param(ConstantRate(7.5, 2), id="fractional"),
    pytest.param(RampingRate(0, (Stage(20, 2), Stage(20, 1), Stage(0, 2))), id="ramp"),
    pytest.param(RampingRate(5, (Stage(0, 0), Stage(0, 1), Stage(9, 1))), id="pause"),
]


@pytest.mark.parametrize("whole", PACERS)
@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_arrivals_merge_into_the_whole_schedule(
    whole: ConstantRate | RampingRate, count: int
) -> None:
    parts = [_arrivals(SegmentPacer(whole, segment)) for segment in segments(count)]
    merged = list(heapq.merge(*parts))
    assert merged == _arrivals(whole)
    # Interleaved: arrival n is worker n mod N's, at the whole schedule's time for n.
    for index, part in enumerate(parts):
        assert part == _arrivals(whole)[index::count]


def test_arrival_share_counts_and_rate() -> None:
    whole = ConstantRate(10, 3)  # 30 arrivals
    first, second, third, fourth = (SegmentPacer(whole, s) for s in segments(4))
    assert [p.total_iterations for p in (first, second, third, fourth)] == [8, 8, 7, 7]
    assert first.rate(1.0) == 2.5
    assert first.duration_s == 3
    assert [p.due(1.0) for p in (first, second, third, fourth)] == [3, 3, 2, 2]  # 10 due
    assert "arrivals 1, 5…" in first.describe()
    with pytest.raises(ValueError, match="start at 0"):
        first.next_at(-1)


@settings(max_examples=60)
@given(
    st.floats(0.5, 200, allow_nan=False),
    st.floats(0.1, 5, allow_nan=False),
    st.integers(1, 8),
    st.floats(0, 6, allow_nan=False),
)
def test_arrival_dues_add_up_at_every_instant(
    rate: float, duration: float, count: int, at: float
) -> None:
    whole = ConstantRate(rate, duration)
    parts = [SegmentPacer(whole, segment) for segment in segments(count)]
    assert sum(part.due(at) for part in parts) == whole.due(at)
    assert sum(part.total_iterations or 0 for part in parts) == whole.total_iterations


@settings(max_examples=40)
@given(
    st.floats(0, 50, allow_nan=False),
    st.lists(
        st.tuples(st.floats(0, 50, allow_nan=False), st.floats(0, 3, allow_nan=False)),
        min_size=1,
        max_size=4,
    ),
    st.integers(1, 6),
)
def test_ramping_arrivals_merge_exactly(
    start: float, stages: list[tuple[float, float]], count: int
) -> None:
    whole = RampingRate(start, tuple(Stage(target, d if d >= 1e-3 else 0) for target, d in stages))
    parts = [_arrivals(SegmentPacer(whole, segment)) for segment in segments(count)]
    assert list(heapq.merge(*parts)) == _arrivals(whole)


# --- closed model: VU counts at every instant -------------------------------------------------

RAMP = RampingVus(0, (VuStage(10, 10), VuStage(10, 5), VuStage(0, 5)), 7.0)


def test_ramping_vu_shares_by_table() -> None:
    first, second = (SegmentVus(RAMP, s) for s in segments(2))
    # The whole ramp adds a VU every second: VUs 1, 3, 5... are the first worker's.
    assert [p.vus_at(t) for p in (first, second) for t in (0.5, 1, 2, 3, 10, 15.5, 19.9)] == [
        0, 1, 1, 2, 5, 5, 1,
        0, 0, 1, 1, 5, 4, 0,
    ]  # fmt: skip
    assert first.change_points()[:3] == ((0.0, 0), (1.0, 1), (3.0, 2))
    assert first.change_points()[-1].vus == 0
    assert (first.max_vus, second.max_vus) == (5, 5)
    assert first.graceful_ramp_down_s == 7.0
    assert first.duration_s == RAMP.duration_s
    assert "VUs 1, 3…" in first.describe()


@settings(max_examples=80)
@given(
    st.integers(0, 30),
    st.lists(st.tuples(st.integers(0, 30), st.floats(0, 20, allow_nan=False)), min_size=1),
    st.integers(1, 7),
    st.floats(0, 100, allow_nan=False),
)
def test_ramping_vu_shares_add_up_at_every_instant(
    start: int, stages: list[tuple[int, float]], count: int, at: float
) -> None:
    try:
        whole = RampingVus(start, tuple(VuStage(t, d) for t, d in stages))
    except ValueError:
        return  # no VU would ever run: not a plan
    parts = [SegmentVus(whole, segment) for segment in segments(count)]
    assert sum(part.vus_at(at) for part in parts) == whole.vus_at(at)
    assert sum(part.max_vus for part in parts) >= whole.max_vus
    for part in parts:
        points = part.change_points()
        assert points[0].at_s == 0 and points[-1].vus == 0
        # change_points and vus_at agree at each change
        for point in points:
            assert part.vus_at(point.at_s) == point.vus or point.at_s == whole.duration_s


# --- plan_scenario: every executor ------------------------------------------------------------

STAGES = (StageConfig(10, 10), StageConfig(0, 5))


def _plans(config: object, count: int) -> list[ScenarioPlan]:
    return [plan_scenario(config, segment) for segment in segments(count)]  # type: ignore[arg-type]


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7, 16])
def test_constant_vus_split(count: int) -> None:
    plans = _plans(ConstantVusConfig(vus=7, duration_s=30), count)
    vus = [p.schedule.vus if isinstance(p.schedule, ConstantVus) else 0 for p in plans]
    assert sum(vus) == 7
    assert all(p.empty == (v == 0) for p, v in zip(plans, vus, strict=True))
    numbers = sorted(p.vu_number(k) for p, v in zip(plans, vus, strict=True) for k in range(v))
    assert numbers == list(range(1, 8))


@pytest.mark.parametrize("count", [1, 2, 3, 11])
def test_per_vu_iterations_split(count: int) -> None:
    plans = _plans(PerVuIterationsConfig(vus=5, iterations=4, max_duration_s=60), count)
    assert sum(p.iterations or 0 for p in plans) == 20
    for p in plans:
        if isinstance(p.schedule, PerVuIterations):
            assert p.schedule.iterations == 4  # each VU still runs all of its own


@pytest.mark.parametrize(("vus", "iterations"), [(3, 10), (5, 5), (1, 9), (4, 1000)])
@pytest.mark.parametrize("count", [1, 2, 3, 6])
def test_shared_iterations_total_stays_exact(vus: int, iterations: int, count: int) -> None:
    plans = _plans(SharedIterationsConfig(vus=vus, iterations=iterations), count)
    shared = [p.schedule for p in plans if isinstance(p.schedule, SharedIterations)]
    assert sum(s.iterations for s in shared) == iterations
    assert sum(s.vus for s in shared) == vus
    assert all(s.iterations >= s.vus for s in shared)


@given(st.integers(1, 200), st.integers(0, 500), st.integers(1, 12))
def test_shared_iterations_property(vus: int, extra: int, count: int) -> None:
    plans = _plans(SharedIterationsConfig(vus=vus, iterations=vus + extra), count)
    assert sum(p.iterations or 0 for p in plans) == vus + extra


@pytest.mark.parametrize("count", [1, 2, 3])
def test_ramping_vus_split(count: int) -> None:
    config = RampingVusConfig(stages=STAGES, start_vus=0, graceful_ramp_down_s=3)
    plans = _plans(config, count)
    whole = plan_scenario(config).schedule
    assert isinstance(whole, RampingVus)
    for at in (0.5, 1, 4.2, 10, 12.5):
        assert sum(p.schedule.vus_at(at) for p in plans if p.schedule is not None) == (
            whole.vus_at(at)
        )
    assert sum(p.max_vus for p in plans) == whole.max_vus


@pytest.mark.parametrize("count", [1, 2, 4])
def test_arrival_rates_split(count: int) -> None:
    config = ConstantArrivalRateConfig(
        rate=20, duration_s=3, pre_allocated_vus=5, max_vus_limit=9, time_unit_s=1
    )
    plans = _plans(config, count)
    assert sum(p.iterations or 0 for p in plans) == 60
    assert sum(p.pre_allocated_vus for p in plans) == 5
    assert sum(p.max_vus for p in plans) == 9
    ramp = RampingArrivalRateConfig(
        stages=STAGES, pre_allocated_vus=2, max_vus_limit=8, start_rate=0, time_unit_s=1
    )
    total = plan_scenario(ramp).iterations
    assert sum(p.iterations or 0 for p in _plans(ramp, count)) == total


def test_too_few_vus_for_the_workers_is_a_usage_error() -> None:
    config = ConstantArrivalRateConfig(
        rate=20, duration_s=3, pre_allocated_vus=1, max_vus_limit=1, time_unit_s=1
    )
    assert plan_scenario(config, Segment(0, 2)).max_vus == 1
    with pytest.raises(UsageError, match="max_vus \\(1\\) is fewer than the 2 workers"):
        plan_scenario(config, Segment(1, 2))


def test_a_share_without_arrivals_is_empty() -> None:
    config = ConstantArrivalRateConfig(
        rate=1, duration_s=1, pre_allocated_vus=1, max_vus_limit=1, time_unit_s=1
    )
    assert plan_scenario(config, Segment(1, 2)).empty  # the one arrival is worker 1's


@pytest.mark.parametrize("count", [1, 2, 3, 8])
def test_burst_threads_split_runs_whole(count: int) -> None:
    config = BurstConfig(
        threads=5, burst=3, strategy="enqueue", assistant_id="sleepy", stagger_s=0.01
    )
    plans = _plans(config, count)
    bursts = [p.schedule for p in plans if isinstance(p.schedule, Burst)]
    assert sum(b.threads for b in bursts) == 5
    assert all(b.burst == 3 and b.stagger_s == 0.01 for b in bursts)
    assert sum(p.iterations or 0 for p in plans) == 15


def test_whole_plans_are_the_plain_plans() -> None:
    ramp = plan_scenario(RampingVusConfig(stages=STAGES, start_vus=0, graceful_ramp_down_s=3))
    assert isinstance(ramp.schedule, RampingVus)
    rate = plan_scenario(
        ConstantArrivalRateConfig(
            rate=2, duration_s=math.inf, pre_allocated_vus=1, max_vus_limit=2, time_unit_s=1
        )
    )
    assert isinstance(rate.schedule, ConstantRate) and rate.iterations is None
    assert "pre-allocated" in rate.describe()
    assert plan_scenario(ConstantVusConfig(vus=1, duration_s=1), Segment(1, 2)).describe() == (
        "nothing (a share of 0)"
    )
