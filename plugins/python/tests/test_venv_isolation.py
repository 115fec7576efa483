"""beforeCommands in local runs: packages land in a cached environment, never in the engine's."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from plait_python.recipe import Recipe
from plait_python.venvs import CACHE_ENV_VAR, METADATA_FILE, cache_key

SCRIPT = "io.kestra.plugin.scripts.python.Script"
PROBE = "plait_probe_pkg"


def _engine_has_probe() -> bool:
    """Checked in a fresh interpreter too, so a stale import cache cannot hide an install."""
    fresh = subprocess.run(
        [sys.executable, "-c", f"import importlib.util as u; print(u.find_spec({PROBE!r}))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return importlib.util.find_spec(PROBE) is not None or fresh.stdout.strip() != "None"


@pytest.mark.slow
def test_before_commands_install_into_a_cached_environment(
    plait_runner: Any,
    plait_home: Path,
    probe_wheel: Path,
    monkeypatch: pytest.MonkeyPatch,
    log_messages: Callable[..., list[str]],
) -> None:
    monkeypatch.delenv(CACHE_ENV_VAR)  # the default location: the engine's <home>/cache/venvs
    # The engine's home wins over the environment (a distribution or a test picks it).
    elsewhere = plait_home.parent / "elsewhere"
    monkeypatch.setenv("PLAIT_HOME", str(elsewhere))
    assert not _engine_has_probe(), "the engine's environment must not have the probe already"
    before = [f"pip install --no-index {probe_wheel}"]
    properties = {
        "runner": "PROCESS",
        "beforeCommands": before,
        "warningOnStdErr": False,
        "script": (
            "import sys, plait_probe_pkg\nprint(plait_probe_pkg.MESSAGE, 'in', sys.prefix)\n"
        ),
    }

    first = plait_runner.run_task(SCRIPT, properties)
    assert first.state == "SUCCESS", first.error
    link = plait_home / "cache" / "venvs" / cache_key(Recipe.of(before))
    environment = link.resolve()
    assert f"probe installed in {environment}" in log_messages(first, "INFO")
    assert any("creating a virtual environment" in m for m in log_messages(first))
    assert not _engine_has_probe(), "beforeCommands changed the engine's environment"
    assert not elsewhere.exists()

    built = (environment / METADATA_FILE).stat()
    second = plait_runner.run_task(SCRIPT, properties)
    assert second.state == "SUCCESS", second.error
    assert link.resolve() == environment
    assert (environment / METADATA_FILE).stat().st_ino == built.st_ino
    assert json.loads((environment / METADATA_FILE).read_text())["beforeCommands"] == before
    assert not any("creating a virtual environment" in m for m in log_messages(second))
    assert any("already installed" in m for m in log_messages(second)), log_messages(second)
    assert f"probe installed in {environment}" in log_messages(second, "INFO")


@pytest.mark.slow
def test_failed_before_commands_fail_the_task_and_cache_nothing(
    plait_runner: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV_VAR, str(cache))
    before = ["pip install --no-index /nonexistent/plait_missing-1.0-py3-none-any.whl"]
    result = plait_runner.run_task(
        SCRIPT, {"runner": "PROCESS", "beforeCommands": before, "script": "print('never')"}
    )
    assert result.state == "FAILED"
    assert "exited with code" in result.error
    assert not (cache / cache_key(Recipe.of(before))).exists()
    assert list(cache.glob(f"{cache_key(Recipe.of(before))}-*")) == []
