"""Where plait keeps its state, and which backends it uses: read from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HOME_ENV = "PLAIT_HOME"


@dataclass(frozen=True)
class Settings:
    home: Path
    storage: str = "local"
    storage_options: dict[str, Any] = field(default_factory=dict)
    repository: str = "sqlite"
    repository_options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, home: Path | str | None = None) -> Settings:
        chosen = home or os.environ.get(HOME_ENV) or Path.home() / ".plait"
        return cls(home=Path(chosen).expanduser().resolve())
