"""``lgbench run`` with its load in one worker process: a coordinator and a single worker.

    python benchmarks/_one_worker.py run W.toml [flags of lgbench run]

The command line has no such split (``--workers 1`` is one process, no coordinator):
``scale.py --quota`` needs it as its reference for "one worker's rate", so this wrapper hands
the run a one-worker :class:`~lgbench.distributed.WorkerPool` and otherwise runs
``lgbench.cli`` unchanged.
"""

from __future__ import annotations

import sys
from typing import Any


def main() -> int:
    # Imported here, not at the top: the spawned worker imports this file as its main module
    # and should import no more than under ``lgbench run``.
    from lgbench import cli
    from lgbench.distributed import WorkerPool

    def one_worker(args: Any, workload: Any) -> WorkerPool:
        del args, workload  # the split of one worker is the whole plan
        return WorkerPool(1)

    cli._worker_pool = one_worker
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
