"""Durations: the accepted forms, the refused ones, and the canonical text."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from lgbench.errors import UsageError
from lgbench.workload import DurationError, format_duration, parse_duration
from lgbench.workload._shared import DURATION_FORMS, MAX_DURATION_S


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        pytest.param("250ms", 0.25, id="milliseconds"),
        pytest.param("30s", 30.0, id="seconds"),
        pytest.param("1m30s", 90.0, id="minutes-seconds"),
        pytest.param("2h", 7200.0, id="hours"),
        pytest.param("1h2m3.5s", 3723.5, id="all-units"),
        pytest.param("1.5ms", 0.0015, id="fractional-ms"),
        pytest.param("10us", 0.00001, id="microseconds"),
        pytest.param("10µs", 0.00001, id="micro-sign"),
        pytest.param("7ns", 7e-9, id="nanoseconds"),
        pytest.param("0", 0.0, id="zero"),
        pytest.param("0s", 0.0, id="zero-seconds"),
        pytest.param("30", 30.0, id="plain-string-seconds"),
        pytest.param("0.5", 0.5, id="plain-fraction"),
        pytest.param(".5s", 0.5, id="leading-dot"),
        pytest.param("1.s", 1.0, id="trailing-dot"),
        pytest.param("1s1s", 2.0, id="repeated-unit-adds"),
        pytest.param("90m", 5400.0, id="minutes-overflow-hour"),
        pytest.param(30, 30.0, id="toml-integer"),
        pytest.param(0.25, 0.25, id="toml-float"),
        pytest.param("0.0000000004s", 0.0, id="rounds-to-nanoseconds"),
    ],
)
def test_parse(text: str | float, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        pytest.param("", "it is empty", id="empty"),
        pytest.param("10x", 'cannot read "10x"', id="unknown-unit"),
        pytest.param("-1s", "cannot be negative", id="negative"),
        pytest.param("-5", "cannot be negative", id="negative-plain"),
        pytest.param(-1, "cannot be negative", id="negative-number"),
        pytest.param("1 s", 'cannot read "1 s"', id="space"),
        pytest.param(" 1s", 'cannot read " 1s"', id="leading-space"),
        pytest.param("1e3", 'cannot read "1e3"', id="exponent"),
        pytest.param("s", 'cannot read "s"', id="unit-only"),
        pytest.param("1..2s", "cannot read", id="two-dots"),
        pytest.param("1h30", 'cannot read "30"', id="unitless-tail"),
        pytest.param("inf", 'cannot read "inf"', id="inf-string"),
        pytest.param(float("inf"), "not finite", id="inf"),
        pytest.param(float("nan"), "not finite", id="nan"),
        pytest.param("1000000h", "longer than a hundred years", id="too-long"),
        pytest.param("1" * 40 + "s", "cannot read", id="absurd-digits"),
        pytest.param(True, "invalid duration", id="boolean"),
        pytest.param([1], "invalid duration of type list", id="list"),
    ],
)
def test_parse_rejects(value: object, reason: str) -> None:
    with pytest.raises(DurationError) as caught:
        parse_duration(value)  # type: ignore[arg-type]
    assert reason in caught.value.problem
    assert caught.value.expected == DURATION_FORMS
    assert '"250ms", "30s", "1m30s", "2h"' in str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, UsageError)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        pytest.param(0, "0s", id="zero"),
        pytest.param(7e-9, "7ns", id="ns"),
        pytest.param(1.5e-6, "1.5us", id="us"),
        pytest.param(0.25, "250ms", id="ms"),
        pytest.param(0.0015, "1.5ms", id="fractional-ms"),
        pytest.param(1, "1s", id="one-second"),
        pytest.param(30, "30s", id="seconds"),
        pytest.param(60, "1m0s", id="one-minute"),
        pytest.param(90, "1m30s", id="minutes"),
        pytest.param(7200, "2h0m0s", id="hours"),
        pytest.param(3723.5, "1h2m3.5s", id="everything"),
        pytest.param(100 * 3600, "100h0m0s", id="many-hours"),
        pytest.param(-1.5, "-1.5s", id="negative"),
    ],
)
def test_format(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_format_rejects_non_finite() -> None:
    with pytest.raises(ValueError, match="cannot format"):
        format_duration(float("nan"))


nanoseconds = st.integers(0, MAX_DURATION_S * 10**9)


@given(nanoseconds)
@example(1)
@example(999_999_999)
@example(MAX_DURATION_S * 10**9)
def test_round_trip_from_seconds(ns: int) -> None:
    seconds = ns / 10**9
    text = format_duration(seconds)
    assert parse_duration(text) == seconds
    assert format_duration(parse_duration(text)) == text


@given(nanoseconds)
def test_format_is_canonical(ns: int) -> None:
    text = format_duration(ns / 10**9)
    assert text == format_duration(parse_duration(text))


@given(
    st.lists(
        st.tuples(st.integers(0, 10_000), st.sampled_from(["h", "m", "s", "ms", "us", "ns"])),
        min_size=1,
        max_size=4,
    )
)
def test_components_add_up(components: list[tuple[int, str]]) -> None:
    scale = {"h": 3600 * 10**9, "m": 60 * 10**9, "s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
    text = "".join(f"{number}{unit}" for number, unit in components)
    assert parse_duration(text) == sum(n * scale[u] for n, u in components) / 10**9


@given(st.text(max_size=12))
def test_anything_parses_or_raises_duration_error(text: str) -> None:
    try:
        seconds = parse_duration(text)
    except DurationError:
        return
    assert 0 <= seconds <= MAX_DURATION_S
