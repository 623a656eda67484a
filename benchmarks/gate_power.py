"""Gate power: how often does the baseline gate cry wolf, and how often does it catch a slowdown?

    python benchmarks/gate_power.py collect --port P [--out DIR] [--duration 12s] [--aa 26]
                                            [--repeats 8] [--variants a,lat1,...]
    python benchmarks/gate_power.py analyse [--out DIR] [--baseline-runs 3] [--json FILE]

``collect`` runs ``workloads/quickstart.toml`` (shortened with ``--duration``) many times
against ONE server the caller started (``lgbench serve --port P``), in rounds that
interleave every variant, so that the machine's load over time touches all of them alike:

- ``a``: the unchanged workload (through the fault proxy with a 0 ms "latency" fault, so
  every run has the same path as the slowed ones: the proxy's own hop is not the effect);
- ``lat1``, ``lat3``, ``lat10``, ``lat30``: a ``[[fault]]`` latency of 1, 3, 10 or 30 ms on
  every chunk,
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

- **A/A pairs**: for each baseline size K of ``--baseline-runs`` (default 1, 3 and 5), K
  consecutive ``a`` runs against the next ``a`` run (sliding along the series); any
  regression called is a false one. The same pairs also go through the old point-estimate
  rule (the last base run alone, +10 %, 1 ms floor) for contrast.
- **A/B pairs**: each slowed run against the baseline window that ended just before it; per
  variant and slowed operation, how often a regression was called on that operation (the
  detection rate).

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
    "lat30": ('[[fault]]\nname = "slow"\nkind = "latency"\nat = "0s"\nlatency = "30ms"\n', ()),
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


def _slowed_operations(variant: str) -> list[str]:
    """The operations a variant is meant to slow (the detection rate is counted on them)."""
    if variant.startswith("sleepy"):
        return ["runs.wait"]
    return ["threads.create", "threads.get_state", "store.put_item", "runs.get", "runs.stream.ttfe"]


def _floor_rule(name: str) -> None:
    """Swap the gate's noise-floor rule, to weigh the alternatives on the same runs."""
    import math

    import lgbench.gate._stats as stats

    if name == "prediction":
        return  # lgbench's rule, as shipped

    def largest(deviations: Sequence[float], confidence: float) -> float | None:
        return max(abs(d) for d in deviations) if len(deviations) >= 2 else None

    def none(deviations: Sequence[float], confidence: float) -> float | None:
        return None

    def robust(deviations: Sequence[float], confidence: float) -> float | None:
        k = len(deviations)
        if k < 2:
            return None
        ordered = sorted(abs(d) for d in deviations)
        spread = 1.4826 * ordered[k // 2]
        t = stats.t_quantile((1 + confidence) / 2, k - 1)
        return t * spread * math.sqrt(k * k - 1) / k

    rules = {"largest": largest, "none": none, "robust": robust}
    stats.noise_floor = rules[name]  # type: ignore[assignment]


def analyse(args: argparse.Namespace) -> int:
    from lgbench.gate import compare_runs, compare_summaries, load_run, load_summary

    _floor_rule(args.floor_rule)

    out: Path = args.out
    a_runs = _runs(out, "a")
    cache: dict[Path, Any] = {}

    def run(path: Path) -> Any:
        if path not in cache:
            cache[path] = load_run(path)
        return cache[path]

    sizes = [int(k) for k in args.baseline_runs.split(",")]
    result: dict[str, Any] = {
        "a_runs": len(a_runs),
        "floor_rule": args.floor_rule,
        "by_baseline_size": {},
    }
    for k in sizes:
        if len(a_runs) < k + 1:
            print(f"baseline of {k}: only {len(a_runs)} 'a' runs, skipped")
            continue
        windows = [a_runs[i : i + k] for i in range(len(a_runs) - k)]
        false_new = false_old = 0
        false_figures: dict[str, int] = {}
        old_counts: list[int] = []
        for i, baseline in enumerate(windows):
            new = a_runs[i + k]
            comparison = compare_runs([run(p) for p in baseline], [run(new)])
            called = _regressed_metrics(comparison)
            false_new += bool(called)
            for operation, figures in called.items():
                for figure in figures:
                    key = f"{operation} {figure}"
                    false_figures[key] = false_figures.get(key, 0) + 1
            old = compare_summaries(load_summary(baseline[-1]), load_summary(new))
            false_old += bool(_regressed_metrics(old))
            old_counts.append(len(old.regressions))
        pairs = len(windows)
        entry: dict[str, Any] = {
            "aa_pairs": pairs,
            "aa_false": false_new,
            "aa_false_rate": false_new / pairs,
            "aa_false_figures": false_figures,
            "old_rule_aa_false": false_old,
            "old_rule_aa_false_rate": false_old / pairs,
            "old_rule_regressions_per_pair": sorted(old_counts),
            "variants": {},
        }
        print(
            f"baseline of {k} run(s): A/A {pairs} pairs: {false_new} with a regression called "
            f"({false_new / pairs:.0%}); old rule {false_old} ({false_old / pairs:.0%})"
        )
        if false_figures:
            print(f"  false calls on: {false_figures}")
        for variant in VARIANTS:
            if variant == "a":
                continue
            slowed = _runs(out, variant)
            if not slowed:
                continue
            targets = _slowed_operations(variant)
            detected: dict[str, int] = dict.fromkeys(targets, 0)
            flagged = 0
            for index, new in enumerate(slowed):
                # The baseline window that ends nearest before this run in time.
                started = load_summary(new).get("started_at", "")
                earlier = [
                    w for w in windows if load_summary(w[-1]).get("started_at", "") < started
                ]
                baseline = earlier[-1] if earlier else windows[index % len(windows)]
                comparison = compare_runs([run(p) for p in baseline], [run(new)])
                called = _regressed_metrics(comparison)
                flagged += bool(called)
                for operation in targets:
                    tag = operation.removesuffix(".ttfe")
                    figures = called.get(tag, [])
                    if operation.endswith(".ttfe"):
                        figures = [f for f in figures if f.startswith("ttfe")]
                    else:
                        figures = [f for f in figures if not f.startswith("ttfe")]
                    detected[operation] += bool(figures)
            entry["variants"][variant] = {
                "runs": len(slowed),
                "flagged": flagged,
                "detected": detected,
            }
            rates = ", ".join(f"{op} {n}/{len(slowed)}" for op, n in detected.items())
            print(f"  A/B {variant:<11} {flagged}/{len(slowed)} runs flagged; {rates}")
        result["by_baseline_size"][str(k)] = entry
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
    a.add_argument("--baseline-runs", default="1,3,5", help="baseline sizes to try (default 1,3,5)")
    a.add_argument("--json", type=Path, default=None)
    a.add_argument(
        "--floor-rule",
        choices=("prediction", "largest", "robust", "none"),
        default="prediction",
        help="the noise floor: lgbench's prediction bound (default), the largest"
        " leave-one-out change, a median-based prediction bound, or none (to compare)",
    )
    args = parser.parse_args(argv)
    if args.verb == "collect":
        if args.port == 2024:
            raise SystemExit("port 2024 is reserved on this machine; choose another")
        return collect(args)
    return analyse(args)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
