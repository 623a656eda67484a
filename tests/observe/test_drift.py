"""Drift: the Theil-Sen slope, the figures of a series of windows, and the tracker's windows."""

from __future__ import annotations

import gc
import math
import random
from collections.abc import Callable

import pytest

from lgbench.metrics import IntervalSnapshot, LatencyRecorder, MetricKey, OperationMetrics
from lgbench.observe import (
    EDGE_WINDOWS,
    MAX_PAIRS,
    MIN_WINDOWS,
    DriftTracker,
    WindowPoint,
    drift_from_points,
    theil_sen_slope,
)

HOUR_S = 3600.0


def close(a: float | None, b: float, tolerance: float) -> bool:
    return a is not None and abs(a - b) <= tolerance


# --- theil_sen_slope --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("xs", "ys", "slope"),
    [
        # happy path
        pytest.param([0, 1, 2], [5, 5, 5], 0.0, id="flat"),
        pytest.param([0, 1, 2, 3], [1, 3, 5, 7], 2.0, id="exact-line"),
        pytest.param([0, 1, 2, 3], [7, 5, 3, 1], -2.0, id="falling"),
        pytest.param([3, 0, 2, 1], [7, 1, 5, 3], 2.0, id="any-order"),
        # one outlier among five does not move the median slope
        pytest.param([0, 1, 2, 3, 4], [0, 1, 100, 3, 4], 1.0, id="one-outlier"),
        # sad path: nothing to take a slope of
        pytest.param([], [], None, id="empty"),
        pytest.param([1], [2], None, id="one-point"),
        pytest.param([1, 1, 1], [1, 2, 3], None, id="same-x"),
    ],
)
def test_theil_sen_slope(xs: list[float], ys: list[float], slope: float | None) -> None:
    assert theil_sen_slope(xs, ys) == slope


def test_theil_sen_slope_refuses_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="2 x values but 1 y values"):
        theil_sen_slope([0, 1], [1])


def test_theil_sen_slope_samples_long_series_deterministically() -> None:
    n = 2_000  # ~2 million pairs: far past MAX_PAIRS
    assert n * (n - 1) // 2 > MAX_PAIRS
    noise = random.Random(7)
    xs = [float(i) for i in range(n)]
    ys = [3.0 * x + noise.gauss(0, 50) for x in xs]
    first = theil_sen_slope(xs, ys)
    assert first == theil_sen_slope(xs, ys)  # same series, same sample, same slope
    assert close(first, 3.0, 0.05)


# --- drift_from_points ------------------------------------------------------------------------


def series(
    windows: int,
    p50: Callable[[float], float],
    *,
    window_s: float = 60.0,
    error_rate: Callable[[float], float] = lambda t: 0.0,
) -> list[list[float | int | None]]:
    """Points at the end of each window, p99 = 3 x p50, 100 operations each."""
    points: list[list[float | int | None]] = []
    for k in range(windows):
        end_s = (k + 1) * window_s
        points.append([end_s, p50(end_s), 3 * p50(end_s), error_rate(end_s), 100])
    return points


def growth(per_h: float, base_ms: float = 100.0) -> Callable[[float], float]:
    """A level growing linearly by ``per_h`` of ``base_ms`` each hour."""
    return lambda t: base_ms * (1 + per_h * t / HOUR_S)


def centred(per_h: float, windows: int, window_s: float = 60.0) -> Callable[[float], float]:
    """A line whose slope is ``per_h`` of its middle (median) level, 100 ms, each hour."""
    middle_s = (windows + 1) / 2 * window_s
    return lambda t: 100.0 * (1 + per_h * (t - middle_s) / HOUR_S)


def with_noise(
    level: Callable[[float], float], sigma: float, seed: int
) -> Callable[[float], float]:
    noise = random.Random(seed)
    return lambda t: level(t) * (1 + noise.gauss(0, sigma))


def with_spike(level: Callable[[float], float], at_s: float) -> Callable[[float], float]:
    return lambda t: level(t) * (20 if t == at_s else 1)


