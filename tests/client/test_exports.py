"""``lgbench.client``'s public surface: ``__all__`` is exactly it, each name defined once."""

from __future__ import annotations
import __future__

import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest

import lgbench.client


def private_modules() -> list[ModuleType]:
    return [
        importlib.import_module(f"lgbench.client.{info.name}")
        for info in pkgutil.iter_modules(lgbench.client.__path__)
        if info.name.startswith("_")
    ]


def test_all_is_sorted_and_unique() -> None:
    names = lgbench.client.__all__
    assert names == sorted(names)
    assert len(names) == len(set(names))


def test_all_is_every_public_name() -> None:
    public = {
        name
        for name, value in vars(lgbench.client).items()
        if not name.startswith("_")
        # ``from __future__ import annotations`` binds a name, which is not part of the API.
        and not isinstance(value, __future__._Feature)
        and not inspect.ismodule(value)
    }
    assert set(lgbench.client.__all__) == public


@pytest.mark.parametrize("name", lgbench.client.__all__)
def test_each_name_is_defined_once(name: str) -> None:
    exported = getattr(lgbench.client, name)
    owners = [
        module.__name__ for module in private_modules() if name in vars(module).get("__all__", ())
    ]
    assert len(owners) == 1, f"{name} is listed in the __all__ of {owners}"
    assert getattr(importlib.import_module(owners[0]), name) is exported


def test_module_all_names_exist() -> None:
    for module in private_modules():
        for name in getattr(module, "__all__", ()):
            assert hasattr(module, name), f"{module.__name__}.__all__ lists missing {name}"


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
