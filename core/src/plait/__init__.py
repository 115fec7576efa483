"""plait: a plugin-centric workflow orchestrator that runs Kestra-style YAML flows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from plait.api import Engine, run_flow

    __version__: str

__all__ = ["Engine", "__version__", "run_flow"]


def __getattr__(name: str) -> Any:
    # Imported lazily so `import plait` stays cheap for the CLI's cold start (importlib.metadata
    # alone costs a tenth of a one-task run).
    if name in ("Engine", "run_flow"):
        from plait import api

        return getattr(api, name)
    if name == "__version__":
        from importlib.metadata import version

        return version("plait")
    raise AttributeError(name)
