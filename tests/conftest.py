"""Fixtures for cross-package and end-to-end tests: real subprocess CLI calls on a private
PLAIT_HOME."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from support.wheels import Completed

REPO = Path(__file__).resolve().parent.parent
PLAIT = [sys.executable, "-m", "plait.cli"]


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
        full_env = {**os.environ, "PLAIT_HOME": str(home), **(env or {})}
        done = subprocess.run(
            [*PLAIT, *args],
            capture_output=True,
            text=True,
            env=full_env,
            cwd=tmp_path,
            timeout=timeout,
            preexec_fn=preexec,
        )
        return Completed(done.returncode, done.stdout, done.stderr)

    return run


@pytest.fixture
def write_flow(tmp_path: Path) -> Callable[[str, str], Path]:
    def write(text: str, name: str = "flow.yml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write
