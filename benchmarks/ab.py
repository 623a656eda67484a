"""Two (or more) versions of lgbench side by side: ``peers.py`` runs alternating between them.

    python benchmarks/ab.py --tree before=af647a4 --tree after=. [--pairs 3] [--json FILE]
                            -- --tools lgbench-asyncio lgbench-trio --seconds 10 --rounds 1

Each ``--tree NAME=WHERE`` names a version: a git revision (its ``lgbench`` package is
taken with ``git archive`` into a temporary folder), a folder that holds an ``lgbench``
package, or ``.`` for the installed one. Every pair runs ``peers.py`` (the arguments after
``--``) once per tree, the trees in turn, the first tree starting odd pairs and the last
starting even ones (ABBA...), so that a drift of the machine over the sitting falls on
both sides alike. Each tree's bytecode is compiled beforehand: with
``PYTHONDONTWRITEBYTECODE`` set, a run would compile lgbench again and count it in its
start-up.

Prints, per figure (closed-model CPU µs per request for each lgbench backend, open-model CPU
µs per iteration, whole-run CPU µs per request, dropped iterations), each pair's values, each
tree's ratio to the first tree per pair, and the medians; the 1-minute load average before
each run, and which runs ``peers.py`` saw disturbed. Needs what ``peers.py`` needs.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


@dataclass(frozen=True)
class Tree:
    name: str
    pythonpath: str  # "" for the installed lgbench


def prepare(spec: str, scratch: Path) -> Tree:
    name, sep, where = spec.partition("=")
    if not sep or not name or not where:
        raise SystemExit(f"--tree wants NAME=WHERE (a git revision, a folder or .), not {spec!r}")
    if where == ".":
        compileall.compile_dir(ROOT / "lgbench", quiet=1)
        return Tree(name, "")
    folder = Path(where)
    if (folder / "lgbench" / "__init__.py").is_file():
        compileall.compile_dir(folder / "lgbench", quiet=1)
        return Tree(name, str(folder.resolve()))
    target = scratch / name
    target.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", where, "lgbench"], capture_output=True, check=False
    )
    if archive.returncode != 0:
        raise SystemExit(f"--tree {spec}: {archive.stderr.decode(errors='replace').strip()}")
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    compileall.compile_dir(target / "lgbench", quiet=1)
    return Tree(name, str(target))


def run_peers(tree: Tree, peers_args: list[str], out: Path) -> dict[str, Any]:
    env = dict(os.environ)
    if tree.pythonpath:
        env["PYTHONPATH"] = tree.pythonpath
    else:
        env.pop("PYTHONPATH", None)
    argv = [sys.executable, str(HERE / "peers.py"), *peers_args, "--json", str(out)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not out.exists():
        raise SystemExit(f"peers.py failed for {tree.name}:\n{done.stdout[-2000:]}\n{done.stderr}")
    figures: dict[str, Any] = json.loads(out.read_text())
    return figures


def figures_of(result: dict[str, Any]) -> dict[str, float]:
    """The figures of one peers.py run, by name (medians over its rounds)."""
    found: dict[str, float] = {}
    for name, rounds in result["rounds"].items():
        if not name.startswith(("lgbench-", "open-")):
            continue
        label = name if name.startswith("open-") else name.removeprefix("lgbench-")
        steady = [r["window"]["cpu_us_per_request"] for r in rounds if r.get("window")]
        whole = [r["whole_cpu_us_per_request"] for r in rounds]
        if steady:
            found[f"{label} steady µs"] = statistics.median(steady)
        if whole:
            found[f"{label} whole µs"] = statistics.median(whole)
        if name.startswith("open-"):
            dropped = [r["extra"].get("dropped_iterations", 0) for r in rounds]
            found[f"{label} dropped"] = statistics.median(dropped)
        disturbed = [r["window"]["other_user_cores"] for r in rounds if r.get("window") is not None]
        if disturbed:
            found[f"{label} others (cores)"] = max(disturbed)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", action="append", required=True, help="NAME=REVISION|FOLDER|.")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None, help="also write every figure here")
    parser.add_argument("peers_args", nargs=argparse.REMAINDER, help="-- then peers.py's")
    args = parser.parse_args()
    peers_args = [a for a in args.peers_args if a != "--"]
    if len(args.tree) < 2:
        raise SystemExit("give at least two --tree")
    with tempfile.TemporaryDirectory(prefix="lgbench-ab-") as scratch_dir:
        scratch = Path(scratch_dir)
        trees = [prepare(spec, scratch) for spec in args.tree]
        names = [t.name for t in trees]
        if len(set(names)) != len(names):
            raise SystemExit("each --tree needs a name of its own")
        table: list[dict[str, dict[str, float]]] = []
        for pair in range(args.pairs):
            order = trees if pair % 2 == 0 else list(reversed(trees))
            row: dict[str, dict[str, float]] = {}
            for tree in order:
                load = os.getloadavg()[0]
                started = time.strftime("%H:%M:%S", time.gmtime())
                result = run_peers(tree, peers_args, scratch / f"{tree.name}-{pair}.json")
                row[tree.name] = {**figures_of(result), "load": load}
                shown = ", ".join(f"{k} {v:,.1f}" for k, v in row[tree.name].items())
                print(f"pair {pair + 1} {tree.name} ({started} UTC): {shown}", flush=True)
            table.append(row)
    first = names[0]
    keys = [k for k in table[0][first] if k != "load" and "others" not in k]
    print(f"\n{'figure':28s} " + " ".join(f"{n:>22s}" for n in names))
    for key in keys:
        cells = []
        for name in names:
            values = [row[name].get(key) for row in table]
            known = [v for v in values if v is not None]
            median = statistics.median(known) if known else float("nan")
            if name == first:
                cells.append(f"{median:>22,.1f}")
                continue
            ratios = [
                row[name][key] / row[first][key]
                for row in table
                if row[name].get(key) is not None and row[first].get(key)
            ]
            ratio = f"x{statistics.median(ratios):.2f}" if ratios else "-"
            cells.append(f"{median:>13,.1f} {ratio:>8s}")
        print(f"{key:28s} " + " ".join(cells))
    print("(medians over pairs; xR: the median over pairs of the ratio to the first tree)")
    if args.json:
        args.json.write_text(json.dumps({"trees": names, "pairs": table}, indent=2))


if __name__ == "__main__":
    main()
