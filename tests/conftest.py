"""Fixtures for cross-package and end-to-end tests: real subprocess CLI calls on a private
PLAIT_HOME."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from support.cli import run_plait
from support.wheels import Completed

CliRunner = Callable[..., Completed]


@pytest.fixture
def cli(tmp_path: Path) -> CliRunner:
    """Run ``plait ARGS...`` in a subprocess with PLAIT_HOME under tmp_path."""
    home = tmp_path / "home"

    def run(
        *args: str,
        env: dict[str, str] | None = None,
        timeout: float = 300,
        preexec: Callable[[], None] | None = None,
    ) -> Completed:
        """``preexec`` runs in the child before plait starts (resource limits, capabilities)."""
        return run_plait(*args, home=home, cwd=tmp_path, env=env, timeout=timeout, preexec=preexec)

    return run


@pytest.fixture
def write_flow(tmp_path: Path) -> Callable[[str, str], Path]:
    def write(text: str, name: str = "flow.yml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write
