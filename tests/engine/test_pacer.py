"""Pacers: table-driven rows, then properties, then a differential test against exact arithmetic."""

from __future__ import annotations

import math
from fractions import Fraction
from itertools import islice

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from lgbench.engine import ScheduleError
from lgbench.engine._pacer import (
    MAX_RATE_PER_S,
    MIN_DURATION_S,
    ConstantRate,
    RampingRate,
    Stage,
    _earliest,
    due_times,
)
from lgbench.errors import UsageError
from lgbench.exitcodes import ExitCode
from tests.engine._exact import ExactSchedule

HOUR = 3600.0
# k6's own ramping-arrival-rate example: 0 -> 1/s over 5 s, hold 1 s, 1 -> 0/s over 5 s.
K6 = RampingRate(0, (Stage(1, 5), Stage(1, 1), Stage(0, 5)))
# A soak: 0 -> 100/s over an hour, 6 hours at 100/s, back to 0 over an hour.
SOAK = RampingRate(0, (Stage(100, HOUR), Stage(100, 6 * HOUR), Stage(0, HOUR)))


def close(actual: float | None, expected: float | None, *, tol: float = 1e-9) -> bool:
    """Equal within ``tol`` absolute or relative (vegeta's floatEqual, in spirit)."""
    if actual is None or expected is None:
        return actual is expected
    return abs(actual - expected) <= tol * max(1.0, abs(expected))


# --- due(t) -------------------------------------------------------------------------------------

DUE_CASES = [
    # happy path
    pytest.param(ConstantRate(10), 0.0, 0, id="start"),  # nothing is due at the start
    pytest.param(ConstantRate(10), 0.1, 1, id="first-interval"),  # first one an interval in
    pytest.param(ConstantRate(10), 0.15, 1, id="between"),  # between two iterations
    pytest.param(ConstantRate(10, 1), 1.0, 10, id="at-end"),  # the last one exactly at the end
    pytest.param(ConstantRate(10, 1), 5.0, 10, id="after-end"),  # the count stops at the end
    pytest.param(ConstantRate(10, 1), math.inf, 10, id="infinity-after-end"),  # still stopped
    pytest.param(ConstantRate(0.5), 4.0, 2, id="fractional-rate"),  # one every 2 s
    pytest.param(ConstantRate(1e-3), 999.0, 0, id="slow-rate"),  # first one at 1000 s
    pytest.param(ConstantRate(1000, 8 * HOUR), 8 * HOUR, 28_800_000, id="8h-end"),  # a soak
    pytest.param(ConstantRate(1000, 8 * HOUR), 4 * HOUR + 5e-4, 14_400_000, id="8h-middle"),
    pytest.param(RampingRate(0, (Stage(10, 10),)), 5.0, 12, id="0-to-N-half"),  # area 12.5
    pytest.param(RampingRate(0, (Stage(10, 10),)), 10.0, 50, id="0-to-N-end"),  # triangle 50
    pytest.param(RampingRate(10, (Stage(0, 10),)), 5.0, 37, id="N-to-0-half"),  # 50 - 12.5
    pytest.param(RampingRate(10, (Stage(0, 10),)), 10.0, 50, id="N-to-0-end"),  # triangle 50
    pytest.param(K6, 5.5, 3, id="k6-hold"),  # 2.5 from the ramp, 0.5 from the hold
    pytest.param(K6, 11.0, 6, id="k6-end"),  # 2.5 + 1 + 2.5
    pytest.param(RampingRate(0, (Stage(10, 0), Stage(10, 1))), 1.0, 10, id="jump"),  # 0-s stage
    pytest.param(SOAK, 8 * HOUR, 2_520_000, id="8h-ramps"),  # 180k + 2.16M + 180k
    pytest.param(SOAK, HOUR, 180_000, id="8h-ramp-up"),  # the first hour's triangle
    # sad path
    pytest.param(ConstantRate(0), 100.0, 0, id="zero-rate"),  # a zero rate never fires
    pytest.param(ConstantRate(10, 0), 10.0, 0, id="zero-duration"),  # nothing to run
    pytest.param(ConstantRate(10), -1.0, 0, id="negative-time"),  # before the start
    pytest.param(RampingRate(0, (Stage(0, 10),)), 10.0, 0, id="zero-ramp"),  # 0 -> 0
    pytest.param(RampingRate(5, (Stage(9, 0),)), 10.0, 0, id="zero-length-stages"),  # no time
    pytest.param(ConstantRate(0.29, 100), 100.0, 28, id="binary-rounding"),  # 0.29 < 29/100
]


