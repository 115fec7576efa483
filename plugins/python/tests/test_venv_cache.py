"""The virtual environment cache on its own: publication, failed builds, leftovers, locking."""

from __future__ import annotations

import fcntl
import os
import sys
from pathlib import Path

import pytest
from plait_python.process import run_process
from plait_python.recipe import Recipe
from plait_python.shell import command_line
from plait_python.streams import Watch
from plait_python.venvs import METADATA_FILE, VenvCache, cache_key
from plait_sdk import TaskFailure


class ListLog:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def debug(self, message: str) -> None:
        self.lines.append(("debug", message))

    def info(self, message: str) -> None:
        self.lines.append(("info", message))

    def warning(self, message: str) -> None:
        self.lines.append(("warning", message))

    def error(self, message: str) -> None:
        self.lines.append(("error", message))


def _never() -> bool:
    return False


def _key(before: list[str]) -> str:
    return cache_key(Recipe.of(before))


def _run_setup(cache: VenvCache, before: list[str], workdir: Path, log: ListLog) -> int:
    with cache.lease(Recipe.of(before), dict(os.environ), log, _never) as lease:
        argv = command_line(
            ["/bin/sh", "-c"],
            lease.pending(before, log),
            ["python -c 'import sys; print(sys.prefix)'"],
            fail_fast=True,
            marker=str(lease.marker) if lease.marker else None,
        )
        finished = run_process(
            argv,
            cwd=workdir,
            env=lease.environment(dict(os.environ)),
            on_line=lambda stream, line: log.info(f"{stream}: {line}"),
            watch=Watch(cancelled=_never, on_tick=lease.poll),
        )
        return finished.exit_code


@pytest.mark.slow
def test_successful_setup_is_published_and_reused(tmp_path: Path) -> None:
    cache = VenvCache(tmp_path / "cache")
    before = ["echo setting up > setup.txt"]
    first = ListLog()
    assert _run_setup(cache, before, tmp_path, first) == 0
    link = cache.root / _key(before)
    assert link.is_symlink()
    environment = link.resolve()
    assert (environment / METADATA_FILE).is_file()
    assert ("info", f"stdout: {environment}") in first.lines  # python came from the environment
    assert any("creating a virtual environment" in m for _, m in first.lines)

    (tmp_path / "setup.txt").unlink()
    second = ListLog()
    assert _run_setup(cache, before, tmp_path, second) == 0
    assert link.resolve() == environment
    assert not any("creating a virtual environment" in m for _, m in second.lines)
    assert (tmp_path / "setup.txt").is_file(), "beforeCommands run again on a warm cache"


@pytest.mark.slow
def test_failed_setup_leaves_no_entry(tmp_path: Path) -> None:
    cache = VenvCache(tmp_path / "cache")
    before = ["echo about to fail", "false"]
    assert _run_setup(cache, before, tmp_path, ListLog()) != 0
    key = _key(before)
    assert not (cache.root / key).exists()
    assert list(cache.root.glob(f"{key}-*")) == []


@pytest.mark.slow
def test_script_failure_after_a_good_setup_keeps_the_environment(tmp_path: Path) -> None:
    cache = VenvCache(tmp_path / "cache")
    before = ["true"]
    with cache.lease(Recipe.of(before), {}, ListLog(), _never) as lease:
        argv = command_line(
            ["/bin/sh", "-c"], before, ["exit 7"], fail_fast=True, marker=str(lease.marker)
        )
        finished = run_process(
            argv,
            cwd=tmp_path,
            env=lease.environment(dict(os.environ)),
            on_line=lambda stream, line: None,
            watch=Watch(cancelled=_never),
        )
    assert finished.exit_code == 7
    assert (cache.root / _key(before)).is_symlink()


@pytest.mark.slow
def test_leftovers_of_an_interrupted_build_are_removed(tmp_path: Path) -> None:
    cache = VenvCache(tmp_path / "cache")
    key = _key([])
    leftover = cache.root / f"{key}-deadbeef"
    (leftover / "bin").mkdir(parents=True)
    with cache.lease(Recipe(), {}, ListLog(), _never) as lease:
        assert lease.marker is not None
    assert not leftover.exists()
    assert (cache.root / key).resolve() == lease.path


def test_a_build_in_progress_is_waited_for(tmp_path: Path) -> None:
    cache = VenvCache(tmp_path / "cache")
    cache.root.mkdir(parents=True)
    log = ListLog()
    with open(cache.root / f"{_key(['pip install x'])}.lock", "a+b") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        with (
            pytest.raises(TaskFailure, match="cancelled while waiting"),
            cache.lease(Recipe.of(["pip install x"]), {}, log, lambda: bool(log.lines)),
        ):
            pytest.fail("the lease must not be granted while another build holds the lock")
    assert log.lines == [("info", "waiting for another run building the same environment")]


def test_key_depends_on_commands_and_python(monkeypatch: pytest.MonkeyPatch) -> None:
    key = _key(["pip install a"])
    assert key == _key(["pip install a"])
    assert key != _key(["pip install b"])
    monkeypatch.setattr(sys, "version", "3.99.0 (another interpreter)")
    assert key != _key(["pip install a"])


def test_key_depends_on_the_set_of_dependencies_and_installer_settings() -> None:
    """Kestra keys its dependency cache by the requirements and the Python version
    (PythonEnvironmentManager); the order of the list does not matter."""
    key = cache_key(Recipe.of([], ["polars", "duckdb"]))
    assert key == cache_key(Recipe.of([], ["duckdb", "polars", "polars"]))
    assert key != cache_key(Recipe.of([], ["polars"]))
    assert key != cache_key(Recipe.of([], ["polars", "duckdb"], "PIP"))
    assert key != cache_key(Recipe.of([], ["polars", "duckdb"], env={"PIP_INDEX_URL": "x"}))
    assert key == cache_key(Recipe.of([], ["polars", "duckdb"], env={"API_TOKEN": "x"}))
