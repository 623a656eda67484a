"""The embedded server's bundled Auth handlers: fixture tokens and owner-only resources."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lgbench.client import ApiError, LangGraphClient, NotFoundError, get_client
from lgbench.server import fixture_token
from lgbench.server._fixture_tokens import identity_of


def test_a_fixture_token_proves_its_identity_under_its_secret_only() -> None:
    token = fixture_token("user-1", "secret-a")
    assert token.startswith("lgbench.user-1.") and len(token.split(".")[2]) == 32
    assert identity_of(token, "secret-a") == "user-1"
    assert identity_of(token, "secret-b") is None
    forged = token.replace("user-1", "user-2")
    assert identity_of(forged, "secret-a") is None
    assert identity_of("Bearer nonsense", "secret-a") is None
    with pytest.raises(ValueError, match="identity"):
        fixture_token("user 1", "secret-a")
    with pytest.raises(ValueError, match="secret"):
        fixture_token("user-1", "")


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    pytest.importorskip("langgraph_api", reason="needs the lgbench[server] extra")
    from lgbench.server import EmbeddedServer

    secret = secrets.token_hex(16)
    log: Path = tmp_path_factory.mktemp("auth-server") / "server.log"
    with EmbeddedServer(log_path=log, auth_secret=secret) as server:
        yield server, secret
    assert secret not in log.read_text(errors="replace")  # the secret never reaches the log


def _as(server: Any, secret: str, identity: str) -> LangGraphClient:
    token = fixture_token(identity, secret)
    return get_client(url=server.url, api_key=None, headers={"authorization": f"Bearer {token}"})


@pytest.mark.server
@pytest.mark.anyio
async def test_owner_only_threads_runs_assistants_crons_and_store(
    auth_server: tuple[Any, str],
) -> None:
    server, secret = auth_server
    suffix = secrets.token_hex(3)
    async with (
        _as(server, secret, f"alice-{suffix}") as alice,
        _as(server, secret, f"bob-{suffix}") as bob,
        get_client(url=server.url, api_key=None) as nobody,
    ):
        with pytest.raises(ApiError) as caught:
            await nobody.threads.create()
        assert caught.value.status_code == 401
        thread = await alice.threads.create()
        assert thread["metadata"]["owner"] == f"alice-{suffix}"
        thread_id = thread["thread_id"]
        await alice.runs.wait(thread_id, "sleepy", input={"seconds": 0.01})
        assistant = await alice.assistants.create("sleepy")
        cron = await alice.crons.create_for_thread(
            thread_id, "sleepy", schedule="0 0 1 1 *", input={"seconds": 0.01}
        )
        await alice.store.put_item([f"alice-{suffix}", "notes"], "k", {"v": 1})
        for probe in (
            bob.threads.get(thread_id),
            bob.threads.get_state(thread_id),
            bob.threads.update(thread_id, metadata={"x": 1}),
            bob.runs.list(thread_id),
            bob.runs.wait(thread_id, "sleepy", input={"seconds": 0.01}),
            bob.assistants.get(assistant["assistant_id"]),
            bob.threads.delete(thread_id),
        ):
            with pytest.raises(NotFoundError):
                await probe
        with pytest.raises(ApiError) as caught:
            await bob.store.get_item([f"alice-{suffix}", "notes"], key="k")
        assert caught.value.status_code == 403
        assert thread_id not in [t["thread_id"] for t in await bob.threads.search(limit=1000)]
        assert thread_id in [t["thread_id"] for t in await alice.threads.search(limit=1000)]
        assert cron["cron_id"] not in [c["cron_id"] for c in await bob.crons.search(limit=1000)]
        found = await bob.assistants.search(limit=1000)
        assert assistant["assistant_id"] not in [a["assistant_id"] for a in found]
        # The bundled graphs' own assistants stay everyone's.
        assert any(a["metadata"].get("created_by") == "system" for a in found)
        spaces = await bob.store.list_namespaces()
        assert [f"alice-{suffix}", "notes"] not in spaces["namespaces"]
        assert (await alice.threads.get(thread_id))["thread_id"] == thread_id
