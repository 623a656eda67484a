"""The cost of authentication: the same load on the embedded server without and with auth.

    python benchmarks/auth_cost.py [--seconds 15] [--rounds 3] [--vus 8] [--users 4] [--json FILE]

Each round starts the embedded server twice, without auth and with lgbench's bundled Auth
handlers (an authenticate handler checking a fixture token's HMAC, owner-only filters on every
resource), the order alternating between rounds, and runs ``lgbench run`` of one closed
workload against it: ``--vus`` VUs for ``--seconds``, each iteration ``threads.create``,
``threads.get``, ``threads.search``, ``store.put_item`` and ``store.get_item`` (no runs: the
in-memory server's half-second queue poll would hide the handlers' cost). With auth the VUs
act as ``--users`` users (``[target.auth] tokens_env``); the store namespace starts with the
user's label either way. Figures come from each run's summary.json: operations per second and
each operation's p50 and p99; the medians over the rounds are printed, with the ratio
auth / no auth. Traffic goes to 127.0.0.1 only; every server is stopped before the next starts.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from lgbench.server import EmbeddedServer, fixture_token

_STEPS = """
steps = [
  {{ op = "threads.create", metadata = {{ bench = "auth" }}, save = "thread" }},
  {{ op = "threads.get", thread = "$thread" }},
  {{ op = "threads.search", limit = 10 }},
  {{ op = "store.put_item", namespace = ["{user}", "bench"], key = "k-${{vu}}-${{iteration}}",
    value = {{ n = "${{iteration}}" }} }},
  {{ op = "store.get_item", namespace = ["{user}", "bench"], key = "k-${{vu}}-${{iteration}}" }},
]
"""
_WORKLOAD = """
name = "auth-cost"
audit = false
[target]
url = "{url}"
{auth}
[[scenario]]
name = "load"
executor = "constant-vus"
vus = {vus}
duration = "{seconds}s"
"""
OPERATIONS = ("threads.create", "threads.get", "threads.search", "store.put_item", "store.get_item")


def _run(folder: Path, *, auth: bool, seconds: int, vus: int, users: int) -> dict[str, Any]:
    secret = secrets.token_hex(16)
    env = dict(os.environ)
    with EmbeddedServer(log_path=folder / "server.log", auth_secret=secret if auth else None) as s:
        if auth:
            tokens = [fixture_token(f"user-{n}", secret) for n in range(1, users + 1)]
            env["LGBENCH_BENCH_TOKENS"] = json.dumps(tokens)
            section = '[target.auth]\ntokens_env = "LGBENCH_BENCH_TOKENS"\n'
            user = "${user}"
        else:
            section, user = "", "user-${vu}"
        workload = folder / "auth-cost.toml"
        workload.write_text(
            _WORKLOAD.format(url=s.url, auth=section, vus=vus, seconds=seconds)
            + _STEPS.format(user=user)
        )
        out = folder / "run"
        done = subprocess.run(
            [
                *(sys.executable, "-m", "lgbench.cli", "run", str(workload)),
                *("--out", str(out), "--no-live", "--quiet", "--no-report"),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=seconds + 300,
            check=False,
        )
        if done.returncode not in (0, 1):
            raise SystemExit(f"lgbench run failed ({done.returncode}): {done.stderr[-2000:]}")
    summary = json.loads((out / "summary.json").read_text())
    operations = summary["operations"]
    figures: dict[str, Any] = {
        "ops_per_s": sum(operations[op]["count"] for op in OPERATIONS) / summary["duration_s"],
        "errors": sum(operations[op]["errors"] for op in OPERATIONS),
    }
    for op in OPERATIONS:
        figures[f"{op} p50"] = operations[op]["latency_ms"]["p50"]
        figures[f"{op} p99"] = operations[op]["latency_ms"]["p99"]
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--vus", type=int, default=8)
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    results: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
    with tempfile.TemporaryDirectory(prefix="lgbench-auth-cost-") as tmp:
        for round_number in range(args.rounds):
            order = (False, True) if round_number % 2 == 0 else (True, False)
            for auth in order:
                folder = Path(tmp) / f"r{round_number}-{'auth' if auth else 'plain'}"
                folder.mkdir()
                figures = _run(
                    folder, auth=auth, seconds=args.seconds, vus=args.vus, users=args.users
                )
                results[auth].append(figures)
                print(
                    f"round {round_number + 1} {'auth   ' if auth else 'no auth'} "
                    f"{figures['ops_per_s']:8.1f} ops/s  errors {figures['errors']}",
                    flush=True,
                )
    keys = list(results[False][0])
    print(f"\n{'figure':26} {'no auth':>10} {'auth':>10} {'auth/no':>8}")
    table: dict[str, dict[str, float]] = {}
    for key in keys:
        plain = statistics.median(r[key] for r in results[False])
        authed = statistics.median(r[key] for r in results[True])
        ratio = authed / plain if plain else float("nan")
        table[key] = {"no_auth": plain, "auth": authed, "ratio": ratio}
        print(f"{key:26} {plain:10.2f} {authed:10.2f} {ratio:8.2f}")
    if args.json is not None:
        args.json.write_text(
            json.dumps({"args": vars(args) | {"json": str(args.json)}, "median": table}, indent=2)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
