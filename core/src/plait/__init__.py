"""plait: a plugin-centric workflow orchestrator that runs Kestra-style YAML flows."""

from __future__ import annotations

from importlib.metadata import version
from typing import TYPE_CHECKING, Any

__version__ = version("plait")

if TYPE_CHECKING:
    from plait.api import Engine, run_flow

__all__ = ["Engine", "__version__", "run_flow"]


def __getattr__(name: str) -> Any:
    # Imported lazily so `import plait` stays cheap for the CLI's cold start.
    if name in ("Engine", "run_flow"):
        from plait import api

        return getattr(api, name)
    raise AttributeError(name)
