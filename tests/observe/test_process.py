"""ProcessSampler on processes this test starts: figures, children, death and a new pid."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lgbench.observe import ProcessSample, ProcessSampler

# Burns CPU until its stdin closes; with an argument, first starts that many children like it.
BUSY = """
import subprocess, sys, threading
children = [
    subprocess.Popen([sys.executable, "-c", sys.argv[1]], stdin=subprocess.PIPE)
    for _ in range(int(sys.argv[2]))
]
print("ready", flush=True)
done = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
while not done.is_set():
    sum(range(10_000))
for child in children:
    child.stdin.close()
    child.wait()
"""

LEAF = """
import sys, threading
done = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
while not done.is_set():
    sum(range(10_000))
"""


def start(children: int = 0) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", BUSY, LEAF, str(children)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline() == "ready\n"
    return process


def stop(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.close()
    process.wait(timeout=30)
    process.stdout.close()


@pytest.fixture
def busy() -> Iterator[subprocess.Popen[str]]:
    process = start()
    yield process
    stop(process)


def burn_cpu_s(process_pid: int, seconds: float) -> None:
    """Wait until ``process_pid`` has used ``seconds`` more CPU (no wall-clock assumption)."""
    import psutil

    watched = psutil.Process(process_pid)
    times = watched.cpu_times()
    target = times.user + times.system + seconds
    while True:
        times = watched.cpu_times()
        if times.user + times.system >= target:
            return
        os.sched_yield()


def test_first_sample_has_no_cpu_then_cpu_and_rss(busy: subprocess.Popen[str]) -> None:
    sampler = ProcessSampler(busy.pid)
    first = sampler.sample()
    assert first.alive
    assert first.pid == busy.pid
    assert first.cpu_percent is None  # no baseline yet
    assert first.rss_bytes is not None and first.rss_bytes > 0
    assert first.processes == 1
    burn_cpu_s(busy.pid, 0.2)
    second = sampler.sample()
    assert second.cpu_percent is not None and second.cpu_percent > 0
    assert second.rss_bytes is not None and second.rss_bytes > 0


def test_children_are_summed() -> None:
    parent = start(children=2)
    try:
        alone = ProcessSampler(parent.pid, include_children=False)
        tree = ProcessSampler(parent.pid)
        alone_first, tree_first = alone.sample(), tree.sample()
        assert (alone_first.processes, tree_first.processes) == (1, 3)
        assert tree_first.rss_bytes is not None and alone_first.rss_bytes is not None
        assert tree_first.rss_bytes > alone_first.rss_bytes
        # The parent and both children are busy: the tree uses more than the parent.
        burn_cpu_s(parent.pid, 0.3)
        alone_next, tree_next = alone.sample(), tree.sample()
        assert alone_next.cpu_percent is not None and tree_next.cpu_percent is not None
        assert tree_next.cpu_percent > alone_next.cpu_percent
    finally:
        stop(parent)


def test_survives_the_process_exiting(busy: subprocess.Popen[str]) -> None:
    sampler = ProcessSampler(busy.pid)
    assert sampler.sample().alive
    busy.kill()
    busy.wait()
    gone = sampler.sample()
    assert gone == ProcessSample(
        busy.pid, alive=False, cpu_percent=None, rss_bytes=None, processes=0
    )
    assert sampler.sample() == gone  # and keeps answering


def test_a_zombie_is_not_alive() -> None:
    process = start()
    sampler = ProcessSampler(process.pid)
    assert sampler.sample().alive
    assert process.stdin is not None
    process.stdin.close()
    # Exited but not yet waited for: a zombie until wait().
    os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT)
    assert not sampler.sample().alive
    stop(process)


def test_a_new_pid_starts_a_new_baseline(busy: subprocess.Popen[str]) -> None:
    sampler = ProcessSampler(busy.pid)
    sampler.sample()
    busy.kill()  # as fault injection would
    busy.wait()
    assert not sampler.sample().alive
    restarted = start()
    try:
        sampler.set_pid(restarted.pid)
        first = sampler.sample()
        assert first.alive and first.pid == restarted.pid
        assert first.cpu_percent is None
        burn_cpu_s(restarted.pid, 0.1)
        assert (sampler.sample().cpu_percent or 0) > 0
    finally:
        stop(restarted)


def test_setting_the_same_pid_again_keeps_the_baseline(busy: subprocess.Popen[str]) -> None:
    # The run's sampler hands over the embedded server's pid before every sample: as long as
    # the server is the same process, its CPU must still be measured between two samples.
    sampler = ProcessSampler(busy.pid)
    sampler.sample()
    burn_cpu_s(busy.pid, 0.1)
    sampler.set_pid(busy.pid)
    assert (sampler.sample().cpu_percent or 0) > 0


def test_no_pid_and_own_process() -> None:
    nothing = ProcessSampler(None)
    assert nothing.sample() == ProcessSample(None, False, None, None, 0)
    own = ProcessSampler(os.getpid(), include_children=False).sample()
    assert own.alive and own.processes == 1
    assert own.rss_bytes is not None and own.rss_bytes > 0
    assert own.to_dict() == {
        "pid": os.getpid(),
        "alive": True,
        "cpu_percent": None,
        "rss_bytes": own.rss_bytes,
        "processes": 1,
    }


def test_a_pid_that_never_existed() -> None:
    # The highest pid the kernel hands out, plus one: never a process.
    pid_max = int(Path("/proc/sys/kernel/pid_max").read_text()) + 1
    assert not ProcessSampler(pid_max).sample().alive