# (points, expected relative p50 drift per hour, tolerance)
DRIFTS = [
    pytest.param(series(480, lambda t: 100.0), 0.0, 1e-12, id="flat-8h"),
    # slope 20 % of the median level per hour, 1 h and 8 h of windows
    pytest.param(series(60, centred(0.2, 60)), 0.2, 0.002, id="20pc-per-h-of-median-1h"),
    pytest.param(series(480, centred(0.2, 480)), 0.2, 0.002, id="20pc-per-h-of-median-8h"),
    # linear growth of 20 % of the START level per hour: relative to the median level
    # (that of the middle window: 1.8x the start after 8 h, 1.1x after 1 h)
    pytest.param(series(480, growth(0.2)), 0.2 / 1.8, 0.002, id="linear-20pc-per-h-8h"),
    pytest.param(series(60, growth(0.2)), 0.2 / 1.1, 0.002, id="linear-20pc-per-h-1h"),
    pytest.param(series(30, growth(-0.3)), -0.3 / (1 - 0.3 * 0.25), 0.01, id="falling"),
    pytest.param(series(60, with_spike(growth(0.2), 1800.0)), 0.2 / 1.1, 0.01, id="one-spike"),
    pytest.param(series(60, with_spike(lambda t: 50.0, 60.0)), 0.0, 1e-12, id="spike-first"),
    pytest.param(series(120, with_noise(lambda t: 80.0, 0.1, 1)), 0.0, 0.05, id="noise-flat"),
    pytest.param(
        series(120, with_noise(growth(0.2), 0.1, 2)), 0.2 / 1.2, 0.05, id="noise-20pc-per-h"
    ),
]