@pytest.mark.parametrize(("pacer", "elapsed_s", "want"), DUE_CASES)
def test_due(pacer: ConstantRate | RampingRate, elapsed_s: float, want: int) -> None:
    assert pacer.due(elapsed_s) == want


# --- next_at(n) ---------------------------------------------------------------------------------

NEXT_AT_CASES = [
    # happy path
    pytest.param(ConstantRate(10), 0, 0.1, id="first"),  # one interval in, not at 0
    pytest.param(ConstantRate(10, 1), 9, 1.0, id="last-at-end"),  # the 10th exactly at 1 s
    pytest.param(ConstantRate(4), 3, 1.0, id="binary-rate"),  # exact in binary
    pytest.param(ConstantRate(0.5), 0, 2.0, id="fractional-rate"),  # one every 2 s
    pytest.param(ConstantRate(1000, 8 * HOUR), 28_799_999, 8 * HOUR, id="8h-last"),  # soak end
    pytest.param(ConstantRate(1e-300), 1, 2e300, id="huge-time"),  # far, but representable
    pytest.param(K6, 0, math.sqrt(10), id="k6-0"),  # t^2/10 = 1
    pytest.param(K6, 1, math.sqrt(20), id="k6-1"),  # t^2/10 = 2
    pytest.param(K6, 2, 5.5, id="k6-2"),  # 2.5 + 0.5 in the hold
    pytest.param(K6, 3, 11 - math.sqrt(20), id="k6-3"),  # falling ramp, quadratic
    pytest.param(K6, 4, 11 - math.sqrt(10), id="k6-4"),  # falling ramp, quadratic
    pytest.param(K6, 5, 11.0, id="k6-5"),  # exactly at the end
    pytest.param(RampingRate(10, (Stage(0, 10),)), 0, 10 - math.sqrt(98), id="N-to-0-first"),
    pytest.param(RampingRate(0, (Stage(10, 10),)), 49, 10.0, id="0-to-N-last"),  # at the end
    pytest.param(RampingRate(0, (Stage(10, 0), Stage(10, 1))), 0, 0.1, id="jump"),  # 0-s stage
    pytest.param(
        RampingRate(10, (Stage(0, 0), Stage(0, 5), Stage(10, 0), Stage(10, 1))),
        0,
        5.1,
        id="pause",  # a zero-rate pause adds nothing; the first iteration waits it out
    ),
    pytest.param(SOAK, 179_999, HOUR, id="8h-ramp-up-last"),  # the first hour's triangle
    pytest.param(
        RampingRate(10, (Stage(0, 1), Stage(0.5, 1))),
        4,
        1.0,
        id="crossing-on-a-boundary",  # 5 iterations' worth exactly when the rate touches 0
    ),
    pytest.param(SOAK, 2_519_999, 8 * HOUR, id="8h-last-ramps"),  # the very last one
    # sad path
    pytest.param(ConstantRate(10, 1), 10, None, id="past-end"),  # stop after the end
    pytest.param(ConstantRate(0), 0, None, id="zero-rate"),  # never
    pytest.param(ConstantRate(10, 0), 0, None, id="zero-duration"),  # never
    pytest.param(ConstantRate(1e-300), 10**300, None, id="overflow"),  # beyond any float: stop
    pytest.param(K6, 6, None, id="k6-past-end"),  # only 6 fit
    pytest.param(RampingRate(0, (Stage(0, 10),)), 0, None, id="zero-ramp"),  # 0 -> 0
    pytest.param(RampingRate(10, (Stage(0, 10),)), 50, None, id="N-to-0-past-end"),  # only 50
]


