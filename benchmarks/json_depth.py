"""What the client's JSON depth limit costs: ``json.loads`` against ``loads_within_depth``.

    python benchmarks/json_depth.py [--rounds 7]

On the answers a load test decodes most (a small stream event, a run, a page of threads
with their state) and on a hostile one (a million nested brackets, refused). Both sides run
on the same text, interleaved, best of ``--rounds``; prints µs per decode and the cost of
the check in µs and as a share of the decode. CPU-bound and single-threaded: run it on an
idle core.
"""

from __future__ import annotations

import argparse
import json
import timeit
from collections.abc import Callable
from typing import Any

from lgbench.client import ResponseLimitError
from lgbench.client._json_depth import loads_within_depth

LIMIT = 128


def _samples() -> dict[str, bytes | str]:
    event = json.dumps({"run_id": "1ef0", "values": {"tokens": ["a", "b", "c"]}})
    run = json.dumps(
        {
            "run_id": "1ef0-aaaa",
            "thread_id": "2ab1-bbbb",
            "assistant_id": "sleepy",
            "status": "success",
            "metadata": {"vu": "3", "scenario": "waits"},
            "kwargs": {"input": {"seconds": 0.1}, "config": {"configurable": {"a": 1}}},
            "multitask_strategy": "enqueue",
            "created_at": "2026-12-05T18:04:24.907616+00:00",
        }
    )
    threads = [
        {
            "thread_id": f"0b9f{i:028d}",
            "created_at": "2026-12-05T18:04:24.907616+00:00",
            "metadata": {"vu": str(i)},
            "status": "idle",
            "values": {
                "messages": [
                    {"type": "human", "content": "hello world " * 5},
                    {"type": "ai", "content": "y" * 200},
                ]
            },
            "config": {"configurable": {"a": 1}},
            "interrupts": {},
        }
        for i in range(100)
    ]
    return {
        "stream event (str)": event,
        "a run (bytes)": run.encode(),
        "100 threads with state (bytes)": json.dumps(threads).encode(),
    }


def _best_us(fn: Callable[[], Any], rounds: int) -> float:
    number = 1
    while timeit.timeit(fn, number=number) < 0.05:
        number *= 2
    return min(timeit.repeat(fn, number=number, repeat=rounds)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    print(f"{'answer':34} {'bytes':>8} {'json.loads':>11} {'checked':>9} {'check':>8} {'share':>6}")
    for name, text in _samples().items():
        plain = _best_us(lambda t=text: json.loads(t), args.rounds)  # type: ignore[misc]
        checked = _best_us(lambda t=text: loads_within_depth(t, LIMIT), args.rounds)  # type: ignore[misc]
        print(
            f"{name:34} {len(text):>8,} {plain:>9.2f}µs {checked:>7.2f}µs "
            f"{checked - plain:>6.2f}µs {(checked - plain) / plain:>6.0%}"
        )
    bomb = b"[" * 1_000_000 + b"]" * 1_000_000

    def refuse() -> None:
        try:
            loads_within_depth(bomb, LIMIT)
        except ResponseLimitError:
            return
        raise AssertionError("the bomb was decoded")

    print(
        f"{'bomb, 1e6 levels (refused)':34} {len(bomb):>8,} {'RecursionError':>11} "
        f"{_best_us(refuse, 3):>7.0f}µs"
    )


if __name__ == "__main__":
    main()