@pytest.mark.parametrize(("points", "relative_per_h", "tolerance"), DRIFTS)
def test_latency_drift(
    points: list[list[float | int | None]], relative_per_h: float, tolerance: float
) -> None:
    drift = drift_from_points(points)
    assert drift["windows"] == len(points)
    for key in ("p50", "p99"):
        figures = drift[key]
        assert close(figures["relative_per_h"], relative_per_h, tolerance), figures
        # the absolute slope is the relative one times the median level
        level = sorted(p[1 if key == "p50" else 2] for p in points)[len(points) // 2]
        assert close(figures["slope_ms_per_h"], relative_per_h * level, tolerance * level * 2)
        assert figures["first_ms"] > 0
        ratio = figures["last_ms"] / figures["first_ms"]
        assert figures["first_last_ratio"] == pytest.approx(ratio)


def test_first_and_last_are_medians_of_the_edge_windows() -> None:
    # The first window is a cold start 10x slower, the last one a ramp-down blip.
    levels = [1000.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 10.0]
    points = [[60.0 * (k + 1), level, level, 0.0, 10] for k, level in enumerate(levels)]
    p50 = drift_from_points(points)["p50"]
    assert EDGE_WINDOWS == 3
    assert p50["first_ms"] == 100.0  # median of 1000, 100, 100
    assert p50["last_ms"] == 100.0  # median of 100, 100, 10
    assert p50["first_last_ratio"] == 1.0
    assert p50["slope_ms_per_h"] == 0.0


@pytest.mark.parametrize(
    ("levels", "first", "last"),
    [
        pytest.param([1.0, 2.0, 3.0], 1.0, 3.0, id="3-windows-1-each"),
        pytest.param([1.0, 2.0, 3.0, 4.0], 1.5, 3.5, id="4-windows-2-each"),
        pytest.param([1.0, 2.0, 3.0, 4.0, 5.0], 1.5, 4.5, id="5-windows-2-each"),
        pytest.param([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2.0, 5.0, id="6-windows-3-each"),
    ],
)
def test_edge_windows_of_short_runs_do_not_overlap(
    levels: list[float], first: float, last: float
) -> None:
    points = [[60.0 * (k + 1), level, level, 0.0, 1] for k, level in enumerate(levels)]
    p50 = drift_from_points(points)["p50"]
    assert (p50["first_ms"], p50["last_ms"]) == (first, last)


@pytest.mark.parametrize("windows", [0, 1, MIN_WINDOWS - 1])
def test_too_few_windows_give_no_figures(windows: int) -> None:
    drift = drift_from_points(series(windows, growth(0.2)))
    assert drift == {
        "windows": windows,
        "p50": None,
        "p99": None,
        "error_rate": None,
        "points": series(windows, growth(0.2)),
    }


def test_error_rate_drift() -> None:
    # from 1 % to 1 % + 2 points per hour
    points = series(120, lambda t: 10.0, error_rate=lambda t: 0.01 + 0.02 * t / HOUR_S)
    errors = drift_from_points(points)["error_rate"]
    assert close(errors["slope_per_h"], 0.02, 1e-9)
    assert close(errors["first"], 0.01 + 0.02 * 120 / HOUR_S, 1e-9)  # 2nd of the first 3
    assert close(errors["last"], 0.01 + 0.02 * 7140 / HOUR_S, 1e-9)


def test_windows_without_latency_count_for_errors_only() -> None:
    # Every third window only had transport errors: no latency, error rate 1.
    points: list[list[float | int | None]] = []
    for k in range(9):
        failed = k % 3 == 2
        points.append(
            [60.0 * (k + 1), None if failed else 5.0, None if failed else 9.0, 1.0 * failed, 4]
        )
    drift = drift_from_points(points)
    assert drift["windows"] == 9
    assert drift["p50"]["slope_ms_per_h"] == 0.0
    assert drift["error_rate"]["first"] == 0.0
    assert drift["points"] == points


def test_points_are_sorted_and_checked() -> None:
    points = series(5, growth(0.1))
    assert drift_from_points(reversed(points)) == drift_from_points(points)
    with pytest.raises(ValueError, match="a point is"):
        drift_from_points([[1.0, 2.0]])
    with pytest.raises(ValueError, match="finite"):
        drift_from_points([[math.nan, 1.0, 1.0, 0.0, 1]])


def test_zero_level_has_no_relative_figures() -> None:
    p50 = drift_from_points(series(5, lambda t: 0.0))["p50"]
    assert p50["slope_ms_per_h"] == 0.0
    assert p50["relative_per_h"] is None
    assert p50["first_last_ratio"] is None


# --- DriftTracker -----------------------------------------------------------------------------


def metrics_with(latencies_us: list[int], *, errors: int = 0) -> OperationMetrics:
    metrics = OperationMetrics()
    for value in latencies_us:
        metrics.latency.record_us(value)
        metrics.ok += 1
    metrics.transport_errors = errors
    return metrics


def interval(start_s: float, end_s: float, **by_operation: OperationMetrics) -> IntervalSnapshot:
    return IntervalSnapshot(
        start_s, end_s, {MetricKey(name.replace("_", ".")): m for name, m in by_operation.items()}
    )


def test_tracker_windows_are_aligned_to_the_run_start() -> None:
    tracker = DriftTracker(window_s=10.0)
    fast = metrics_with([1000] * 9, errors=1)  # 1 ms, 10 % errors
    slow = metrics_with([1500] * 10)  # 1.5 ms (below 2048 µs HDR buckets are exact)
    for second in range(10):
        tracker.observe(interval(second, second + 1.0, runs_wait=fast))
    assert tracker.current() == {}  # window 0 is still open
    for second in range(10, 20):
        tracker.observe(interval(second, second + 1.0, runs_wait=slow))
    assert tracker.current() == {
        "runs.wait": WindowPoint(end_s=10.0, p50_ms=1.0, p99_ms=1.0, error_rate=0.1, count=100)
    }
    tracker.observe(interval(20.0, 21.0))  # an empty interval opens window 2
    assert tracker.points("runs.wait") == [
        WindowPoint(10.0, 1.0, 1.0, 0.1, 100),
        WindowPoint(20.0, 1.5, 1.5, 0.0, 100),
    ]


def test_an_interval_belongs_to_the_window_of_its_midpoint() -> None:
    tracker = DriftTracker(window_s=10.0)
    one = metrics_with([1000])
    tracker.observe(interval(0.0, 9.4, op=one))
    tracker.observe(interval(9.4, 10.4, op=one))  # midpoint 9.9: still window 0
    tracker.observe(interval(10.4, 11.4, op=one))  # window 1: closes window 0 at 10.4
    assert tracker.points("op") == [WindowPoint(10.4, 1.0, 1.0, 0.0, 2)]


def test_out_of_order_interval_goes_into_the_open_window() -> None:
    tracker = DriftTracker(window_s=10.0)
    tracker.observe(interval(0.0, 1.0, op=metrics_with([1000])))
    tracker.observe(interval(10.0, 11.0, op=metrics_with([2000])))
    tracker.observe(interval(5.0, 6.0, op=metrics_with([2000])))  # late: window 0 is closed
    tracker.finish()
    assert [p.count for p in tracker.points("op")] == [1, 2]


def test_idle_windows_leave_no_point() -> None:
    tracker = DriftTracker(window_s=10.0)
    tracker.observe(interval(0.0, 1.0, op=metrics_with([1000])))
    tracker.observe(interval(35.0, 36.0, op=metrics_with([1000])))  # windows 1 and 2 idle
    tracker.finish()
    assert [p.end_s for p in tracker.points("op")] == [1.0, 36.0]


def test_to_dict_shape_and_the_open_window() -> None:
    tracker = DriftTracker(window_s=1.0)
    for second in range(4):
        latency_us = 1000 + 100 * second  # 0.1 ms more each second: 360 ms/h
        tracker.observe(interval(second, second + 1.0, threads_create=metrics_with([latency_us])))
    tracker.observe(interval(4.0, 4.5, threads_create=metrics_with([1400])))
    summary = tracker.to_dict()
    assert summary["window_s"] == 1.0
    assert list(summary["operations"]) == ["threads.create"]
    drift = summary["operations"]["threads.create"]
    assert set(drift) == {"windows", "p50", "p99", "error_rate", "points"}
    assert set(drift["p50"]) == {
        "slope_ms_per_h",
        "relative_per_h",
        "first_ms",
        "last_ms",
        "first_last_ratio",
    }
    assert set(drift["error_rate"]) == {"slope_per_h", "first", "last"}
    # the open window (4 .. 4.5) is the provisional last point, and stays open
    assert drift["windows"] == 5
    assert drift["points"][-1] == [4.5, 1.4, 1.4, 0.0, 1]
    closed = [point.to_list() for point in tracker.points("threads.create")]
    assert len(closed) == 4
    assert drift == drift_from_points([*closed, [4.5, 1.4, 1.4, 0.0, 1]])
    assert drift["p50"]["slope_ms_per_h"] == pytest.approx(360.0, rel=0.01)
    assert drift["p50"]["first_ms"] == pytest.approx(1.05)  # median of windows 0 and 1


def test_to_dict_equals_the_offline_figures() -> None:
    tracker = DriftTracker(window_s=5.0)
    noise = random.Random(3)
    for second in range(60):
        values = [int(1000 + 20 * second + noise.random() * 300) for _ in range(20)]
        tracker.observe(interval(second, second + 1.0, op=metrics_with(values, errors=second % 2)))
    tracker.finish()
    points = [point.to_list() for point in tracker.points("op")]
    assert tracker.to_dict()["operations"]["op"] == drift_from_points(points)


@pytest.mark.parametrize("window_s", [0.0, -1.0, math.inf, math.nan])
def test_window_must_be_positive(window_s: float) -> None:
    with pytest.raises(ValueError, match="window_s"):
        DriftTracker(window_s=window_s)


def recorders_reachable_from(root: object) -> int:
    """LatencyRecorder objects reachable from ``root`` (its retained histograms, counted)."""
    seen: set[int] = set()
    stack: list[object] = [root]
    found = 0
    while stack:
        item = stack.pop()
        if id(item) in seen or isinstance(item, type):
            continue
        seen.add(id(item))
        if isinstance(item, LatencyRecorder):
            found += 1
            continue
        stack.extend(gc.get_referents(item))
    return found


@pytest.mark.slow  # 10,000 intervals
def test_state_stays_bounded_over_10000_intervals() -> None:
    tracker = DriftTracker(window_s=60.0)
    # The same interval contents each time: the tracker must not keep references to them.
    wait = metrics_with([2000, 3000, 50_000], errors=1)
    stream = metrics_with([8000] * 5)
    retained = set()
    for second in range(10_000):
        tracker.observe(interval(second, second + 1.0, runs_wait=wait, runs_stream=stream))
        if second % 97 == 0:
            retained.add(recorders_reachable_from(tracker))
            assert tracker.retained_histograms <= 2
    # two operations, one histogram each in the open window, and nothing else
    assert retained == {2}
    assert tracker.windows_closed == 10_000 // 60
    assert len(tracker.points("runs.wait")) == 166
    tracker.finish()
    assert tracker.retained_histograms == 0
    assert recorders_reachable_from(tracker) == 0
    first = tracker.points("runs.wait")[0]
    assert (first.end_s, first.error_rate, first.count) == (60.0, 0.25, 240)
    # HDR bucket edges: within the histograms' 0.1 % precision
    assert first.p50_ms == pytest.approx(3.0, rel=1e-3)
    assert first.p99_ms == pytest.approx(50.0, rel=1e-3)
