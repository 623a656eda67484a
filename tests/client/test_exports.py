"""``lgbench.client`` is shaped like the LangGraph SDK (tests/test_public_api.py checks the
rules every package's surface follows)."""

from __future__ import annotations

import lgbench.client


def test_sdk_shaped_surface() -> None:
    client = lgbench.client.get_client(url="http://127.0.0.1:9", api_key=None)
    assert isinstance(client.assistants, lgbench.client.AssistantsClient)
    assert isinstance(client.threads, lgbench.client.ThreadsClient)
    assert isinstance(client.runs, lgbench.client.RunsClient)
    assert isinstance(client.crons, lgbench.client.CronClient)
    assert isinstance(client.store, lgbench.client.StoreClient)
    for resource, methods in {
        client.assistants: "get get_graph get_schemas get_subgraphs create update delete search "
        "get_versions set_latest",
        client.threads: "get create update delete search copy get_state update_state get_history",
        client.runs: "stream create create_batch wait list get cancel join join_stream delete",
        client.crons: "create_for_thread create delete search",
        client.store: "put_item get_item delete_item search_items list_namespaces",
        client.http: "get post put patch delete stream",
    }.items():
        for method in methods.split():
            assert callable(getattr(resource, method)), (resource, method)
