"""Public names a package loads on first use (PEP 562), and where public objects say they
come from.

A package lists each such name with its home module; the first access to one imports its
home and binds the name, so later accesses are plain module attributes. Used where a name
would otherwise make every import of the package pay for a heavy dependency (httpx, the
statistics behind the gate, the run machinery).
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Collection, Mapping, MutableMapping

__all__ = ["claim", "lazy_module_functions"]


def claim(obj: object, package: str) -> None:
    """Make ``obj`` say it comes from ``package`` when it is defined in one of the package's
    private modules (``package._x``), as httpx's public classes do; anything else, and
    objects whose ``__module__`` cannot be set, are left as they are."""
    if getattr(obj, "__module__", "").startswith(f"{package}._"):
        with contextlib.suppress(AttributeError, TypeError):
            obj.__module__ = package


def lazy_module_functions(
    package: str,
    namespace: MutableMapping[str, object],
    homes: Mapping[str, str],
    public: Collection[str],
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``, whose globals are ``namespace``
    and whose names in ``homes`` (name → home module) load on first use."""

    def __getattr__(name: str) -> object:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        claim(value, package)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *public})

    return __getattr__, __dir__
