"""Cached virtual environments for local runs: ``dependencies`` and ``beforeCommands`` such as
``pip install polars`` change only an environment of their own, never the engine's, and a later
run with the same recipe finds the packages already installed.

Layout under ``$PLAIT_HOME/cache/venvs`` (or ``$PLAIT_PYTHON_VENV_CACHE``)::

    <key>           symbolic link to the published environment (what runs look up)
    <key>-<token>/  the environment itself; built in place because venvs cannot be moved
    <key>.lock      flock taken by the one run building <key>

The key hashes the recipe (``dependencies``, ``packageManager``, ``beforeCommands``, the
installer variables of ``env``: see ``recipe.py``) with the engine's Python version and
location, so a new Python gets fresh environments. ``dependencies`` are installed right after
the environment is created; it is published (the link appears, atomically, by a rename) only
once its ``beforeCommands`` have all run too. A failed or interrupted build leaves no link, and
its directory is removed by the next build of the same key.

On a warm cache, the ``beforeCommands`` that only install packages (``setup_commands.py``) and
come first are skipped: the environment already holds what they install. The others run on
every run, in the environment, so that their effects on the working directory and the shell
happen each time. Deleting ``<key>`` (or the whole directory) forces a rebuild.
"""

from __future__ import annotations

import fcntl
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

from plait_python.installs import InstallLog
from plait_python.process import run_process
from plait_python.recipe import Recipe
from plait_python.setup_commands import skip_environment_setup
from plait_python.streams import Watch

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


def cache_key(recipe: Recipe) -> str:
    return recipe.key(
        layout=LAYOUT_VERSION,
        python=sys.version,
        base=os.path.realpath(sys.base_prefix),
        machine=platform.machine(),
    )


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

    def pending(self, before_commands: Sequence[str], log: TaskLogger) -> list[str]:
        """The ``before_commands`` this run must run: all of them on a build; on a warm
        environment, all but the package installs it was built with (logged)."""
        if self.marker is not None:
            return list(before_commands)
        return skip_environment_setup(before_commands, log, f"the virtual environment {self.path}")


class VenvCache:
    def __init__(self, root: Path) -> None:
        self.root = root

    @contextmanager
    def lease(
        self,
        recipe: Recipe,
        base_env: Mapping[str, str],
        log: TaskLogger,
        cancelled: Callable[[], bool],
    ) -> Iterator[Lease]:
        """The environment for ``recipe``, built on first use (``dependencies`` installed with
        ``base_env`` activated).

        On a build the caller runs the setup commands with ``lease.marker`` created when they
        succeed; leaving the block publishes the environment if the marker exists (or if there
        were no commands to run) and discards it otherwise.
        """
        key = cache_key(recipe)
        self.root.mkdir(parents=True, exist_ok=True)
        if (ready := self._published(key)) is not None:
            yield Lease(ready, None, lambda: None)
            return
        with exclusive(self.root / f"{key}.lock", log, cancelled) as unlock:
            if (ready := self._published(key)) is not None:
                yield Lease(ready, None, lambda: None)
                return
            self._discard_abandoned(key)
            build = self.root / f"{key}-{secrets.token_hex(4)}"
            log.info(f"creating a virtual environment in {build}")
            self._create(build, recipe)
            lease = Lease(build, build / READY_MARKER, lambda: None)
            try:
                install_dependencies(recipe, build, lease.environment(base_env), log, cancelled)
            except BaseException:
                shutil.rmtree(build, ignore_errors=True)
                raise
            published = False

            def publish() -> None:
                nonlocal published
                if not published:
                    self._publish(key, build)
                    published = True
                    unlock()  # runs waiting for this environment may go on now

            lease.publish = publish
            if not recipe.before_commands:
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

    def _discard_abandoned(self, key: str) -> None:
        """Remove builds of ``key`` left by runs that died mid-build (we hold the lock)."""
        for leftover in self.root.glob(f"{key}-*"):
            shutil.rmtree(leftover, ignore_errors=True)

    def _create(self, build: Path, recipe: Recipe) -> None:
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
            **recipe.describe(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        (build / METADATA_FILE).write_text(json.dumps(metadata, indent=2), "utf-8")

    def _publish(self, key: str, build: Path) -> None:
        temporary = self.root / f".{key}.link-{secrets.token_hex(4)}"
        os.symlink(build.name, temporary)
        os.replace(temporary, self.root / key)


@contextmanager
def exclusive(
    lock_file: Path, log: TaskLogger, cancelled: Callable[[], bool]
) -> Iterator[Callable[[], None]]:
    """Hold an exclusive flock on ``lock_file`` (waiting, and logging once that it waits, while
    another run builds the same thing); yields a function releasing it early."""
    with open(lock_file, "a+b") as handle:
        waiting_logged = False
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if cancelled():
                    raise TaskFailure("cancelled while waiting for the environment") from None
                if not waiting_logged:
                    log.info("waiting for another run building the same environment")
                    waiting_logged = True
                time.sleep(LOCK_POLL_SECONDS)

        def unlock() -> None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

        try:
            yield unlock
        finally:
            unlock()


def install_dependencies(
    recipe: Recipe,
    environment: Path,
    env: Mapping[str, str],
    log: TaskLogger,
    cancelled: Callable[[], bool],
) -> None:
    """Install ``recipe.dependencies`` into ``environment`` (being built), with uv (pip when uv
    is not installed or PIP is asked for), logging the installer's output."""
    if not recipe.dependencies:
        return
    python = str(environment / "bin" / "python")
    uv = _uv_binary() if recipe.package_manager == "UV" else None
    if recipe.package_manager == "UV" and uv is None:
        log.warning("uv is not installed; installing the dependencies with pip")
    if uv is not None:
        argv = [uv, "pip", "install", "--python", python, *recipe.dependencies]
    else:
        argv = [python, "-m", "pip", "install", *recipe.dependencies]
    log.info(f"installing {' '.join(recipe.dependencies)}")
    output = InstallLog(log, "installing the dependencies")
    finished = run_process(
        argv, cwd=environment, env=env, on_line=output, watch=Watch(cancelled=cancelled)
    )
    output.check(finished)


def _uv_binary() -> str | None:
    """uv from the ``uv`` package installed beside plait, else from ``PATH``."""
    try:
        from uv import find_uv_bin
    except ImportError:
        return shutil.which("uv")
    try:
        return find_uv_bin()
    except FileNotFoundError:
        return shutil.which("uv")
