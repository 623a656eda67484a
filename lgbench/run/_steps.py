"""What a run does once its load ended: the post-run steps, one list the runner walks.

Each step is a function of one signature, ``(Finishing) -> None``: it reads what the run left
(the engine's :class:`~lgbench.engine.LoadRun`, the run's options) and adds to
:attr:`Finishing.summary` or writes a file. :func:`post_run_steps` picks the steps a run's
options ask for, in order; the runner calls each in turn, so a new step is one function and
one entry there, not an edit of the walk. In order:

1. the checker on the closed history (``check.json``);
2. the engine's figures as the summary (with the checker's verdict in short);
3. drift, the target's sampling status, the faults played;
4. thresholds, then the baseline comparison;
5. ``summary.json`` (after any checkpoint in flight, never under one), ``junit.xml``,
   ``report.html``;
6. the listeners hear the run finished.

Steps run synchronously (a cancelled run's task runs them too). One that cannot write its
file warns and lets the others go on: the results already on disk are never lost for it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, final

from msgspec.structs import replace

from lgbench._atomic import write_atomically
from lgbench.engine import LoadRun, Recorder, RunSampler, write_summary
from lgbench.errors import LgbenchError
from lgbench.faults import FaultProxy, faults_after
from lgbench.report import build_report
from lgbench.results import (
    CheckVerdict,
    Drift,
    FaultSkipped,
    ProxyCounters,
    Sampling,
    Summary,
    Thresholds,
    summary_part,
)
from lgbench.thresholds import ThresholdEvaluator

if TYPE_CHECKING:
    from lgbench.gate import Comparison, RunData

__all__ = [
    "CHECK_FILE",
    "JUNIT_FILE",
    "REPORT_FILE",
    "SUMMARY_FILE",
    "Checker",
    "FinishOptions",
    "Finishing",
    "PostRunStep",
    "final_files",
    "post_run_steps",
]

CHECK_FILE: Final = "check.json"
JUNIT_FILE: Final = "junit.xml"
REPORT_FILE: Final = "report.html"
SUMMARY_FILE: Final = "summary.json"

#: A checker: given ``history.jsonl``, returns a verdict (a dict, or an object with
#: ``to_dict()``; its ``valid`` is False when anomalies were found).
Checker = Callable[[Path], Any]


@final
@dataclass(slots=True, kw_only=True)
class Finishing:
    """What the post-run steps share: the ended load, what judges it, and what they made.

    ``verdict``: the checker's, as it returned it; ``verdict_data``: the same as plain data
    (``check.json``'s content, made once: a long run's verdict is not small).
    ``summary``: the results so far (the engine's figures from the second step on);
    ``written``: ``summary.json``'s content once written, what the caller gets.
    """

    engine: LoadRun
    recorder: Recorder
    checker: Checker | None
    evaluator: ThresholdEvaluator
    baseline: list[RunData] | None
    options: FinishOptions
    proxy: FaultProxy | None = None
    sampler: RunSampler | None = None
    verdict: object = None
    verdict_data: object = None
    summary: Summary = field(default_factory=Summary)
    written: dict[str, Any] | None = None
    comparison: Comparison | None = None

    @property
    def check_dict(self) -> dict[str, Any] | None:
        """The verdict as a dict (thresholds and junit read it), None without one."""
        return self.verdict_data if isinstance(self.verdict_data, dict) else None


@final
@dataclass(frozen=True, slots=True)
class FinishOptions:
    """The run options the steps read (:class:`~lgbench.run.RunOptions`' last ones)."""

    report: bool = True
    confidence: float = 0.95
    max_regression: float = 0.10
    min_difference_ms: float = 1.0


PostRunStep = Callable[[Finishing], None]


def post_run_steps(run: Finishing) -> tuple[PostRunStep, ...]:
    """The steps ``run`` takes, in order (a step its options do not ask for is left out)."""
    return (
        *((judge_history,) if run.checker is not None else ()),
        take_summary,
        add_drift,
        *((add_sampling,) if run.sampler is not None else ()),
        add_faults,
        *((judge_thresholds,) if run.evaluator.thresholds else ()),
        *((compare_with_baseline,) if run.baseline is not None else ()),
        write_summary_file,
        write_junit_file,
        *((write_report_file,) if run.options.report else ()),
        tell_listeners,
    )


def judge_history(run: Finishing) -> None:
    """The checker on the history (every process's, for a split run); its whole verdict
    goes to ``check.json``. A checker that fails is warned about, and stands as ``unknown``."""
    assert run.checker is not None
    engine = run.engine
    try:
        if engine.load is not None:  # every process's history, read as one
            verdict = run.checker(engine.run_dir)
        else:
            verdict = run.checker(engine.files["history"])
    except Exception as exc:  # a checker bug must not lose the run's results
        run.recorder.warn("checker", f"the checker failed: {type(exc).__name__}: {exc}")
        run.verdict = run.verdict_data = {
            "valid": "unknown",
            "error": f"{type(exc).__name__}: {exc}",
        }
        return
    run.verdict = verdict
    run.verdict_data = _to_jsonable(verdict)
    path = engine.run_dir / CHECK_FILE
    try:
        write_atomically(
            path, json.dumps(run.verdict_data, indent=2, ensure_ascii=False, default=str) + "\n"
        )
        engine.files["check"] = path
    except (OSError, TypeError, ValueError) as exc:
        run.recorder.warn("check.json", f"cannot write {path}: {exc}")


def take_summary(run: Finishing) -> None:
    """The engine's figures, and the checker's verdict in short."""
    summary = run.engine.summary()
    short = _check_summary(run.verdict, run.verdict_data)
    if short is not None:
        summary = replace(summary, check=summary_part(short, CheckVerdict, source=SUMMARY_FILE))
    run.summary = summary


def add_drift(run: Finishing) -> None:
    drift = run.engine.drift
    drift.finish()
    run.summary = replace(
        run.summary, drift=summary_part(drift.to_dict(), Drift, source=SUMMARY_FILE)
    )


def add_sampling(run: Finishing) -> None:
    """Whether the target's ``/metrics`` and the server's process could be read."""
    assert run.sampler is not None
    sampling = summary_part(run.sampler.status(), Sampling, source=SUMMARY_FILE)
    run.summary = replace(run.summary, server=replace(run.summary.server, sampling=sampling))


def add_faults(run: Finishing) -> None:
    """The faults played (and the lost workers), those the load ended before, the proxy's
    counters; nothing when the run had none."""
    engine = run.engine
    if not (engine.workload.faults or engine.faults):
        return
    skipped = [
        {"name": spec.name, "kind": spec.kind, "at_s": spec.at_s}
        for spec in faults_after(engine.workload.faults, engine.planned_s)
    ]
    run.summary = replace(
        run.summary,
        faults=tuple(engine.faults),
        faults_skipped=summary_part(skipped, tuple[FaultSkipped, ...], source=SUMMARY_FILE),
    )
    if run.proxy is not None:
        stats = dataclasses.asdict(run.proxy.stats())
        run.summary = replace(
            run.summary, proxy=summary_part(stats, ProxyCounters, source=SUMMARY_FILE)
        )


def judge_thresholds(run: Finishing) -> None:
    report = run.evaluator.finish(run.summary, run.check_dict)
    run.summary = replace(
        run.summary, thresholds=summary_part(report.to_dict(), Thresholds, source=SUMMARY_FILE)
    )


def compare_with_baseline(run: Finishing) -> None:
    """This run against the baseline's runs (:func:`lgbench.gate.compare_runs`)."""
    from lgbench.gate import RunData, compare_runs, load_run_samples

    assert run.baseline is not None
    run_dir = run.engine.run_dir
    # The intervals are on disk (flushed every second); the summary is not yet.
    this_run = RunData(str(run_dir), run.summary, load_run_samples(run_dir))
    comparison = compare_runs(
        run.baseline,
        [this_run],
        max_regression=run.options.max_regression,
        min_difference_ms=run.options.min_difference_ms,
        confidence=run.options.confidence,
    )
    run.summary = replace(run.summary, baseline=comparison.to_dict())
    run.comparison = comparison


def write_summary_file(run: Finishing) -> None:
    engine = run.engine
    run.written = run.summary.to_builtins()  # what the file holds is what the caller gets
    path = engine.run_dir / SUMMARY_FILE
    with engine.summary_lock:  # after any checkpoint in flight, never under one
        write_summary(path, run.summary)
    engine.files["summary"] = path


def write_junit_file(run: Finishing) -> None:
    from lgbench.gate import write_junit

    summary = _written(run)
    try:
        run.engine.files["junit"] = write_junit(
            run.engine.run_dir / JUNIT_FILE, summary, run.check_dict, summary.get("baseline")
        )
    except (OSError, ValueError, TypeError) as exc:
        run.recorder.warn("junit", f"cannot write {JUNIT_FILE}: {exc}")


def write_report_file(run: Finishing) -> None:
    try:
        run.engine.files["report"] = build_report(run.engine.run_dir)
    except (LgbenchError, OSError, ValueError, KeyError, TypeError) as exc:
        # The results are on disk already; `lgbench report` can try again.
        run.recorder.warn("report", f"cannot write {REPORT_FILE}: {type(exc).__name__}: {exc}")


def tell_listeners(run: Finishing) -> None:
    summary, check = _written(run), run.check_dict
    run.engine.tell(lambda each: each.run_finished(summary, check))


def _written(run: Finishing) -> dict[str, Any]:
    return run.written if run.written is not None else run.summary.to_builtins()


def _check_summary(verdict: object, data: object) -> dict[str, Any] | None:
    """The checker's verdict in short, for summary.json (the whole of it, ``data``, is in
    check.json)."""
    if verdict is None:
        return None
    valid = data.get("valid") if isinstance(data, dict) else getattr(verdict, "valid", None)
    short: dict[str, Any] = {"valid": valid, "file": CHECK_FILE}
    if isinstance(data, dict) and "error" in data:
        short["error"] = data["error"]
    return short


def _to_jsonable(verdict: object) -> object:
    if verdict is None or isinstance(verdict, dict | list | str | int | float | bool):
        return verdict
    to_dict = getattr(verdict, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    return repr(verdict)


def final_files(report: bool) -> Mapping[str, str]:
    """``files`` entries for what the steps write at the end (checkpoints list them too)."""
    return {
        "summary": SUMMARY_FILE,
        "junit": JUNIT_FILE,
        **({"report": REPORT_FILE} if report else {}),
    }
