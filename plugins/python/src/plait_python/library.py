"""Where a task's Python finds plait's ``kestra`` module (see ``kestra_library/kestra.py``).

The module's directory goes *last* on ``PYTHONPATH``, after whatever the task or the image put
there: a ``kestra`` the task installs or brings itself is found first, and the module hands
over to one installed further down the path.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

KESTRA_LIBRARY = Path(__file__).resolve().parent / "kestra_library"
"""Host directory holding ``kestra.py``; local processes use it as is."""
CONTAINER_LIBRARY = "/plait/lib"
"""Where ``KESTRA_LIBRARY`` is mounted, read-only, in a container."""


def with_library(env: Mapping[str, str], inherited: str | None, library: str) -> dict[str, str]:
    """``env`` with ``PYTHONPATH`` set to the task's own (or ``inherited``, what the image
    sets) followed by ``library``."""
    first = env.get("PYTHONPATH") or inherited
    return {**env, "PYTHONPATH": ":".join(part for part in (first, library) if part)}