@pytest.mark.parametrize(("pacer", "n", "want"), NEXT_AT_CASES)
def test_next_at(pacer: ConstantRate | RampingRate, n: int, want: float | None) -> None:
    got = pacer.next_at(n)
    assert close(got, want, tol=1e-6), (got, want)
    if got is not None:
        assert pacer.due(got) >= n + 1
        assert pacer.due(math.nextafter(got, -math.inf)) <= n


def test_next_at_is_exact_on_binary_schedules() -> None:
    # With binary-exact rates and times the float answers are the exact ones.
    assert [ConstantRate(4).next_at(n) for n in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert [ConstantRate(10).next_at(n) for n in range(3)] == [0.1, 0.2, 0.3]
    assert RampingRate(0, (Stage(8, 1),)).next_at(0) == 0.5  # 4 t^2 = 1


@pytest.mark.parametrize("pacer", [ConstantRate(1), K6], ids=["constant", "ramping"])
def test_negative_iteration_is_a_bug(pacer: ConstantRate | RampingRate) -> None:
    with pytest.raises(ValueError, match="start at 0"):
        pacer.next_at(-1)


@pytest.mark.parametrize("pacer", [ConstantRate(1), K6], ids=["constant", "ramping"])
def test_nan_time_is_a_bug(pacer: ConstantRate | RampingRate) -> None:
    with pytest.raises(ValueError, match="NaN"):
        pacer.due(math.nan)
    with pytest.raises(ValueError, match="NaN"):
        pacer.rate(math.nan)


def test_endless_schedule_has_no_count_at_infinity() -> None:
    with pytest.raises(ValueError, match="endless"):
        ConstantRate(1).due(math.inf)
    assert ConstantRate(0).due(math.inf) == 0  # a zero rate stays at zero


# --- due_times(pacer, first): next_at for every iteration in turn ------------------------------


def _asked(pacer: ConstantRate | RampingRate, first: int, count: int) -> list[float]:
    """``next_at`` for ``first, first + 1, ...``: at most ``count`` of them, up to ``None``."""
    times: list[float] = []
    for n in range(first, first + count):
        at_s = pacer.next_at(n)
        if at_s is None:
            break
        times.append(at_s)
    return times


DUE_TIMES_CASES = [
    # (pacer, first, count): due_times yields what next_at says, the same floats, and stops
    # where next_at says None.
    (ConstantRate(4, 1), 0, 10),  # 0.25, 0.5, 0.75, 1.0, then the end
    (ConstantRate(5000, 10), 0, 60_000),  # the benchmark's schedule, through its last one
    (ConstantRate(5000), 49_990, 20),  # endless; from the middle
    (ConstantRate(3), 0, 10),  # thirds: the quotient rounds both ways
    (ConstantRate(0.29, 100), 0, 40),  # 28 iterations, not 29 (binary floating point)
    (ConstantRate(7, 1e-3), 0, 5),  # too short for one iteration
    (ConstantRate(0), 0, 5),  # a zero rate: none at all
    (ConstantRate(10, 0), 0, 5),  # a zero duration: none at all
    (ConstantRate(1e9, 1e-6), 0, 2000),  # the highest rate for the shortest time
    (ConstantRate(5e-324), 0, 3),  # the first due time overflows: never
    (ConstantRate(1e-300), 0, 3),  # 1e300 s and on: far, but due
    (ConstantRate(5000, 1), 4_999, 3),  # the last one exactly at the end, then none
    (ConstantRate(5000, 1), 5_000, 3),  # from past the end: none
    (K6, 0, 20),  # a ramp asks next_at itself
    (RampingRate(10, (Stage(0, 10),)), 40, 20),  # the end of a ramp down to 0
]


@pytest.mark.parametrize(("pacer", "first", "count"), DUE_TIMES_CASES)
def test_due_times_are_next_at_in_turn(
    pacer: ConstantRate | RampingRate, first: int, count: int
) -> None:
    want = _asked(pacer, first, count)
    got = list(islice(due_times(pacer, first), count))
    assert got == want
    if len(want) < count:  # next_at said None: the generator has ended too
        assert len(got) == len(want)


def test_due_times_rejects_a_negative_first_iteration() -> None:
    with pytest.raises(ValueError, match="start at 0"):
        due_times(ConstantRate(1), -1)


# --- rate(t) ------------------------------------------------------------------------------------

RATE_CASES = [
    pytest.param(ConstantRate(10, 1), 0.0, 10.0, id="constant-start"),  # on from 0
    pytest.param(ConstantRate(10, 1), 1.0, 0.0, id="constant-end"),  # off at the end
    pytest.param(ConstantRate(10), -0.5, 0.0, id="before-start"),  # off before the start
    pytest.param(K6, 2.5, 0.5, id="k6-rising"),  # half-way up the first ramp
    pytest.param(K6, 5.5, 1.0, id="k6-hold"),  # the hold
    pytest.param(K6, 8.5, 0.5, id="k6-falling"),  # half-way down
    pytest.param(K6, 11.0, 0.0, id="k6-end"),  # stopped
    pytest.param(RampingRate(0, (Stage(10, 0), Stage(10, 1))), 0.0, 10.0, id="jump"),  # at once
    pytest.param(SOAK, 4 * HOUR, 100.0, id="soak-plateau"),  # the plateau of a soak
]


@pytest.mark.parametrize(("pacer", "elapsed_s", "want"), RATE_CASES)
def test_rate(pacer: ConstantRate | RampingRate, elapsed_s: float, want: float) -> None:
    assert close(pacer.rate(elapsed_s), want)


# --- construction -------------------------------------------------------------------------------

INVALID_CASES = [
    pytest.param(lambda: ConstantRate(-1), 1, id="negative-rate"),  # vegeta: negative is a stop
    pytest.param(lambda: ConstantRate(math.nan), 1, id="nan-rate"),  # never compares
    pytest.param(lambda: ConstantRate(math.inf), 1, id="infinite-rate"),  # not a rate
    pytest.param(lambda: ConstantRate(2 * MAX_RATE_PER_S), 1, id="too-fast"),  # beyond the cap
    pytest.param(lambda: ConstantRate(1, -1), 1, id="negative-duration"),  # time runs forward
    pytest.param(lambda: ConstantRate(1, 1e-9), 1, id="nanosecond"),  # below MIN_DURATION_S
    pytest.param(lambda: Stage(1, 1e300), 1, id="stage-too-long"),  # its integral would overflow
    pytest.param(lambda: ConstantRate(-1, math.nan), 2, id="two-problems"),  # all listed
    pytest.param(lambda: Stage(-1, -1), 2, id="stage-both"),  # target and duration
    pytest.param(lambda: Stage(1, math.inf), 1, id="stage-endless"),  # stages must end
    pytest.param(lambda: RampingRate(0, ()), 1, id="no-stages"),  # nothing to ramp
    pytest.param(lambda: RampingRate(-1, ()), 2, id="no-stages-bad-start"),  # both listed
]


@pytest.mark.parametrize(("build", "problems"), INVALID_CASES)
def test_invalid_numbers_are_rejected_with_every_problem(build: object, problems: int) -> None:
    assert callable(build)
    with pytest.raises(ScheduleError) as caught:
        build()
    assert len(caught.value.problems) == problems
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, UsageError)
    assert caught.value.exit_code == ExitCode.USAGE


