"""``lgbench run --ray ADDRESS``: the workers as Ray actors, spread over a cluster's nodes.

:class:`RayPool` is a :class:`WorkerPool` whose workers are Ray actors instead of local
processes; everything else (the segments, the synchronised start, the exact merge, stops,
lost workers) is the pool's. Each actor (one CPU, spread over the nodes) runs the same worker
code in its own thread (so trio runs in a thread of the actor, never on Ray's loop) and talks
to the coordinator over a :mod:`multiprocessing.connection` socket authenticated with a
random key (HMAC): the coordinator listens on loopback when the whole cluster is this machine,
else on this node's address.

A worker on the coordinator's node writes its history and interval log straight into the run
folder (the same path, holding the run's marker file); on another node it writes them into a
temporary folder of that node, and at the end the coordinator copies them into its run folder,
a chunk at a time, and has the folder removed. ``summary.json`` says, per worker, on which node
it ran and how many bytes came back.

``ADDRESS`` is a Ray cluster's address, or ``local``: a private one-machine cluster that
lgbench starts (``num_cpus`` = the workers) and stops itself. Ray's pitfalls are avoided on
purpose: no bare ``ray.init()`` (it would join whatever cluster the machine last started),
never ``ray stop`` (it kills every Ray process of every user); a cluster lgbench did not
start is only disconnected from. On a real network, turn on Ray's token authentication: anyone
who reaches the cluster's ports can run code on it. Ray is the optional extra ``lgbench[ray]``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import tempfile
import time
from collections.abc import Sequence
from multiprocessing.connection import Client, Connection, Listener
from pathlib import Path
from typing import Any, Final

import anyio
import anyio.to_thread

from lgbench._secrets import Secret
from lgbench.distributed._pool import WorkerPool, WorkerState
from lgbench.distributed._worker import WorkerSpec, history_name, intervals_name, worker_main
from lgbench.engine import Recorder, RunControl, SplitRun
from lgbench.errors import TargetError, UsageError

__all__ = ["RUN_MARKER", "RayPool", "run_ray_worker"]

RUN_MARKER: Final = ".lgbench-run"
"""A file in the run folder whose content names the run: a worker that finds it on its own
node writes there directly."""
_ACCEPT_TIMEOUT_S: Final = 120.0
_FILES_TIMEOUT_S: Final = 60.0
_CHUNK_BYTES: Final = 4 << 20
_WATCH_S: Final = 1.0
_ENDED_GRACE_S: Final = 5.0
_DISCARD_TIMEOUT_S: Final = 5.0


def run_ray_worker(
    spec: WorkerSpec,
    address: tuple[str, int],
    authkey: bytes,
    run_id: str,
    *,
    same_node: bool = True,
) -> Path | None:
    """The body of a worker actor: connect back and run. Return the scratch folder that holds
    its history and interval log when it did not write into the run folder (None when it did).

    It writes into the run folder only on the coordinator's node (``same_node``) and when the
    folder there is this run's (its marker names ``run_id``): a worker on another node writes
    into a scratch folder of its own node, even when the run folder's path happens to exist
    there (a shared file system), and the coordinator copies the files back at the end.
    """
    run_dir = Path(spec.run.run_dir)
    marker = run_dir / RUN_MARKER
    local = same_node and marker.is_file() and marker.read_text(encoding="utf-8") == run_id
    scratch = None if local else Path(tempfile.mkdtemp(prefix="lgbench-worker-"))
    if scratch is not None:
        spec = WorkerSpec(_with_run_dir(spec.run, scratch), spec.number, spec.count)
    conn = Client(address, authkey=authkey)
    worker_main(spec, conn)
    return scratch


def _hang_up(conn: Connection) -> None:
    """Shut ``conn``'s socket down: a thread blocked reading it gets end of file at once
    (closing the descriptor would not wake it)."""
    with contextlib.suppress(OSError), socket.socket(fileno=os.dup(conn.fileno())) as sock:
        sock.shutdown(socket.SHUT_RDWR)


def _worker_files(scratch: Path, number: int) -> list[tuple[str, int]]:
    """Worker ``number``'s files in ``scratch``, with their sizes: its history (rotated
    segments too) and its interval log."""
    return [
        (path.name, path.stat().st_size)
        for path in sorted(scratch.iterdir())
        if path.is_file() and _is_worker_file(path.name, number)
    ]


def _is_worker_file(name: str, number: int) -> bool:
    return name in (history_name(number), intervals_name(number)) or (
        name.startswith(f"history.w{number}-") and "/" not in name and ".." not in name
    )


def _with_run_dir(run: SplitRun, run_dir: Path) -> SplitRun:
    fields = {name: getattr(run, name) for name in run.__dataclass_fields__}
    fields["run_dir"] = str(run_dir)
    return SplitRun(**fields)


class _ActorProcess:
    """A Ray actor seen as a worker process (for the pool's waits and kills)."""

    def __init__(self, ray: Any, actor: Any, done: Any) -> None:
        self._ray = ray
        self.actor = actor
        self.done = done
        self._killed = False
        self.discarded = False

    @property
    def exitcode(self) -> int | None:
        if self._killed:
            return -9
        if self.is_alive():
            return None
        try:
            self._ray.get(self.done, timeout=0)
        except Exception:  # it ended by an error: Ray knows no exit code
            return None
        return 0

    def is_alive(self) -> bool:
        if self._killed:
            return False
        ready, _ = self._ray.wait([self.done], timeout=0)
        return not ready

    def join(self, timeout: float | None = None) -> None:
        if not self._killed:
            self._ray.wait([self.done], timeout=timeout)

    def terminate(self) -> None:
        self.kill()

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self._ray.kill(self.actor)
        self._killed = True


class RayPool(WorkerPool):
    """``count`` worker actors on the Ray cluster at ``address`` (or ``local``)."""

    def __init__(self, count: int, address: str) -> None:
        super().__init__(count)
        self.address = address
        self._ray: Any = None
        self._listener: Listener | None = None
        self._run_dir: Path | None = None

    async def start(self, run: SplitRun, *, tokens: Sequence[Secret] = ()) -> float:
        if tokens:
            # Its callback socket is authenticated, not encrypted: tokens stay off the network.
            raise UsageError(
                "--ray: a workload with [target.auth] splits over local worker processes only"
                " (--workers N), so that the users' tokens never cross the network"
            )
        return await super().start(run)

    async def _launch(self, run: SplitRun) -> None:
        await anyio.to_thread.run_sync(self._connect)
        ray = self._ray
        run_id = secrets.token_hex(16)
        self._run_dir = Path(run.run_dir)
        (self._run_dir / RUN_MARKER).write_text(run_id, encoding="utf-8")
        authkey = secrets.token_bytes(32)
        host = "127.0.0.1" if self._all_local() else ray.util.get_node_ip_address()
        self._listener = Listener((host, 0), authkey=authkey)
        address = self._listener.address
        node = str(ray.get_runtime_context().get_node_id())
        remote = ray.remote(num_cpus=1, max_restarts=0)(_RayWorker)
        for number in range(1, self.count + 1):
            actor = remote.options(scheduling_strategy="SPREAD").remote()
            spec = WorkerSpec(run, number, self.count)
            done = actor.run.remote(spec, address, authkey, run_id, node)
            self.workers.append(
                WorkerState(number, _ActorProcess(ray, actor, done), _NO_CONN, status="starting")
            )
        with anyio.fail_after(_ACCEPT_TIMEOUT_S):
            for _ in range(self.count):
                conn: Connection = await anyio.to_thread.run_sync(
                    self._listener.accept, abandon_on_cancel=True
                )
                hello = await anyio.to_thread.run_sync(conn.recv, abandon_on_cancel=True)
                worker = self.workers[int(hello["worker"]) - 1]
                worker.conn = conn
                worker.pid = int(hello["pid"])
                worker.host = str(hello["host"])

    def _connect(self) -> None:
        if self.address == "local":
            # Ray's own switch to keep a one-machine cluster on loopback (read when Ray is
            # imported): otherwise it listens on every interface.
            os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        try:
            import ray
        except ImportError:
            raise TargetError(
                'Ray is not installed: pip install "lgbench[ray]" (or use --workers alone)'
            ) from None
        self._ray = ray_module = ray
        try:
            if self.address == "local":
                # A private cluster of this process's own: never one left by someone else.
                ray_module.init(
                    address="local",
                    num_cpus=self.count,
                    include_dashboard=False,
                    log_to_driver=False,
                )
            else:
                ray_module.init(address=self.address, log_to_driver=False)
        except Exception as exc:  # Ray raises many kinds: all mean no cluster to run on
            raise TargetError(f"cannot reach the Ray cluster {self.address}: {exc}") from None
        cpus = self._ray.cluster_resources().get("CPU", 0)
        if cpus < self.count:
            self._ray.shutdown()
            raise TargetError(
                f"the Ray cluster {self.address} has {cpus:g} CPUs, fewer than the"
                f" {self.count} workers asked for"
            )

    def _all_local(self) -> bool:
        here = {"127.0.0.1", self._ray.util.get_node_ip_address()}
        nodes = [node for node in self._ray.nodes() if node.get("Alive")]
        return all(node.get("NodeManagerAddress") in here for node in nodes)

    async def drive(self, recorder: Recorder, control: RunControl) -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(self._watch_actors)
            await super().drive(recorder, control)
            group.cancel_scope.cancel()
        await anyio.to_thread.run_sync(self._collect_files, recorder)

    async def _watch_actors(self) -> None:
        """Hang up on a worker whose actor has ended (Ray found it or its node dead) while
        its socket stays silent: a node that loses power or its network closes no socket,
        and the worker's reader would wait for it for ever. The grace lets a finished
        worker's last message, already on its way, be read first."""
        ended: dict[int, float] = {}
        while True:
            await anyio.sleep(_WATCH_S)
            for worker in self.workers:
                if worker.status != "running":
                    continue
                if await anyio.to_thread.run_sync(worker.process.is_alive):
                    continue
                since = ended.setdefault(worker.number, time.monotonic())
                if time.monotonic() - since >= _ENDED_GRACE_S:
                    _hang_up(worker.conn)

    def _collect_files(self, recorder: Recorder) -> None:
        """The files of workers that wrote away from the run folder, copied into it a chunk
        at a time; a worker whose files cannot be had is a warning."""
        if self._run_dir is None:
            return  # nothing launched
        deadline = time.monotonic() + _FILES_TIMEOUT_S
        for worker in self.workers:
            process = worker.process
            assert isinstance(process, _ActorProcess)
            if worker.status == "lost":
                # Its files are complete only as far as it wrote them; away from the run
                # folder they went with its node.
                if not (self._run_dir / history_name(worker.number)).exists():
                    worker.history_gone = True
                    worker.history = {}
                continue
            left = max(deadline - time.monotonic(), 0.1)
            try:
                node, files = self._ray.get(process.done, timeout=left)
                worker.node = node
                if files:
                    worker.shipped_bytes = self._copy_back(process.actor, files)
            except Exception as exc:  # Ray raises many kinds: all mean the files are not here
                recorder.warn(
                    f"worker.files:{worker.number}",
                    f"worker {worker.number}'s history and interval log could not be copied"
                    f" into the run folder: {exc}",
                )
            finally:
                self._discard(process)

    def _discard(self, process: _ActorProcess) -> None:
        """Have the actor remove its scratch folder (once; waited for: the cluster may be
        shut down right after)."""
        if process.discarded:
            return
        process.discarded = True
        with contextlib.suppress(Exception):
            self._ray.get(process.actor.discard.remote(), timeout=_DISCARD_TIMEOUT_S)

    def _copy_back(self, actor: Any, files: list[tuple[str, int]]) -> int:
        assert self._run_dir is not None
        copied = 0
        for name, size in files:
            with (self._run_dir / Path(name).name).open("wb") as out:
                offset = 0
                while offset < size:
                    chunk = self._ray.get(
                        # Per chunk: a long history takes as long as it takes, a stall not.
                        actor.read.remote(name, offset, _CHUNK_BYTES),
                        timeout=_FILES_TIMEOUT_S,
                    )
                    if not chunk:
                        break
                    out.write(chunk)
                    offset += len(chunk)
            copied += offset
        return copied

    async def aclose(self) -> None:
        with anyio.CancelScope(shield=True):
            try:
                await super().aclose()
            finally:
                if self._ray is not None and self._ray.is_initialized():
                    # A run cancelled before its files were copied: no scratch folder is
                    # left on a node whose actor still lives.
                    for worker in self.workers:
                        if isinstance(worker.process, _ActorProcess):
                            await anyio.to_thread.run_sync(self._discard, worker.process)
                if self._listener is not None:
                    self._listener.close()
                if self._run_dir is not None:
                    with contextlib.suppress(OSError):
                        os.unlink(self._run_dir / RUN_MARKER)
                if self._ray is not None and self._ray.is_initialized():
                    # Stops the private cluster of "local"; only disconnects from another.
                    await anyio.to_thread.run_sync(self._ray.shutdown)


class _NoConnection:
    """Stands in until the actor has called back."""

    def send(self, message: Any) -> None:
        raise OSError("not connected yet")

    def recv(self) -> Any:
        raise EOFError

    def close(self) -> None:
        pass


_NO_CONN: Any = _NoConnection()


class _RayWorker:
    """The actor class (made remote in :meth:`RayPool._launch`, where Ray is imported).

    Its files written away from the run folder stay in its scratch folder after :meth:`run`
    until the coordinator has read them, a chunk at a time (:meth:`read`: a long run's
    history never has to fit in memory at once), and :meth:`discard` removes them.
    """

    def __init__(self) -> None:
        self._scratch: Path | None = None
        self._number = 0

    def run(
        self,
        spec: WorkerSpec,
        address: tuple[str, int],
        authkey: bytes,
        run_id: str,
        coordinator_node: str,
    ) -> tuple[str, list[tuple[str, int]]]:
        """Run; return this actor's node id and the files to copy back (name, size)."""
        import ray

        node = str(ray.get_runtime_context().get_node_id())
        self._number = spec.number
        self._scratch = run_ray_worker(
            spec, address, authkey, run_id, same_node=node == coordinator_node
        )
        files = [] if self._scratch is None else _worker_files(self._scratch, spec.number)
        return node, files

    def read(self, name: str, offset: int, size: int) -> bytes:
        if self._scratch is None or not _is_worker_file(name, self._number):
            raise ValueError(f"not a file of worker {self._number}: {name!r}")
        with (self._scratch / name).open("rb") as file:
            file.seek(offset)
            return file.read(size)

    def discard(self) -> None:
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None
