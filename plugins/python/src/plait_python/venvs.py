"""Cached virtual environments for local runs: ``beforeCommands`` such as ``pip install polars``
change only an environment of their own, never the engine's, and a later run with the same
commands finds the packages already installed.

Layout under ``$PLAIT_HOME/cache/venvs`` (or ``$PLAIT_PYTHON_VENV_CACHE``)::

    <key>           symbolic link to the published environment (what runs look up)
    <key>-<token>/  the environment itself; built in place because venvs cannot be moved
    <key>.lock      flock taken by the one run building <key>

The key hashes the ``beforeCommands`` text, the engine's Python version and location, so a new
Python gets fresh environments. An environment is published (the link appears, atomically, by a
rename) only once its ``beforeCommands`` have all run; a failed or interrupted build leaves no
link, and its directory is removed by the next build of the same key.

Every run, warm or cold, runs its ``beforeCommands`` again in the environment: their effects on
the working directory and the shell happen each time, while pip finds its requirements already
satisfied and downloads nothing.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from plait_sdk import RunContext, TaskFailure, TaskLogger

CACHE_ENV_VAR = "PLAIT_PYTHON_VENV_CACHE"
LAYOUT_VERSION = "1"
READY_MARKER = ".plait-setup-done"
METADATA_FILE = "plait-venv.json"
LOCK_POLL_SECONDS = 0.2
VENV_CREATE_TIMEOUT = 300


def cache_root(ctx: RunContext) -> Path:
    """``PLAIT_PYTHON_VENV_CACHE`` when set, else the engine's cache (``<home>/cache/venvs``),
    so a distribution's or a test's home is honoured."""
    if configured := os.environ.get(CACHE_ENV_VAR):
        return Path(configured)
    return ctx.cache_dir("venvs")


def cache_key(before_commands: Sequence[str]) -> str:
    identity = {
        "layout": LAYOUT_VERSION,
        "python": sys.version,
        "base": os.path.realpath(sys.base_prefix),
        "machine": platform.machine(),
        "beforeCommands": list(before_commands),
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:32]


@dataclass
class Lease:
    """An environment a run may use; ``marker`` is set while it is being built."""

    path: Path
    marker: Path | None
    publish: Callable[[], None]

    def environment(self, base: Mapping[str, str]) -> dict[str, str]:
        """``base`` with this environment activated: its ``bin`` first on ``PATH``, and nothing
        inherited that would point Python elsewhere."""
        env = {k: v for k, v in base.items() if k not in ("PYTHONHOME", "PYTHONPATH")}
        env["VIRTUAL_ENV"] = str(self.path)
        env["PATH"] = os.pathsep.join([str(self.path / "bin"), base.get("PATH", os.defpath)])
        return env

    def poll(self) -> None:
        """Publish as soon as the setup commands are done, without waiting for the script."""
        if self.marker is not None and self.marker.exists():
            self.publish()


class VenvCache:
    def __init__(self, root: Path) -> None:
        self.root = root

    @contextmanager
    def lease(
        self, before_commands: Sequence[str], log: TaskLogger, cancelled: Callable[[], bool]
    ) -> Iterator[Lease]:
        """The environment for ``before_commands``, built on first use.

        On a build the caller runs the setup commands with ``lease.marker`` created when they
        succeed; leaving the block publishes the environment if the marker exists (or if there
        were no commands to run) and discards it otherwise.
        """
        key = cache_key(before_commands)
        self.root.mkdir(parents=True, exist_ok=True)
        if (ready := self._published(key)) is not None:
            yield Lease(ready, None, lambda: None)
            return
        with self._locked(key, log, cancelled) as unlock:
            if (ready := self._published(key)) is not None:
                yield Lease(ready, None, lambda: None)
                return
            self._discard_abandoned(key)
            build = self.root / f"{key}-{secrets.token_hex(4)}"
            log.info(f"creating a virtual environment in {build}")
            self._create(build, before_commands)
            published = False

            def publish() -> None:
                nonlocal published
                if not published:
                    self._publish(key, build)
                    published = True
                    unlock()  # runs waiting for this environment may go on now

            lease = Lease(build, build / READY_MARKER, publish)
            if not before_commands:
                publish()
            try:
                yield lease
            finally:
                lease.poll()
                if not published:
                    shutil.rmtree(build, ignore_errors=True)

    def _published(self, key: str) -> Path | None:
        link = self.root / key
        target = link.resolve() if link.is_symlink() else None
        if target is not None and (target / "bin" / "python").exists():
            return target
        return None

    @contextmanager
    def _locked(
        self, key: str, log: TaskLogger, cancelled: Callable[[], bool]
    ) -> Iterator[Callable[[], None]]:
        with open(self.root / f"{key}.lock", "a+b") as handle:
            waiting_logged = False
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if cancelled():
                        raise TaskFailure(
                            "cancelled while waiting for the virtual environment"
                        ) from None
                    if not waiting_logged:
                        log.info("waiting for another run building the same virtual environment")
                        waiting_logged = True
                    time.sleep(LOCK_POLL_SECONDS)

            def unlock() -> None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

            try:
                yield unlock
            finally:
                unlock()

    def _discard_abandoned(self, key: str) -> None:
        """Remove builds of ``key`` left by runs that died mid-build (we hold the lock)."""
        for leftover in self.root.glob(f"{key}-*"):
            shutil.rmtree(leftover, ignore_errors=True)

    def _create(self, build: Path, before_commands: Sequence[str]) -> None:
        command = [sys.executable, "-m", "venv", str(build)]
        try:
            result = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=VENV_CREATE_TIMEOUT,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            shutil.rmtree(build, ignore_errors=True)
            raise TaskFailure(f"cannot create a virtual environment: {exc}") from exc
        if result.returncode != 0:
            shutil.rmtree(build, ignore_errors=True)
            raise TaskFailure(
                f"cannot create a virtual environment with {sys.executable} -m venv:\n"
                + (result.stderr or result.stdout).strip()
            )
        metadata = {
            "python": sys.version,
            "beforeCommands": list(before_commands),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        (build / METADATA_FILE).write_text(json.dumps(metadata, indent=2), "utf-8")

    def _publish(self, key: str, build: Path) -> None:
        temporary = self.root / f".{key}.link-{secrets.token_hex(4)}"
        os.symlink(build.name, temporary)
        os.replace(temporary, self.root / key)