def test_stages_given_as_a_list_become_a_tuple() -> None:
    pacer = RampingRate(0, [Stage(1, 1)])  # type: ignore[arg-type]
    assert pacer.stages == (Stage(1, 1),)
    assert hash(pacer) == hash(RampingRate(0, (Stage(1, 1),)))


DESCRIBE_CASES = [
    pytest.param(ConstantRate(10, 60), "10/s for 1m0s (600 iterations)", id="constant"),
    pytest.param(ConstantRate(2.5), "2.5/s until stopped", id="endless"),
    pytest.param(K6, "0/s → 1/s over 5s → 1/s over 1s → 0/s over 5s (11s, 6 iterations)", id="k6"),
    pytest.param(
        RampingRate(0, (Stage(10, 0), Stage(10, 0.5))),
        "0/s → 10/s at once → 10/s over 500ms (500ms, 5 iterations)",
        id="jump",
    ),
    pytest.param(
        SOAK,
        "0/s → 100/s over 1h0m0s → 100/s over 6h0m0s → 0/s over 1h0m0s"
        " (8h0m0s, 2520000 iterations)",
        id="soak",
    ),
]


@pytest.mark.parametrize(("pacer", "want"), DESCRIBE_CASES)
def test_describe(pacer: ConstantRate | RampingRate, want: str) -> None:
    assert pacer.describe() == want


