"""What the embedded server's parent and child agree on: the child's exit codes.

A module of its own so the parent can read them without importing
:mod:`lgbench.server._child` (which runs as ``__main__`` in the child; importing it
from the package first would make ``python -m`` warn).
"""

from __future__ import annotations

from typing import Final

__all__ = ["EXIT_PARENT_GONE", "EXIT_PORT_IN_USE", "EXIT_SERVER_MISSING"]

#: The requested port is taken (EX_TEMPFAIL): the parent may retry with another port.
EXIT_PORT_IN_USE: Final = 75
#: The parent died before the child was set up.
EXIT_PARENT_GONE: Final = 76
#: langgraph_api (the ``lgbench[server]`` extra) cannot be imported.
EXIT_SERVER_MISSING: Final = 77
