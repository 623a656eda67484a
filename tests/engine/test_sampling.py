"""RunSampler beside a server that fault injection stops and starts again."""

from __future__ import annotations

import os

import pytest

from lgbench.client import HttpClient, MockTransport, Request, Response
from lgbench.engine import RunSampler

pytestmark = pytest.mark.anyio


def _no_metrics(request: Request) -> Response:
    return Response(404, {"content-type": "application/json"}, content=b'{"detail":"none"}')


async def test_a_server_between_stop_and_start_is_sampled_as_absent_not_an_error() -> None:
    # While the embedded server restarts it has no pid: the sampler must go on sampling
    # (lgbench's own figures, and the server's again once it is back), never raise.
    pids = iter([os.getpid(), None, os.getpid(), os.getpid()])
    warnings: list[str] = []
    sampler = RunSampler(
        HttpClient(MockTransport(_no_metrics)),
        server_pid=lambda: next(pids),
        on_warning=warnings.append,
    )
    during_restart = await sampler._sample()
    assert "server" not in during_restart and "lgbench" in during_restart
    back = await sampler._sample()
    assert back["server"]["rss_bytes"] > 0
    again = await sampler._sample()  # the same process: its CPU since the previous sample
    assert again["server"]["cpu_percent"] is not None
