"""The gate's statistics on synthetic interval histograms with known shifts.

Every "run" here is a list of one-second histograms of log-normal latencies drawn from a
seeded generator, so each verdict is fixed: no shift passes, a shift beyond the limit fails,
a shift within the run-to-run noise (or the limit) is "no significant change".
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rich.console import Console

from lgbench.gate import NO_INTERVALS, RunData, compare_runs, render_comparison
from lgbench.gate._stats import (
    MIN_BLOCKS,
    RunSamples,
    Side,
    estimate_error_rate,
    estimate_percentile,
    noise_floor,
    percentile_of,
    t_quantile,
)

Block = dict[int, int]


def run_blocks(
    rng: np.random.Generator,
    *,
    median_ms: float = 10.0,
    factor: float = 1.0,
    seconds: int = 20,
    per_second: int = 50,
    sigma: float = 0.4,
) -> list[Block]:
    """``seconds`` histograms of ``per_second`` log-normal calls (µs), scaled by ``factor``."""
    blocks: list[Block] = []
    for _ in range(seconds):
        values = rng.lognormal(math.log(median_ms * 1000 * factor), sigma, per_second)
        block: Block = {}
        for value in np.rint(values).astype(int).tolist():
            block[value] = block.get(value, 0) + 1
        blocks.append(block)
    return blocks


def runs(
    seed: int, count: int, *, factor: float = 1.0, run_noise: float = 0.0, **kw: Any
) -> list[list[Block]]:
    """``count`` runs; each run as a whole is scaled by ``exp(N(0, run_noise))``, the
    run-to-run noise of a shared machine."""
    rng = np.random.default_rng(seed)
    return [
        run_blocks(rng, factor=factor * math.exp(rng.normal(0, run_noise)), **kw)
        for _ in range(count)
    ]


def summary(blocks: list[list[Block]], errors: int = 0) -> dict[str, Any]:
    calls = sum(sum(b.values()) for run in blocks for b in run)
    return {
        "schema_version": 1,
        "duration_s": 20.0,
        "operations": {"op": {"count": calls, "errors": errors, "latency_ms": {}}},
    }


def run_data(blocks: list[Block], *, errors_per_second: int = 0) -> RunData:
    calls = [sum(b.values()) for b in blocks]
    samples = RunSamples(
        Path("synthetic"),
        latency={"op": blocks},
        outcomes={"op": [(c, min(errors_per_second, c)) for c in calls]},
    )
    return RunData("synthetic", summary([blocks], errors=errors_per_second * len(blocks)), samples)


def verdicts(base: list[list[Block]], new: list[list[Block]], **kw: Any) -> dict[str, str]:
    comparison = compare_runs(
        [run_data(r) for r in base], [run_data(r) for r in new], resamples=500, **kw
    )
    (operation,) = comparison.operations
    return {row.label: row.outcome for row in operation.metrics}


# --- the building blocks --------------------------------------------------------------------


def test_percentile_of_picks_hdrhistograms_value() -> None:
    block = {value: 1 for value in range(1, 101)}
    assert percentile_of(block, 50) == 50
    assert percentile_of(block, 99) == 99
    assert percentile_of(block, 100) == 100
    assert percentile_of({}, 50) is None


@pytest.mark.parametrize(
    ("df", "exact"), [(1, 12.7062), (2, 4.3027), (3, 3.1824), (5, 2.5706), (10, 2.2281)]
)
def test_t_quantile(df: int, exact: float) -> None:
    assert t_quantile(0.975, df) == pytest.approx(exact, rel=3e-3)


def test_noise_floor_is_a_prediction_bound_that_narrows_with_more_runs() -> None:
    assert noise_floor([0.1], 0.95) is None
    spread = [0.1, -0.1, 0.1, -0.1, 0.1, -0.1, 0.1, -0.1, 0.1, -0.1]
    three, ten = noise_floor(spread[:3], 0.95), noise_floor(spread, 0.95)
    assert three is not None and ten is not None
    assert three > ten > 0.1 * 1.96  # never below the normal bound of the same spread


# --- percentiles ----------------------------------------------------------------------------


def test_no_shift_is_no_significant_change() -> None:
    found = verdicts(runs(1, 1), runs(2, 1))
    assert found["p50"] == "no significant change"
    assert found["p90"] == "no significant change"
    assert "regression" not in found.values()


def test_a_shift_beyond_the_limit_is_a_regression() -> None:
    found = verdicts(runs(1, 1), runs(2, 1, factor=1.5))
    assert found["p50"] == found["p90"] == "regression"


def test_a_shift_beyond_the_limit_with_a_quiet_baseline_of_several_runs() -> None:
    found = verdicts(runs(1, 5, run_noise=0.02), runs(2, 1, factor=1.3, run_noise=0.02))
    assert found["p50"] == "regression"


def test_a_shift_within_the_run_to_run_noise_is_not_significant() -> None:
    # Runs of the same code move by ~25 % as a whole: a +30 % run is within that noise...
    noisy_base = runs(1, 5, run_noise=0.25)
    new = runs(2, 1, factor=1.3)
    comparison = compare_runs(
        [run_data(r) for r in noisy_base], [run_data(r) for r in new], resamples=500
    )
    p50 = comparison.operations[0].metrics[0]
    assert p50.label == "p50"
    assert p50.low is not None and p50.low > 0.1  # the interval alone would call it...
    assert p50.noise_floor is not None and p50.noise_floor > 0.3
    assert p50.outcome == "no significant change"  # ...the noise floor does not
    assert p50.explanation is not None and "noise floor" in p50.explanation
    # ...while the same shift against a quiet baseline is a regression.
    assert verdicts(runs(1, 5, run_noise=0.01), new)["p50"] == "regression"


def test_a_significant_shift_under_the_limit_is_not_a_regression() -> None:
    # +5 % on lots of data: the interval excludes 0 but not the +10 % limit.
    base = runs(1, 1, seconds=60, per_second=400)
    new = runs(2, 1, factor=1.05, seconds=60, per_second=400)
    estimate = estimate_percentile(Side.of(base), Side.of(new), 50, resamples=500)
    assert estimate.low is not None and estimate.high is not None
    assert 0 < estimate.low < 0.1
    assert verdicts(base, new)["p50"] == "no significant change"


def test_a_shift_down_is_an_improvement() -> None:
    assert verdicts(runs(1, 1), runs(2, 1, factor=0.6))["p50"] == "improvement"


def test_the_interval_covers_the_true_shift() -> None:
    estimate = estimate_percentile(
        Side.of(runs(1, 1)), Side.of(runs(2, 1, factor=1.4)), 50, resamples=1000
    )
    assert estimate.low is not None and estimate.high is not None
    assert estimate.low < 0.4 < estimate.high
    assert estimate.high - estimate.low < 0.3


def test_too_few_intervals_is_not_enough_data() -> None:
    few = MIN_BLOCKS - 1
    found = verdicts(runs(1, 1, seconds=few), runs(2, 1, factor=3.0, seconds=few))
    assert found["p50"] == NO_INTERVALS


def test_a_tail_percentile_of_one_slow_second_is_not_a_regression() -> None:
    base = runs(1, 1)
    new = runs(2, 1)
    # One stall: a single second whose calls all took 20 times longer.
    new[0][7] = {value * 20: count for value, count in new[0][7].items()}
    found = verdicts(base, new)
    assert found["p99"] != "regression"
    assert found["p50"] == "no significant change"


def test_few_false_regressions_in_many_a_a_comparisons() -> None:
    # 20 A/A comparisons with run-to-run noise, a baseline of 5 runs each: the gate's
    # promise on synthetic data (the real machine's figures are in benchmarks/README.md).
    false = 0
    for seed in range(20):
        rng_runs = runs(100 + seed, 6, run_noise=0.15)
        found = verdicts(rng_runs[:5], rng_runs[5:])
        false += "regression" in found.values()
    assert false <= 1


# --- error rate -----------------------------------------------------------------------------


def test_error_rate_rising_is_a_regression_and_equal_is_not() -> None:
    base_blocks = runs(1, 1)[0]
    new_blocks = runs(2, 1)[0]
    same = compare_runs([run_data(base_blocks)], [run_data(new_blocks)], resamples=500)
    worse = compare_runs(
        [run_data(base_blocks)], [run_data(new_blocks, errors_per_second=5)], resamples=500
    )
    assert same.operations[0].metrics[-2].outcome == "no significant change"
    error_row = worse.operations[0].metrics[-2]
    assert error_row.label == "error rate"
    assert error_row.outcome == "regression"
    assert not worse.passed


def test_error_rate_interval_from_counts() -> None:
    base = [[(100, 1)] * 20]
    new = [[(100, 1)] * 20]
    estimate = estimate_error_rate(base, new, resamples=200)
    assert estimate.change == 0
    assert estimate.low is not None and estimate.high is not None
    assert estimate.low <= 0 <= estimate.high


# --- a bare summary.json ----------------------------------------------------------------------


def test_without_intervals_no_regression_is_called_on_a_point_estimate() -> None:
    base = RunData(
        "base.json",
        {
            "schema_version": 1,
            "operations": {"op": {"count": 5000, "errors": 0, "latency_ms": {"p50": 10.0}}},
        },
        None,
    )
    new = RunData(
        "new.json",
        {
            "schema_version": 1,
            "operations": {"op": {"count": 5000, "errors": 500, "latency_ms": {"p50": 30.0}}},
        },
        None,
    )
    comparison = compare_runs([base], [new])
    assert comparison.passed
    assert comparison.verdict == NO_INTERVALS
    p50 = comparison.operations[0].metrics[0]
    assert (p50.base, p50.new, p50.outcome) == (10.0, 30.0, NO_INTERVALS)
    assert comparison.operations[0].metrics[-2].outcome == NO_INTERVALS
    assert any(NO_INTERVALS in warning for warning in comparison.warnings)
    as_json = comparison.to_dict()
    assert as_json["verdict"] == NO_INTERVALS
    assert as_json["operations"]["op"]["metrics"][0]["verdict"] == NO_INTERVALS


def test_json_says_no_significant_change() -> None:
    comparison = compare_runs([run_data(runs(1, 1)[0])], [run_data(runs(2, 1)[0])])
    as_json = comparison.to_dict()
    assert as_json["schema_version"] == 2
    assert as_json["verdict"] == "no significant change"
    assert as_json["passed"] is True
    p50 = as_json["operations"]["op"]["metrics"][0]
    assert p50["verdict"] == "no significant change"
    assert p50["ci_low"] < 0 < p50["ci_high"]
    assert p50["explanation"].startswith("change ")


# --- junit ------------------------------------------------------------------------------------


def test_junit_says_no_significant_change_apart_from_a_regression(tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    from lgbench.gate import write_junit

    unchanged = compare_runs([run_data(runs(1, 1)[0])], [run_data(runs(2, 1)[0])]).to_dict()
    slower = compare_runs(
        [run_data(runs(1, 1)[0])], [run_data(runs(2, 1, factor=2.0)[0])]
    ).to_dict()
    for name, comparison, verdict in (
        ("same", unchanged, "no significant change"),
        ("slower", slower, "regression"),
    ):
        path = write_junit(tmp_path / f"{name}.xml", {"operations": {}}, None, comparison)
        suite = next(s for s in ET.parse(path).getroot() if s.get("name") == "lgbench.baseline")
        properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
        assert properties["baseline_verdict"] == verdict
        (case,) = suite.iter("testcase")
        failure = case.find("failure")
        if verdict == "regression":
            assert failure is not None and failure.get("type") == "regression"
            assert "p50: change +" in (failure.text or "")
        else:
            assert failure is None
            out = case.findtext("system-out") or ""
            assert out.startswith("verdict: no significant change")
            assert "95% CI" in out


def chat_run(p10: float, rates: list[Block] | None = None, *, streams: int = 500) -> RunData:
    """A run whose streams carried chat replies; ``rates``: its per-interval tokens/s per
    stream (thousandths, as intervals.hlog logs them), None for a run from before they were
    logged."""
    blocks = runs(1, 1)[0]
    raw = summary([blocks])
    raw["operations"]["op"]["stream"] = {
        "streams": streams,
        "reply_tokens": 10_000,
        "stream_tokens_per_s": {"p10": p10, "p50": 40.0},
    }
    samples = run_data(blocks).samples
    assert samples is not None
    # A chat stream's ttfe, ttft and itl have intervals like its latency.
    for series in ("ttfe", "ttft", "itl"):
        samples.latency[f"op.{series}"] = blocks
    if rates is not None:
        samples.latency["op.tokens_per_s"] = rates
    return RunData("synthetic", raw, samples)


def rate_blocks(seed: int, tokens_per_s: float, *, seconds: int = 20) -> list[Block]:
    """``seconds`` intervals of 25 streams each, their rates log-normal around
    ``tokens_per_s`` (in thousandths, as logged)."""
    rng = np.random.default_rng(seed)
    return run_blocks(rng, median_ms=tokens_per_s, seconds=seconds, per_second=25, sigma=0.3)


def test_reply_rates_are_shown_and_not_judged_for_runs_without_per_interval_rates() -> None:
    # An old baseline (no <op>.tokens_per_s in its intervals.hlog) against a new run.
    comparison = compare_runs(
        [chat_run(30.0)], [chat_run(10.0, rate_blocks(2, 10.0))], resamples=200
    )
    (operation,) = comparison.operations
    rows = {row.label: row for row in operation.metrics if row.label.startswith("tok/s")}
    assert (rows["tok/s p10"].base, rows["tok/s p10"].new) == (30.0, 10.0)
    assert all(not row.gated and row.outcome == "not gated" for row in rows.values())
    assert "recorded before lgbench logged them" in str(rows["tok/s p10"].note)
    assert comparison.passed  # a third of the rate gone, and still no regression called
    console = Console(record=True, width=100)
    render_comparison(comparison, console)
    assert "tok/s: shown, not gated: a run's intervals.hlog has no per-interval tokens/s" in (
        console.export_text()
    )


@pytest.mark.parametrize(
    ("new_rate", "verdict"),
    [
        pytest.param(40.0, "no significant change", id="same"),
        pytest.param(20.0, "regression", id="halved"),
        pytest.param(80.0, "improvement", id="doubled"),
    ],
)
def test_reply_rates_are_resampled_from_their_intervals_lower_is_worse(
    new_rate: float, verdict: str
) -> None:
    base = chat_run(30.0, rate_blocks(1, 40.0))
    new = chat_run(30.0, rate_blocks(2, new_rate))
    comparison = compare_runs([base], [new], resamples=400)
    (operation,) = comparison.operations
    rows = {row.label: row for row in operation.metrics if row.label.startswith("tok/s")}
    assert set(rows) == {"tok/s p10", "tok/s p50"}
    median = rows["tok/s p50"]
    assert median.gated and median.unit == "/s" and median.outcome == verdict
    # The figures come from the logged intervals (tokens/s), not from the summaries.
    assert median.base == pytest.approx(40.0, rel=0.1)
    assert median.new == pytest.approx(new_rate, rel=0.1)
    assert median.low is not None and median.high is not None and median.low <= median.high
    assert rows["tok/s p10"].outcome == verdict
    assert comparison.passed is (verdict != "regression")
    if verdict == "regression":
        assert any("op tokens/s per reply stream p50 -" in line for line in comparison.regressions)
        assert median.explanation is not None and "lies below -10%" in median.explanation
    console = Console(record=True, width=100)
    render_comparison(comparison, console, explain=True)
    text = console.export_text()
    assert re.search(r"tok/s p50 .*" + verdict[:14], text)
    assert "op tok/s p50: change" in text


def test_reply_rates_with_few_streams_or_few_intervals_are_not_judged() -> None:
    few = compare_runs(
        [chat_run(30.0, rate_blocks(1, 40.0, seconds=2))],
        [chat_run(30.0, rate_blocks(2, 10.0, seconds=2))],
        resamples=200,
    )
    rows = {row.label: row for row in few.operations[0].metrics if row.label.startswith("tok/s")}
    assert rows["tok/s p50"].outcome == NO_INTERVALS and few.passed
    # p10 needs ten streams a side before it is more than the slowest stream.
    lonely = compare_runs(
        [chat_run(30.0, [{40_000: 1}] * 5)], [chat_run(30.0, [{10_000: 1}] * 5)], resamples=200
    )
    rows = {r.label: r for r in lonely.operations[0].metrics if r.label.startswith("tok/s")}
    assert not rows["tok/s p10"].gated and rows["tok/s p10"].note == "not gated: 5 streams < 10"
    assert rows["tok/s p50"].gated
