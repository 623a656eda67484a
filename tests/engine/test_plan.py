"""Closed-model plans: tables of VU counts and starts, then properties of ramps."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lgbench.engine import ScheduleError
from lgbench.engine._plan import (
    Burst,
    BurstStart,
    ConstantVus,
    PerVuIterations,
    RampingVus,
    SharedIterations,
    VuChange,
    VuPlan,
    VuStage,
)

HOUR = 3600.0
# k6's ramping-vus documentation example: up to 10, hold, down to 0.
RAMP = RampingVus(0, (VuStage(10, 10), VuStage(10, 5), VuStage(0, 5)))
SOAK = RampingVus(0, (VuStage(100, 60), VuStage(100, 8 * HOUR), VuStage(0, 60)))
Plan = ConstantVus | RampingVus | PerVuIterations | SharedIterations

# --- vus_at(t) ----------------------------------------------------------------------------------

VUS_AT_CASES = [
    # happy path
    pytest.param(ConstantVus(50, 60), 0.0, 50, id="constant-start"),  # all at once
    pytest.param(ConstantVus(50, 60), 59.999, 50, id="constant-before-end"),  # still running
    pytest.param(ConstantVus(50, 60), 60.0, 0, id="constant-end"),  # stopped at the end
    pytest.param(RAMP, 0.0, 0, id="ramp-start"),  # 0 -> 10: nobody yet
    pytest.param(RAMP, 0.999, 0, id="ramp-before-first"),  # the first VU comes at 1 s
    pytest.param(RAMP, 1.0, 1, id="ramp-first"),  # one per second
    pytest.param(RAMP, 9.5, 9, id="ramp-up"),  # whole VUs only, rounded down going up
    pytest.param(RAMP, 12.0, 10, id="ramp-hold"),  # the plateau
    pytest.param(RAMP, 15.0, 10, id="ramp-down-start"),  # going down begins
    pytest.param(RAMP, 15.25, 10, id="ramp-down-early"),  # rounded up going down
    pytest.param(RAMP, 15.5, 9, id="ramp-down-first"),  # one VU every 0.5 s
    pytest.param(RAMP, 19.99, 1, id="ramp-down-last"),  # the last VU until the end
    pytest.param(RAMP, 20.0, 0, id="ramp-end"),  # all gone
    pytest.param(SOAK, 4 * HOUR, 100, id="8h-soak"),  # hours in
    pytest.param(SOAK, 8 * HOUR + 90, 50, id="8h-soak-ramp-down"),  # half-way down
    pytest.param(RampingVus(5, (VuStage(20, 0), VuStage(20, 10))), 0.0, 20, id="jump"),  # 0-s
    pytest.param(RampingVus(3, (VuStage(3, 10),)), 5.0, 3, id="hold-only"),  # start = target
    pytest.param(PerVuIterations(4, 10, 60), 30.0, 4, id="per-vu"),  # all until done
    pytest.param(SharedIterations(4, 10, 60), 60.0, 0, id="shared-limit"),  # time limit
    # sad path
    pytest.param(ConstantVus(50, 60), -1.0, 0, id="before-start"),  # nothing yet
    pytest.param(RAMP, math.inf, 0, id="infinity"),  # long over
    pytest.param(RampingVus(0, (VuStage(0, 0), VuStage(5, 10))), 0.0, 0, id="zero-stage-first"),
]


@pytest.mark.parametrize(("plan", "elapsed_s", "want"), VUS_AT_CASES)
def test_vus_at(plan: Plan, elapsed_s: float, want: int) -> None:
    assert plan.vus_at(elapsed_s) == want


@pytest.mark.parametrize(
    "plan",
    [
        pytest.param(ConstantVus(1, 1), id="constant"),
        pytest.param(RAMP, id="ramping"),
        pytest.param(PerVuIterations(1, 1, 1), id="per-vu"),
        pytest.param(SharedIterations(1, 1, 1), id="shared"),
    ],
)
def test_nan_time_is_a_bug(plan: Plan) -> None:
    with pytest.raises(ValueError, match="NaN"):
        plan.vus_at(math.nan)


# --- change points, max_vus, duration ----------------------------------------------------------

CHANGE_CASES = [
    pytest.param(ConstantVus(3, 2), [(0.0, 3), (2.0, 0)], id="constant"),  # on and off
    pytest.param(
        RampingVus(0, (VuStage(4, 2),)),
        [(0.0, 0), (0.5, 1), (1.0, 2), (1.5, 3), (2.0, 0)],
        id="up",  # one more every 0.5 s; the step to 4 lands on the end, where all stop
    ),
    pytest.param(
        RampingVus(4, (VuStage(0, 2),)),
        [(0.0, 4), (0.5, 3), (1.0, 2), (1.5, 1), (2.0, 0)],
        id="down",  # one fewer every 0.5 s
    ),
    pytest.param(
        RampingVus(2, (VuStage(2, 3), VuStage(6, 0), VuStage(6, 1))),
        [(0.0, 2), (3.0, 6), (4.0, 0)],
        id="hold-jump",  # a hold adds no change; a 0-s stage jumps
    ),
    pytest.param(
        RampingVus(0, (VuStage(2, 1), VuStage(0, 0), VuStage(1, 1))),
        [(0.0, 0), (0.5, 1), (1.0, 0)],
        id="drop-at-once",  # 2 at 1 s and 0 at 1 s: the later change wins the instant, and
        # the climb back to 1 lands on the end, so nobody runs again
    ),
    pytest.param(PerVuIterations(2, 5, 9), [(0.0, 2), (9.0, 0)], id="per-vu"),  # time limit
    pytest.param(SharedIterations(2, 5, 9), [(0.0, 2), (9.0, 0)], id="shared"),  # time limit
]


@pytest.mark.parametrize(("plan", "want"), CHANGE_CASES)
def test_change_points(plan: VuPlan, want: list[tuple[float, int]]) -> None:
    points = plan.change_points()
    assert [tuple(point) for point in points] == want
    assert all(isinstance(point, VuChange) for point in points)


def test_duration_is_the_sum_of_stages_even_when_the_end_changes_nothing() -> None:
    plan = RampingVus(0, (VuStage(2, 1), VuStage(0, 0), VuStage(1, 1)))
    assert plan.duration_s == 2.0
    assert plan.change_points()[-1] == VuChange(1.0, 0)


def test_change_points_agree_with_vus_at_on_a_long_soak() -> None:
    points = SOAK.change_points()
    assert len(points) == 1 + 100 + 100  # start, each VU up, each VU down (the last at the end)
    for point in points:
        assert SOAK.vus_at(point.at_s) == point.vus
    assert SOAK.duration_s == 8 * HOUR + 120
    assert SOAK.max_vus == 100


MAX_VUS_CASES = [
    pytest.param(ConstantVus(7, 1), 7, id="constant"),  # all of them
    pytest.param(RAMP, 10, id="ramping"),  # the peak
    pytest.param(RampingVus(9, (VuStage(2, 5),)), 9, id="ramping-from-start"),  # the start
    pytest.param(PerVuIterations(3, 100, 1), 3, id="per-vu"),  # one per VU
    pytest.param(SharedIterations(3, 100, 1), 3, id="shared"),  # one per VU
    pytest.param(Burst(100, 3), 300, id="burst"),  # every run may be in flight
]


@pytest.mark.parametrize(("plan", "want"), MAX_VUS_CASES)
def test_max_vus(plan: VuPlan | Burst, want: int) -> None:
    assert plan.max_vus == want


# --- bursts -------------------------------------------------------------------------------------

BURST_CASES = [
    pytest.param(
        Burst(2, 2),
        [(0.0, 0, 0), (0.0, 1, 0), (0.0, 0, 1), (0.0, 1, 1)],
        id="at-once",  # run 0 everywhere, then run 1 everywhere
    ),
    pytest.param(
        Burst(2, 3, 0.25),
        [(0.0, 0, 0), (0.0, 1, 0), (0.25, 0, 1), (0.25, 1, 1), (0.5, 0, 2), (0.5, 1, 2)],
        id="staggered",  # run r at r * stagger_s
    ),
    pytest.param(Burst(1, 1), [(0.0, 0, 0)], id="single"),  # one thread, one run
]


@pytest.mark.parametrize(("plan", "want"), BURST_CASES)
def test_burst_starts(plan: Burst, want: list[tuple[float, int, int]]) -> None:
    starts = plan.starts()
    assert [tuple(start) for start in starts] == want
    assert all(isinstance(start, BurstStart) for start in starts)
    assert plan.duration_s == want[-1][0]


BURST_DUE_CASES = [
    pytest.param(Burst(2, 3, 0.25), -0.1, 0, id="before-start"),  # nothing yet
    pytest.param(Burst(2, 3, 0.25), 0.0, 2, id="first-wave"),  # run 0 on both threads
    pytest.param(Burst(2, 3, 0.25), 0.3, 4, id="second-wave"),  # run 1 too
    pytest.param(Burst(2, 3, 0.25), 0.5, 6, id="last-wave"),  # all of them
    pytest.param(Burst(2, 3, 0.25), 99.0, 6, id="after"),  # still all
    pytest.param(Burst(2, 3, 0.1), 0.2, 6, id="float-offsets"),  # 2 * 0.1 <= 0.2
    pytest.param(Burst(3, 4), 0.0, 12, id="at-once"),  # every run at 0
    pytest.param(Burst(3, 4, 1), math.inf, 12, id="infinity"),  # all
]


@pytest.mark.parametrize(("plan", "elapsed_s", "want"), BURST_DUE_CASES)
def test_burst_due(plan: Burst, elapsed_s: float, want: int) -> None:
    assert plan.due(elapsed_s) == want
    assert want == sum(start.offset_s <= elapsed_s for start in plan.starts())


# --- construction and descriptions -------------------------------------------------------------

INVALID_CASES = [
    pytest.param(lambda: ConstantVus(0, 10), 1, id="no-vus"),  # nobody to run
    pytest.param(lambda: ConstantVus(1, 0), 1, id="zero-duration"),  # no time to run
    pytest.param(lambda: ConstantVus(-1, math.nan), 2, id="both"),  # every problem listed
    pytest.param(lambda: ConstantVus(1.5, 1), 1, id="fractional-vus"),  # type: ignore[arg-type]  # whole VUs only
    pytest.param(lambda: ConstantVus(True, 1), 1, id="bool-vus"),  # not a count
    pytest.param(lambda: VuStage(-1, -1), 2, id="stage-both"),  # target and duration
    pytest.param(lambda: VuStage(1, math.inf), 1, id="stage-endless"),  # stages end
    pytest.param(lambda: RampingVus(0, ()), 1, id="no-stages"),  # nothing to ramp
    pytest.param(lambda: RampingVus(0, (VuStage(5, 0),)), 1, id="no-time"),  # 0 s in all
    pytest.param(lambda: RampingVus(0, (VuStage(0, 5),)), 1, id="no-vus-ever"),  # 0 VUs
    pytest.param(lambda: RampingVus(0, (VuStage(1, 5),)), 1, id="first-vu-at-end"),  # never runs
    pytest.param(lambda: RampingVus(0, (VuStage(1, 1),), -1), 1, id="negative-grace"),
    pytest.param(lambda: PerVuIterations(1, 0, 10), 1, id="no-iterations"),  # nothing to do
    pytest.param(lambda: SharedIterations(5, 3, 10), 1, id="fewer-iterations-than-vus"),  # k6
    pytest.param(lambda: SharedIterations(0, 0, 0), 3, id="shared-all-wrong"),  # all listed
    pytest.param(lambda: Burst(0, 0, -1), 3, id="burst-all-wrong"),  # all listed
]


@pytest.mark.parametrize(("build", "problems"), INVALID_CASES)
def test_invalid_plans_list_every_problem(build: object, problems: int) -> None:
    assert callable(build)
    with pytest.raises(ScheduleError) as caught:
        build()
    assert len(caught.value.problems) == problems, caught.value.problems


DESCRIBE_CASES = [
    pytest.param(ConstantVus(50, 60), "50 VUs for 1m0s", id="constant"),
    pytest.param(ConstantVus(1, 90), "1 VU for 1m30s", id="constant-one"),
    pytest.param(
        RAMP,
        "0 → 10 VUs over 10s → 10 over 5s → 0 over 5s (20s, max 10, graceful ramp-down 30s)",
        id="ramping",
    ),
    pytest.param(
        RampingVus(5, (VuStage(20, 0), VuStage(20, 8 * HOUR)), graceful_ramp_down_s=0),
        "5 → 20 VUs at once → 20 over 8h0m0s (8h0m0s, max 20, graceful ramp-down 0s)",
        id="ramping-jump",
    ),
    pytest.param(
        PerVuIterations(10, 5, 600),
        "10 VUs x 5 iterations each (50 in all, at most 10m0s)",
        id="per-vu",
    ),
    pytest.param(
        SharedIterations(10, 100, 600),
        "100 iterations shared by 10 VUs (at most 10m0s)",
        id="shared",
    ),
    pytest.param(Burst(100, 3), "100 threads x 3 runs, at once", id="burst"),
    pytest.param(Burst(1, 2, 0.01), "1 thread x 2 runs, 10ms apart", id="burst-staggered"),
]


@pytest.mark.parametrize(("plan", "want"), DESCRIBE_CASES)
def test_describe(plan: VuPlan | Burst, want: str) -> None:
    assert plan.describe() == want


# --- properties ---------------------------------------------------------------------------------

vu_stages = st.builds(
    VuStage,
    st.integers(min_value=0, max_value=50),
    st.one_of(st.just(0.0), st.floats(min_value=1e-3, max_value=1000)),
)


@st.composite
def ramping_vus(draw: st.DrawFn) -> RampingVus:
    start = draw(st.integers(min_value=0, max_value=50))
    stages = tuple(draw(st.lists(vu_stages, min_size=1, max_size=5)))
    try:
        return RampingVus(start, stages)
    except ScheduleError:  # no time, or no VU ever: end with one VU for a second
        return RampingVus(start, (*stages, VuStage(1, 0.0), VuStage(1, 1.0)))


@given(ramping_vus(), st.floats(min_value=0, max_value=1))
def test_ramp_counts_stay_within_the_stage_targets(plan: RampingVus, fraction: float) -> None:
    t = fraction * plan.duration_s
    counts = [plan.start_vus, *(stage.target_vus for stage in plan.stages)]
    vus = plan.vus_at(t)
    assert 0 <= vus <= plan.max_vus <= max(counts)
    assert plan.max_vus == max(point.vus for point in plan.change_points())
    assert t >= plan.duration_s or min(counts) <= vus


@given(ramping_vus())
def test_change_points_are_ordered_real_changes(plan: RampingVus) -> None:
    points = plan.change_points()
    assert points[0].at_s == 0.0 and points[0].vus == plan.vus_at(0.0)
    assert points[-1].vus == 0 and points[-1].at_s <= plan.duration_s
    assert plan.vus_at(plan.duration_s) == 0
    for before, after in itertools.pairwise(points):
        assert before.at_s < after.at_s
        assert before.vus != after.vus
    for point in points:
        assert plan.vus_at(point.at_s) == point.vus
        assert plan.vus_at(math.nextafter(point.at_s, -math.inf)) != point.vus or point.at_s == 0


@given(ramping_vus())
def test_each_stage_ends_on_its_target(plan: RampingVus) -> None:
    end_s = 0.0
    for index, stage in enumerate(plan.stages):
        end_s += stage.duration_s
        later = plan.stages[index + 1 :]
        jumps_at_once = later and later[0].duration_s == 0
        if stage.duration_s > 0 and not jumps_at_once and end_s < plan.duration_s:
            assert plan.vus_at(end_s) == stage.target_vus
