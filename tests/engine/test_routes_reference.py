"""On the reference server, a missing resource is never taken for a missing route.

langgraph-api answers the framework's generic ``{"detail": "Not Found"}`` for some missing
resources (a run of an existing thread, an assistant's graph, a cron, a thread it cannot
patch): each operation here is called with ids that do not exist, and every 404 it gets is
judged as lgbench judges one during a run. None may come out unsupported; the generic ones
must have been settled by an OPTIONS probe.
"""

from __future__ import annotations

from typing import Any

import pytest

from lgbench.client import ApiError, ClientError, get_client
from lgbench.engine._routes import RouteSupport, is_generic_not_found
from lgbench.operations import OPERATIONS

pytestmark = [pytest.mark.anyio, pytest.mark.server]

MISSING = "00000000-0000-0000-0000-000000000001"
#: (operation, parameters); "EXISTING" is replaced by a thread that exists.
CALLS: list[tuple[str, dict[str, Any]]] = [
    ("threads.get", {"thread_id": MISSING}),
    ("threads.get_state", {"thread_id": MISSING}),
    ("threads.get_history", {"thread_id": MISSING}),
    ("threads.update", {"thread_id": MISSING, "metadata": {"a": 1}}),
    ("threads.update_state", {"thread_id": MISSING, "values": {"a": 1}}),
    ("threads.delete", {"thread_id": MISSING}),
    ("runs.get", {"thread_id": "EXISTING", "run_id": MISSING}),
    ("runs.get", {"thread_id": MISSING, "run_id": MISSING}),
    ("runs.cancel", {"thread_id": "EXISTING", "run_id": MISSING}),
    ("runs.delete", {"thread_id": "EXISTING", "run_id": MISSING}),
    ("runs.create", {"thread_id": MISSING, "assistant_id": "sleepy"}),
    ("runs.wait", {"thread_id": MISSING, "assistant_id": "sleepy"}),
    ("assistants.get", {"assistant_id": MISSING}),
    ("assistants.get_graph", {"assistant_id": MISSING}),
    ("assistants.get_schemas", {"assistant_id": MISSING}),
    ("assistants.update", {"assistant_id": MISSING, "metadata": {"a": 1}}),
    ("assistants.delete", {"assistant_id": MISSING}),
    ("assistants.get_versions", {"assistant_id": MISSING}),
    ("crons.delete", {"cron_id": MISSING}),
]


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    return (request.param, {})


async def test_no_missing_resource_is_judged_an_unsupported_route(langgraph_url: str) -> None:
    warned: list[str] = []
    routes = RouteSupport(lambda key, message: warned.append(message))
    probes: list[str] = []
    async with get_client(url=langgraph_url) as client:

        async def probe(path: str) -> int | None:
            probes.append(path)
            try:
                await client.http.request_json("OPTIONS", path)
            except ApiError as exc:
                return exc.status_code
            except ClientError:
                return None
            return 200

        existing = (await client.threads.create())["thread_id"]
        not_found: dict[str, Any] = {}
        for operation, params in CALLS:
            values = {k: existing if v == "EXISTING" else v for k, v in params.items()}
            spec = OPERATIONS[operation]
            args, kwargs = spec.arguments(values)
            method = getattr(getattr(client, spec.resource), spec.method)
            try:
                await method(*args, **kwargs)
            except ApiError as exc:
                if exc.status_code in (404, 405):
                    not_found[f"{operation} {exc.path}"] = exc.body
                    assert await routes.judge(operation, kwargs, exc, probe) is None, exc
    assert not routes and routes.to_list() == [] and warned == []
    # The reference's generic 404s were among them, and OPTIONS settled each.
    generic = sorted(key for key, body in not_found.items() if is_generic_not_found(body))
    assert any(key.startswith("runs.get ") for key in generic), not_found
    assert any(key.startswith("assistants.get_graph ") for key in generic), not_found
    assert len(probes) == len(generic)


async def test_a_route_the_reference_lacks_is_judged_unsupported(langgraph_url: str) -> None:
    """The other half: a path the reference has no route for (an ``http.post``)."""
    warned: list[str] = []
    routes = RouteSupport(lambda key, message: warned.append(message))
    async with get_client(url=langgraph_url) as client:

        async def probe(path: str) -> int | None:
            try:
                await client.http.request_json("OPTIONS", path)
            except ApiError as exc:
                return exc.status_code
            return 200

        kwargs = {"path": "/threads/x/no-such-route", "json": {}}
        with pytest.raises(ApiError) as caught:
            await client.http.post(kwargs["path"], json={})
        found = await routes.judge("http.post", kwargs, caught.value, probe)
    assert found is not None
    assert (found.method, found.path, found.status) == ("POST", "/threads/x/no-such-route", 404)
    assert warned == [found.message()]
