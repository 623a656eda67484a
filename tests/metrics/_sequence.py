"""A fixed sequence of latencies recorded through :class:`LatencyRecorder`, for byte-for-byte
comparisons of the histogram encodings (``intervals.hlog`` lines, ``.hgrm`` files) across
changes to how values are recorded.

``tests/data/hdr_sequence.json`` holds what the recorders gave for it before values were
folded into the histogram in bulk; ``test_hdr.py`` records it again and compares.
"""

from __future__ import annotations

import hashlib
import random
from pathlib import Path
from typing import Any

from lgbench.metrics import LatencyRecorder, format_percentile_distribution

FIXTURE = Path(__file__).parent.parent / "data" / "hdr_sequence.json"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _figures(recorder: LatencyRecorder) -> dict[str, Any]:
    stats = recorder.stats()
    return {
        "encoded": recorder.encode(),
        # Digests of the long ones: the .hgrm text and every bucket's count.
        "hgrm_sha256": _digest(format_percentile_distribution(recorder)),
        "count": recorder.count,
        "sum_us": recorder.sum_us,
        "max_us": recorder.max_us,
        "out_of_range": recorder.out_of_range,
        "min_us": stats.min_us,
        "percentiles_us": {str(p): v for p, v in stats.percentiles_us.items()},
        "value_counts_sha256": _digest(repr(recorder.value_counts())),
    }


def record_sequence() -> dict[str, Any]:
    """Every figure of the recorders the sequence fills, JSON-ready."""
    rng = random.Random(12)
    raw, corrected, merged = LatencyRecorder(), LatencyRecorder(), LatencyRecorder()
    intervals: list[str] = []
    edges = [0, 1, 2, 2047, 2048, 2049, 4095, 4096, 10**6, 3_600_000_000, 3_600_000_001, -1]
    for step in range(30_000):
        if step < len(edges):
            value = edges[step]
        elif step % 1000 == 999:
            value = rng.randrange(10**4, 10**6)  # a stall
        else:
            value = int(rng.lognormvariate(6.5, 0.6))
        raw.record_us(value)
        corrected.record_corrected_us(value, 450 if step % 3 else 0)
        if step % 5000 == 4999:
            # An interval closes: its histogram is encoded (an .hlog line) and merged.
            intervals.append(raw.encode())
            merged.merge(raw)
            raw = LatencyRecorder()
    merged.merge(raw)
    return {
        "intervals": intervals,
        "merged": _figures(merged),
        "corrected": _figures(corrected),
        "copy": _figures(corrected.copy()),
    }
