"""Where plait keeps its state, and which backends it uses: read from the environment, with an
installed distribution's defaults (see :mod:`plait.distribution`) below it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from plait.distribution import Distribution

HOME_ENV = "PLAIT_HOME"
DEFAULT_STORAGE = "local"
DEFAULT_REPOSITORY = "sqlite"


@dataclass(frozen=True)
class Settings:
    home: Path
    storage: str = DEFAULT_STORAGE
    storage_options: dict[str, Any] = field(default_factory=dict)
    repository: str = DEFAULT_REPOSITORY
    repository_options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(
        cls, home: Path | str | None = None, distribution: Distribution | None = None
    ) -> Settings:
        """``home``, else ``PLAIT_HOME``, else the distribution's ``home``, else ``~/.plait``;
        storage and state as the distribution sets them, else the built-in local ones."""
        from plait.distribution import expand_location, expand_options

        chosen = home or os.environ.get(HOME_ENV)
        if not chosen and distribution is not None and distribution.home:
            chosen = expand_location(distribution.home, Path.home())
        resolved = Path(chosen or Path.home() / ".plait").expanduser().resolve()
        storage = distribution.storage if distribution else None
        state = distribution.state if distribution else None
        return cls(
            home=resolved,
            storage=storage.type if storage else DEFAULT_STORAGE,
            storage_options=expand_options(storage.options, resolved) if storage else {},
            repository=state.type if state else DEFAULT_REPOSITORY,
            repository_options=expand_options(state.options, resolved) if state else {},
        )
