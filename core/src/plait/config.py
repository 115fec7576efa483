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
REPOSITORY_ENV = "PLAIT_REPOSITORY"
"""Names the repository (``sqlite``, ``postgres``...) whatever the distribution's ``state`` says:
the same installation runs on one machine with SQLite and scaled out on PostgreSQL."""
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
        storage and state as the distribution sets them, else the built-in local ones;
        ``PLAIT_REPOSITORY`` overrides the state's type (keeping the distribution's options only
        when it names the same type)."""
        from plait.distribution import expand_location, expand_options

        chosen = home or os.environ.get(HOME_ENV)
        if not chosen and distribution is not None and distribution.home:
            chosen = expand_location(distribution.home, Path.home())
        resolved = Path(chosen or Path.home() / ".plait").expanduser().resolve()
        storage = distribution.storage if distribution else None
        state = distribution.state if distribution else None
        repository = os.environ.get(REPOSITORY_ENV) or (state.type if state else None)
        same = state is not None and state.type == repository
        return cls(
            home=resolved,
            storage=storage.type if storage else DEFAULT_STORAGE,
            storage_options=expand_options(storage.options, resolved) if storage else {},
            repository=repository or DEFAULT_REPOSITORY,
            repository_options=expand_options(state.options, resolved) if same else {},
        )
