"""What a cached Python environment is made of: the task's ``dependencies``, the package
manager that installs them, the ``beforeCommands`` it stands for and the installer settings of
the task's ``env``. The cache key hashes all of it, so two tasks share an environment exactly
when they would build the same one.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

PackageManager = Literal["UV", "PIP"]
INSTALLER_ENV_PREFIXES = ("PIP_", "UV_")
"""Variables of the task's ``env`` that change what an install does (index, constraints...)."""


@dataclass(frozen=True)
class Recipe:
    before_commands: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()
    """Sorted and without duplicates: the same set of requirements is the same environment."""
    package_manager: PackageManager = "UV"
    installer_env: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(
        cls,
        before_commands: Sequence[str] | None,
        dependencies: Sequence[str] | None = None,
        package_manager: PackageManager = "UV",
        env: Mapping[str, str] | None = None,
    ) -> Recipe:
        settings = {k: v for k, v in (env or {}).items() if k.startswith(INSTALLER_ENV_PREFIXES)}
        return cls(
            before_commands=tuple(before_commands or ()),
            dependencies=tuple(sorted(set(dependencies or ()))),
            package_manager=package_manager,
            installer_env=tuple(sorted(settings.items())),
        )

    def key(self, **context: Any) -> str:
        """A hash of the recipe and of ``context`` (what else the environment depends on: the
        engine's Python, the image...)."""
        identity = {
            "beforeCommands": list(self.before_commands),
            "dependencies": list(self.dependencies),
            "packageManager": self.package_manager if self.dependencies else None,
            "installerEnv": dict(self.installer_env),
            **context,
        }
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:32]

    def describe(self) -> dict[str, Any]:
        """The recipe as written to the environment's metadata file."""
        return {
            "beforeCommands": list(self.before_commands),
            "dependencies": list(self.dependencies),
            "packageManager": self.package_manager,
        }

    def container_install(self) -> str | None:
        """The shell command installing ``dependencies`` with the image's own tools (uv when
        the image has it and uv is asked for, else pip), or None if there are none."""
        if not self.dependencies:
            return None
        requirements = " ".join(shlex.quote(d) for d in self.dependencies)
        pip = f"python -m pip install {requirements}"
        if self.package_manager == "PIP":
            return pip
        uv = f"uv pip install --system {requirements}"
        return f"if command -v uv >/dev/null; then {uv}; else {pip}; fi"