# --- properties ---------------------------------------------------------------------------------

rates = st.one_of(
    st.sampled_from([0.0, 0.5, 1.0, 10.0]),
    st.floats(min_value=0, max_value=1000, allow_nan=False),
)
durations = st.one_of(
    st.sampled_from([0.0, 1.0, 8 * HOUR]),
    st.floats(min_value=MIN_DURATION_S, max_value=1000),
)
stages = st.builds(Stage, rates, durations)
constant_rates = st.builds(ConstantRate, rates, st.one_of(durations, st.just(math.inf)))
ramping_rates = st.builds(RampingRate, rates, st.lists(stages, min_size=1, max_size=5).map(tuple))
finite_pacers = st.one_of(st.builds(ConstantRate, rates, durations), ramping_rates)
pacers = st.one_of(constant_rates, ramping_rates)


def _horizon(pacer: ConstantRate | RampingRate) -> float:
    return 1000.0 if math.isinf(pacer.duration_s) else pacer.duration_s + 1


@given(pacers, st.floats(min_value=-1, max_value=1), st.floats(min_value=-1, max_value=1))
def test_due_never_decreases(pacer: ConstantRate | RampingRate, a: float, b: float) -> None:
    t1, t2 = sorted((a * _horizon(pacer), b * _horizon(pacer)))
    assert pacer.due(t1) <= pacer.due(t2)
    # and across the float just above, where rounding would show first
    assert pacer.due(t1) <= pacer.due(math.nextafter(t1, math.inf))


@given(pacers, st.integers(min_value=0, max_value=10**6), st.floats(min_value=1e-12, max_value=1))
@example(K6, 5, 1e-12)  # the last iteration, exactly at the end
@example(RampingRate(10, (Stage(0, 10),)), 49, 1e-12)  # the end of a ramp down to 0
def test_next_at_is_where_due_steps(pacer: ConstantRate | RampingRate, n: int, eps: float) -> None:
    t = pacer.next_at(n)
    if t is None:
        assert math.isinf(pacer.duration_s) or pacer.due(pacer.duration_s) <= n
        return
    assert 0 < t <= pacer.duration_s
    assert pacer.due(t) >= n + 1
    assert pacer.due(math.nextafter(t, -math.inf)) <= n
    assert pacer.due(t - eps * t) <= n
    following = pacer.next_at(n + 1)
    assert following is None or following >= t


@given(constant_rates, st.integers(min_value=0, max_value=10**7))
@example(ConstantRate(5000, 10), 49_999)  # the last iteration of the benchmark's schedule
@example(ConstantRate(3), 2)  # 1.0 exactly
@example(ConstantRate(5000), 2)  # 3 / 5000 rounds down: the answer is the float above
def test_next_at_shortcut_agrees_with_the_search(pacer: ConstantRate, n: int) -> None:
    # next_at returns the quotient (n + 1) / rate, or the float above it, when it checks out;
    # the search is the reference.
    got = pacer.next_at(n)
    need = n + 1
    if got is None:
        return
    assert got == _earliest(pacer.due, need, need / pacer.rate_per_s, got)


