"""summary.json through the model: every schema 1 file reads, a run's file writes back byte for
byte, bad files give an error naming the key, and the published JSON Schema is the model's.

``LGBENCH_UPDATE_SNAPSHOTS=1 pytest tests/results/test_summary.py`` rewrites the golden files
and docs/summary.schema.json from the model (check the diff before committing).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from lgbench.results import (
    Operation,
    ResultsError,
    Scenario,
    Summary,
    Target,
    WorkloadInfo,
    summary_schema,
)
from tests.gate._summaries import operation as fixture_operation
from tests.gate._summaries import summary as fixture_summary
from tests.results._build import operation

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "reports" / "example" / "summary.json"
SCHEMA = ROOT / "docs" / "summary.schema.json"
GOLDEN = ROOT / "tests" / "data" / "results"
UPDATE = bool(os.environ.get("LGBENCH_UPDATE_SNAPSHOTS"))


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def _contains(written: Any, original: Any, path: str = "$") -> None:
    """Every key and value of ``original`` is in ``written`` (which may add newer keys)."""
    if isinstance(original, dict):
        assert isinstance(written, dict), path
        for key, value in original.items():
            assert key in written, f"{path}.{key} dropped"
            _contains(written[key], value, f"{path}.{key}")
    elif isinstance(original, list):
        assert isinstance(written, list) and len(written) == len(original), path
        for index, (a, b) in enumerate(zip(written, original, strict=True)):
            _contains(a, b, f"{path}[{index}]")
    else:
        assert written == original, path


def small_summary() -> Summary:
    """A small run, made of known values: the same bytes on every machine."""
    waits = operation([800_000, 810_000, 950_000, 1_200_000], errors=1, duration_s=2.0)
    streams = operation(
        [700_000, 1_000_000],
        duration_s=2.0,
        events=[25, 25],
        ttfe_us=[400_000, 750_000],
    )
    operations = {"runs.stream": streams, "runs.wait": waits}
    return Summary(
        lgbench_version="0.1.0",
        workload=WorkloadInfo(name="small", path="workloads/small.toml", seed=42),
        target=Target(url="embedded", embedded=True),
        backend="asyncio",
        transport="fast",
        started_at="2026-12-05T19:00:00+00:00",
        ended_at="2026-12-05T19:00:02+00:00",
        duration_s=2.0,
        planned_duration_s=2.0,
        stop_reason="completed",
        operations=operations,
        scenarios={
            "main": Scenario(executor="constant-vus", model="closed", operations=operations)
        },
        warnings=("one warning",),
    ).without_histograms()


def test_the_example_run_reads_and_keeps_every_key() -> None:
    original = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    summary = Summary.read(EXAMPLE)
    assert summary.operations["runs.wait"].count == original["operations"]["runs.wait"]["count"]
    _contains(json.loads(summary.to_json()), original)
    # What the model writes it reads back unchanged.
    assert Summary.from_json(summary.to_json()).to_json() == summary.to_json()


def test_the_hand_made_summaries_of_the_tests_read() -> None:
    data = fixture_summary({"runs.wait": fixture_operation(12.0, errors=3)})
    summary = Summary.from_builtins(data)
    assert summary.operations["runs.wait"].errors == 3
    assert summary.operations["runs.wait"].latency_ms.p50 == 12.0
    _contains(summary.to_builtins(), data)


def test_a_file_without_schema_version_reads_as_version_1() -> None:
    assert Summary.from_json("{}").schema_version == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[]", "not a JSON object"),
        ("{", "not JSON"),
        ('{"schema_version": 2}', "schema_version 2, this lgbench reads 1"),
        (
            '{"operations": {"runs.wait": {"count": "many"}}}',
            "Expected `int`, got `str` - at `$.operations[...].count`",
        ),
    ],
)
def test_a_bad_file_is_an_error_naming_the_key(text: str, message: str) -> None:
    with pytest.raises(ResultsError, match=r"^x\.json: ") as caught:
        Summary.from_json(text, source="x.json")
    assert message in str(caught.value)


def test_a_missing_file_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="cannot read"):
        Summary.read(tmp_path / "nope.json")


def test_optional_keys_stay_out_until_set() -> None:
    data = Summary(operations={"threads.create": Operation(count=1, ok=1)}).to_builtins()
    for key in ("thresholds", "baseline", "faults", "drift", "never_succeeded", "proxy"):
        assert key not in data
    assert "stream" not in data["operations"]["threads.create"]
    assert "histograms" not in data["operations"]["threads.create"]


def test_the_small_summary_matches_its_golden_file() -> None:
    _golden("small-summary.json", small_summary().to_json())


def test_the_published_schema_is_the_models() -> None:
    text = json.dumps(summary_schema(), indent=2, ensure_ascii=False) + "\n"
    if UPDATE:
        SCHEMA.write_text(text, encoding="utf-8")
    assert SCHEMA.read_text(encoding="utf-8") == text, (
        "docs/summary.schema.json is not the model's: LGBENCH_UPDATE_SNAPSHOTS=1 rewrites it"
    )


@pytest.mark.parametrize(
    "path",
    [EXAMPLE, GOLDEN / "small-summary.json", GOLDEN / "merged-summary.json"],
    ids=lambda path: path.name,
)
def test_run_outputs_validate_against_the_published_schema(path: Path) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(json.loads(path.read_text(encoding="utf-8")), schema)


def test_the_schema_refuses_a_wrong_type() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["operations"]["runs.wait"]["count"] = "many"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)


def test_numbers_of_numpy_in_the_baseline_write_as_json_numbers() -> None:
    # The baseline comparison computes with numpy; json.dumps wrote its float64 as numbers.
    import numpy as np

    data = Summary(baseline={"change": np.float64(0.125), "counts": [np.int64(3)]}).to_builtins()
    assert data["baseline"] == {"change": 0.125, "counts": [3]}
    assert type(data["baseline"]["change"]) is float


def test_every_writer_part_reads_into_the_model() -> None:
    # The parts the runner adds after the recorder's: drift with trends (3+ windows), a
    # threshold report with windows, the fault proxy's counters.
    from lgbench.faults import ProxyStats
    from lgbench.observe import drift_from_points
    from lgbench.results import Drift, ProxyCounters, summary_part

    points = [[60.0 * k, 10.0 + k, 20.0 + k, 0.01 * k, 100] for k in range(1, 6)]
    drift = summary_part(
        {"window_s": 60.0, "operations": {"runs.wait": drift_from_points(points)}},
        Drift,
        source="x",
    )
    trend = drift.operations["runs.wait"]
    assert trend.p99 is not None and trend.p99.slope_ms_per_h == 60.0
    assert trend.error_rate is not None and trend.error_rate.slope_per_h is not None
    stats = ProxyStats(1, 0, 0, 0, 0, 10, 20, 1, ("reset",))
    counters = summary_part(
        {f: getattr(stats, f) for f in stats.__dataclass_fields__}, ProxyCounters, source="x"
    )
    assert counters.faults_active == ("reset",)
    with pytest.raises(ResultsError, match=r"^x: "):
        summary_part({"window_s": "a minute"}, Drift, source="x")
