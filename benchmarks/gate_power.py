"""Gate power: how often does the baseline gate cry wolf, and how often does it catch a slowdown?

    python benchmarks/gate_power.py collect --port P [--out DIR] [--duration 12s] [--aa 26]
                                            [--repeats 8] [--variants a,lat1,...]
    python benchmarks/gate_power.py analyse [--out DIR] [--baseline-runs 3] [--json FILE]

``collect`` runs ``workloads/quickstart.toml`` (shortened with ``--duration``) many times
against ONE server the caller started (``lgbench serve --port P``), in rounds that
interleave every variant, so that the machine's load over time touches all of them alike:

- ``a``: the unchanged workload (through the fault proxy with a 0 ms "latency" fault, so
  every run has the same path as the slowed ones: the proxy's own hop is not the effect);
- ``lat1``, ``lat3``, ``lat10``: a ``[[fault]]`` latency of 1, 3 or 10 ms on every chunk,
  both ways, for the whole run — each request pays it at least twice (request, answer);
- ``sleepy600``, ``sleepy1000``: the ``threads-and-waits`` scenario's ``sleepy`` graph
  sleeps 0.6 or 1 s instead of 0.1 s (a slower graph). The in-memory server picks runs up
  on a coarse beat (``runs.wait`` takes ≈ 0.8 s for a 0.1 s sleep, and sleeps up to 0.4 s
  hide inside that beat), so the slower graph must sleep longer than that to show.

To keep a long collection from picking up edits to the checkout, freeze a copy and put it
first: ``git archive HEAD lgbench | tar -x -C /tmp/frozen`` and ``PYTHONPATH=/tmp/frozen``.
Each run folder goes to ``DIR/<variant>-<NN>`` (default ``DIR`` = ``reports/gate-power``).
``collect`` may be stopped and started again: existing complete folders are kept.

``analyse`` replays the gate on what was collected, with ``lgbench.gate.compare_runs``
(what ``lgbench compare`` runs), at the default limits (+10 %, 95 % confidence):

- **A/A pairs**: a baseline of ``--baseline-runs`` consecutive ``a`` runs against the next
  ``a`` run (sliding along the series); any regression called is a false one. The same pairs
  also go through the old point-estimate rule (one base run, +10 %, 1 ms floor) for contrast.
- **A/B pairs**: the same baselines against each slowed run; per variant and operation, how
  often the slowed operation was called regressed (the detection rate).

It prints both tables and writes them as JSON (``--json``, default ``DIR/result.json``).
Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parent.parent
QUICKSTART: Final = ROOT / "workloads" / "quickstart.toml"
RUN_TIMEOUT_S: Final = 300.0

#: variant → (extra TOML appended to the workload, text replacements in it)
VARIANTS: Final[dict[str, tuple[str, tuple[tuple[str, str], ...]]]] = {
    "a": ('[[fault]]\nname = "proxy only"\nkind = "latency"\nat = "0s"\nlatency = "0ms"\n', ()),
    "lat1": ('[[fault]]\nname = "slow"\nkind = "latency"\nat = "0s"\nlatency = "1ms"\n', ()),
    "lat3": ('[[fault]]\nname = "slow"\nkind = "latency"\nat = "0s"\nlatency = "3ms"\n', ()),
    "lat10": ('[[fault]]\nname = "slow"\nkind = "latency"\nat = "0s"\nlatency = "10ms"\n', ()),
    "sleepy600": (
        '[[fault]]\nname = "proxy only"\nkind = "latency"\nat = "0s"\nlatency = "0ms"\n',
        (("input = { seconds = 0.1 }", "input = { seconds = 0.6 }"),),
    ),
    "sleepy1000": (
        '[[fault]]\nname = "proxy only"\nkind = "latency"\nat = "0s"\nlatency = "0ms"\n',
        (("input = { seconds = 0.1 }", "input = { seconds = 1.0 }"),),
    ),
}


def _workload(variant: str, folder: Path) -> Path:
    extra, replacements = VARIANTS[variant]
    text = QUICKSTART.read_text(encoding="utf-8")
    for old, new in replacements:
        if old not in text:
            raise SystemExit(f"quickstart.toml no longer holds {old!r}: update {__file__}")
        text = text.replace(old, new)
    # [[fault]] tables must come before [thresholds] (a TOML table ends at the next header),
    # so they go at the very end, after it: an array of tables may follow any table.
    path = folder / f"quickstart-{variant}.toml"
    path.write_text(f"{text}\n{extra}", encoding="utf-8")
    return path


def _complete(run_dir: Path) -> bool:
    summary = run_dir / "summary.json"
    if not summary.is_file():
        return False
    try:
        data = json.loads(summary.read_text(encoding="utf-8"))
    except ValueError:
        return False
    return data.get("partial") is False


def collect(args: argparse.Namespace) -> int:
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    for variant in variants:
        if variant not in VARIANTS:
            raise SystemExit(f"unknown variant {variant!r}; known: {', '.join(VARIANTS)}")
    workloads = {variant: _workload(variant, out) for variant in variants}
    target = f"http://127.0.0.1:{args.port}"
    # Rounds: two A runs per round for every slowed run, so A/A pairs fill up first.
    plan: list[tuple[str, int]] = []
    counts = dict.fromkeys(variants, 0)
    wanted = {v: (args.aa if v == "a" else args.repeats) for v in variants}
    while any(counts[v] < wanted[v] for v in variants):
        for variant in variants:
            for _ in range(2 if variant == "a" else 1):
                if counts[variant] < wanted[variant]:
                    plan.append((variant, counts[variant]))
                    counts[variant] += 1
    for position, (variant, index) in enumerate(plan, 1):
        run_dir = out / f"{variant}-{index:02d}"
        if _complete(run_dir):
            continue
        command = [
            sys.executable,
            "-m",
            "lgbench.cli",
            "run",
            str(workloads[variant]),
            "--target",
            target,
            "--duration",
            args.duration,
            "--out",
            str(run_dir),
            "--quiet",
            "--no-report",
        ]
        started = time.monotonic()
        # cwd is the runs' folder, not the checkout: with PYTHONPATH set to a frozen copy of
        # lgbench, edits in the checkout cannot change (or break) a collection under way.
        result = subprocess.run(
            command, cwd=out, capture_output=True, text=True, timeout=RUN_TIMEOUT_S
        )
        took = time.monotonic() - started
        print(
            f"[{position}/{len(plan)}] {run_dir.name}: exit {result.returncode} in {took:.0f} s",
            flush=True,
        )
        if result.returncode not in (0, 4):
            print(result.stderr[-2000:], file=sys.stderr, flush=True)
    return 0


def _runs(out: Path, variant: str) -> list[Path]:
    return sorted(path for path in out.glob(f"{variant}-[0-9][0-9]") if _complete(path))


def _regressed_metrics(comparison: Any) -> dict[str, list[str]]:
    """operation → the figures called regressed."""
    found: dict[str, list[str]] = {}
    for operation in comparison.operations:
        for metric in operation.metrics:
            if metric.regressed:
                found.setdefault(operation.name, []).append(metric.label)
    return found


def analyse(args: argparse.Namespace) -> int:
    from lgbench.gate import compare_runs, compare_summaries, load_summary

    out: Path = args.out
    base_runs = _runs(out, "a")
    k = args.baseline_runs
    if len(base_runs) < k + 1:
        raise SystemExit(f"{out}: {len(base_runs)} complete 'a' runs, need at least {k + 1}")
    baselines = [base_runs[i : i + k] for i in range(len(base_runs) - k)]
    result: dict[str, Any] = {"baseline_runs": k, "a_runs": len(base_runs), "variants": {}}

    # A/A: each baseline against the next run.
    false_new = 0
    false_old = 0
    aa_details: list[dict[str, Any]] = []
    for i, baseline in enumerate(baselines):
        new = base_runs[i + k]
        comparison = compare_runs(baseline, [new])
        old = compare_summaries(load_summary(baseline[-1]), load_summary(new))
        called = _regressed_metrics(comparison)
        old_called = _regressed_metrics(old)
        false_new += bool(called)
        false_old += bool(old_called)
        aa_details.append(
            {
                "baseline": [p.name for p in baseline],
                "new": new.name,
                "regressions": called,
                "old_rule_regressions": sum(len(v) for v in old_called.values()),
            }
        )
    pairs = len(baselines)
    result["aa"] = {
        "pairs": pairs,
        "false_regressions": false_new,
        "false_rate": false_new / pairs,
        "old_rule_false_regressions": false_old,
        "old_rule_false_rate": false_old / pairs,
        "pairs_detail": aa_details,
    }
    print(f"A/A: {pairs} pairs, baseline of {k} runs each")
    print(
        f"  statistical gate: {false_new} pair(s) with a regression called "
        f"= {false_new / pairs:.0%} false regression rate"
    )
    print(
        f"  old point rule (1 base run, +10%, 1 ms): {false_old} pair(s) = {false_old / pairs:.0%}"
    )

    # A/B: the last baseline windows against each slowed run (the baselines before it in
    # time would be more faithful, but runs are interleaved so any window is as near).
    for variant in VARIANTS:
        if variant == "a":
            continue
        slowed = _runs(out, variant)
        if not slowed:
            continue
        per_operation: dict[str, int] = {}
        per_operation_any: dict[str, int] = {}
        runs_flagged = 0
        for index, new in enumerate(slowed):
            baseline = baselines[(index * 3) % len(baselines)]
            comparison = compare_runs(baseline, [new])
            called = _regressed_metrics(comparison)
            runs_flagged += bool(called)
            for operation, figures in called.items():
                per_operation_any[operation] = per_operation_any.get(operation, 0) + 1
                if "p50" in figures:
                    per_operation[operation] = per_operation.get(operation, 0) + 1
        result["variants"][variant] = {
            "runs": len(slowed),
            "runs_flagged": runs_flagged,
            "detected_any_figure": per_operation_any,
            "detected_p50": per_operation,
        }
        print(f"A/B {variant}: {len(slowed)} runs, {runs_flagged} flagged")
        for operation in sorted(per_operation_any):
            print(
                f"  {operation:<20} any figure {per_operation_any[operation]}/{len(slowed)}"
                f"   p50 {per_operation.get(operation, 0)}/{len(slowed)}"
            )
    target: Path = args.json or out / "result.json"
    target.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(f"written: {target}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    c = verbs.add_parser("collect")
    c.add_argument("--port", type=int, required=True, help="the port of `lgbench serve`")
    c.add_argument("--out", type=Path, default=ROOT / "reports" / "gate-power")
    c.add_argument("--duration", default="12s")
    c.add_argument("--aa", type=int, default=26, help="unchanged runs (default 26)")
    c.add_argument("--repeats", type=int, default=8, help="runs per slowed variant (default 8)")
    c.add_argument("--variants", default=",".join(VARIANTS))
    a = verbs.add_parser("analyse")
    a.add_argument("--out", type=Path, default=ROOT / "reports" / "gate-power")
    a.add_argument("--baseline-runs", type=int, default=3)
    a.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.verb == "collect":
        if args.port == 2024:
            raise SystemExit("port 2024 is reserved on this machine; choose another")
        return collect(args)
    return analyse(args)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