@given(constant_rates, st.integers(min_value=0, max_value=10**7))
@example(ConstantRate(5000, 10), 49_995)
@example(ConstantRate(3), 0)
def test_due_times_agree_with_next_at(pacer: ConstantRate, first: int) -> None:
    assert list(islice(due_times(pacer, first), 12)) == _asked(pacer, first, 12)


@given(finite_pacers)
@example(RampingRate(10, (Stage(0, 1), Stage(0.5, 1))))  # a crossing where the rate is 0
def test_the_last_iteration_is_the_total(pacer: ConstantRate | RampingRate) -> None:
    total = pacer.due(pacer.duration_s)
    assert pacer.total_iterations == total
    assert pacer.next_at(total) is None
    if total:
        last = pacer.next_at(total - 1)
        assert last is not None and last <= pacer.duration_s


@given(ramping_rates, st.floats(min_value=0, max_value=1))
def test_rate_stays_between_the_stage_rates(pacer: RampingRate, fraction: float) -> None:
    rates_seen = [pacer.start_rate_per_s, *(stage.target_per_s for stage in pacer.stages)]
    rate = pacer.rate(fraction * pacer.duration_s)
    assert rate == 0 or min(rates_seen) <= rate <= max(rates_seen)


# --- differential: the float pacers against exact rational arithmetic (as k6 does) --------------

TOL = 1e-9  # in iterations, relative to the schedule's total


def _scale(exact: ExactSchedule) -> float:
    if exact.duration_s is None:
        return 1e6
    return max(1.0, float(exact.total()))


@settings(max_examples=60)
@given(finite_pacers, st.floats(min_value=0, max_value=1))
@example(K6, 0.5)
@example(SOAK, 0.77)
@example(ConstantRate(1000, 8 * HOUR), 0.5)
def test_due_matches_the_exact_integral(pacer: ConstantRate | RampingRate, fraction: float) -> None:
    exact = ExactSchedule.of(pacer)
    t = fraction * pacer.duration_s
    area = exact.area(Fraction(t))
    nearest = round(area)
    if abs(area - nearest) <= TOL * _scale(exact):
        assert pacer.due(t) in (nearest - 1, nearest)  # on a boundary: either side is right
    else:
        assert pacer.due(t) == math.floor(area)


@settings(max_examples=60)
@given(pacers, st.integers(min_value=0, max_value=5000))
@example(K6, 3)
@example(SOAK, 2_000_000)
def test_next_at_matches_the_exact_crossing(pacer: ConstantRate | RampingRate, n: int) -> None:
    exact = ExactSchedule.of(pacer)
    t = pacer.next_at(n)
    if exact.duration_s is not None and exact.total() < n + 1:
        assert t is None
        return
    if t is None:
        if exact.duration_s is None:  # endless: only a zero rate or a float overflow stops it
            assert isinstance(pacer, ConstantRate)
            assert pacer.rate_per_s == 0 or math.isinf((n + 1) / pacer.rate_per_s)
        else:  # the exact total reaches n + 1 only within rounding
            assert exact.total() - (n + 1) <= TOL * _scale(exact)
        return
    # In iteration units the float answer sits on the exact crossing.
    assert abs(exact.area(Fraction(t)) - (n + 1)) <= TOL * _scale(exact)
    # In seconds it is as close as the rate around the crossing allows (near a zero rate a tiny
    # area error is a large time error, and the area check above is the meaningful one).
    crossing = float(exact.crossing(n))
    rate = min(pacer.rate(crossing), pacer.rate(math.nextafter(crossing, -math.inf)))
    if rate >= 1:
        assert abs(t - crossing) <= 2 * TOL * _scale(exact) / rate + 1e-12 * crossing
