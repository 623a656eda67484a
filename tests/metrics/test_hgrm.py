"""The .hgrm percentile distribution, checked against rows worked out by hand."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from lgbench.metrics import LatencyRecorder, format_percentile_distribution

HEADER = "       Value     Percentile TotalCount 1/(1-Percentile)\n\n"


def recorder_of(values: list[int]) -> LatencyRecorder:
    recorder = LatencyRecorder()
    for value in values:
        assert recorder.record_us(value)
    return recorder


def test_four_values_by_hand() -> None:
    # 1, 2, 3 and 5 ms. Buckets: 1000 and 2000 µs are exact (1 µs resolution below 2048),
    # 3000 lies in [3000, 3001] (2 µs), 5000 in [5000, 5003] (4 µs); rows show the top edge.
    # Steps of 10 % up to 50 %, then 5 % (75 %), then 2.5 %: each row is the first value whose
    # share of the count reaches the step; after the last value, one row at 100 %.
    text = format_percentile_distribution(recorder_of([1_000, 2_000, 3_000, 5_000]))
    rows = [
        (1.000, 0.0, 1, 1.00),  # 25 % of the values are <= 1 ms: covers 0, 10, 20 %
        (1.000, 0.1, 1, 1.11),
        (1.000, 0.2, 1, 1.25),
        (2.000, 0.3, 2, 1.43),  # 50 %: covers 30, 40, 50 %
        (2.000, 0.4, 2, 1.67),
        (2.000, 0.5, 2, 2.00),
        (3.001, 0.55, 3, 2.22),  # 75 %: covers 55 .. 75 % in 5 % steps
        (3.001, 0.6, 3, 2.50),
        (3.001, 0.65, 3, 2.86),
        (3.001, 0.7, 3, 3.33),
        (3.001, 0.75, 3, 4.00),
        (5.003, 0.775, 4, 4.44),  # the last value: one row at the next step (77.5 %)
    ]
    body = "".join(
        f"{value:12.3f} {fraction:2.12f} {count:10d} {inverse:14.2f}\n"
        for value, fraction, count, inverse in rows
    )
    # Mean and deviation over bucket middles: 1000, 2000, 3001, 5002 µs.
    middles = [1_000, 2_000, 3_001, 5_002]
    mean = sum(middles) / 4
    deviation = math.sqrt(sum((m - mean) ** 2 for m in middles) / 4)
    assert (round(mean / 1000, 3), round(deviation / 1000, 3)) == (2.751, 1.48)
    assert text == (
        HEADER
        + body
        + "       5.003 1.000000000000          4\n"
        + "#[Mean    =        2.751, StdDeviation   =        1.480]\n"
        + "#[Max     =        5.003, Total count    =            4]\n"
        + "#[Buckets =           22, SubBuckets     =         2048]\n"
    )


def test_one_value() -> None:
    text = format_percentile_distribution(recorder_of([250]))
    assert text == (
        HEADER
        + "       0.250 0.000000000000          1           1.00\n"
        + "       0.250 1.000000000000          1\n"
        + "#[Mean    =        0.250, StdDeviation   =        0.000]\n"
        + "#[Max     =        0.250, Total count    =            1]\n"
        + "#[Buckets =           22, SubBuckets     =         2048]\n"
    )


def test_empty() -> None:
    assert format_percentile_distribution(LatencyRecorder()) == (
        HEADER
        + "#[Mean    =        0.000, StdDeviation   =        0.000]\n"
        + "#[Max     =        0.000, Total count    =            0]\n"
        + "#[Buckets =           22, SubBuckets     =         2048]\n"
    )


def test_units_and_ticks_are_parameters() -> None:
    text = format_percentile_distribution(
        recorder_of([1_000, 2_000]), ticks_per_half_distance=1, value_unit_ratio=1.0
    )
    rows = text.splitlines()[2:-3]
    # One tick per half distance: 0 %, 50 %, then the last value, then 100 %.
    assert rows == [
        "    1000.000 0.000000000000          1           1.00",
        "    1000.000 0.500000000000          1           2.00",
        "    2000.000 0.750000000000          2           4.00",
        "    2000.000 1.000000000000          2",
    ]


@given(st.lists(st.integers(min_value=0, max_value=10_000_000), min_size=1, max_size=200))
def test_rows_climb_to_the_maximum(values: list[int]) -> None:
    recorder = recorder_of(values)
    lines = format_percentile_distribution(recorder).splitlines()
    rows = [line.split() for line in lines[2:-3]]
    levels = [float(row[1]) for row in rows]
    counts = [int(row[2]) for row in rows]
    row_values = [float(row[0]) for row in rows]
    assert levels == sorted(levels) and levels[0] == 0.0 and levels[-1] == 1.0
    assert counts == sorted(counts) and counts[-1] == len(values)
    assert row_values == sorted(row_values)
    assert row_values[-1] == round(recorder.max_us / 1000, 3)
    assert len(rows[-1]) == 3  # the 100 % row has no 1/(1-p)
    assert lines[-2].endswith(f"Total count    = {len(values):12d}]")
