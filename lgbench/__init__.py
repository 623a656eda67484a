"""lgbench: load, soak and correctness runner for LangGraph API deployments."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
