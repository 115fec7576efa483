"""The real ``plait`` command in a subprocess, as the end-to-end tests run it: one place that
builds its environment, so that every test sees plait as a user's shell starts it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from support.wheels import Completed

PLAIT = [sys.executable, "-m", "plait.cli"]


def run_plait(
    *args: str,
    home: Path,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    unset: Iterable[str] = (),
    timeout: float = 300,
    preexec: Callable[[], None] | None = None,
) -> Completed:
    """``plait ARGS`` on ``home``, with the inherited environment less the variables named in
    ``unset``, plus ``env``. ``preexec`` runs in the child before plait starts (resource limits,
    capabilities)."""
    dropped = set(unset)
    full_env = {k: v for k, v in os.environ.items() if k not in dropped}
    full_env["PLAIT_HOME"] = str(home)
    full_env.update(env or {})
    done = subprocess.run(
        [*PLAIT, *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=timeout,
        preexec_fn=preexec,
    )
    return Completed(done.returncode, done.stdout, done.stderr)
