"""`dependencies` (Kestra 0.23+, "Cache dependencies" in Kestra's "Manage Python Dependencies"
guide) and warm runs: packages installed once into a cached environment keyed by the list, and
package-install beforeCommands not run again on a warm environment, in both runners."""

from __future__ import annotations

import json
import secrets
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from plait_python.images import LABEL_ENVIRONMENT
from plait_python.recipe import PackageManager, Recipe
from plait_python.venvs import CACHE_ENV_VAR, METADATA_FILE, cache_key

SCRIPT = "io.kestra.plugin.scripts.python.Script"
PROBE = "plait_probe_pkg"
Messages = Callable[..., list[str]]

IMPORT_PROBE = "import sys, plait_probe_pkg\nprint(plait_probe_pkg.MESSAGE, 'in', sys.prefix)\n"


@pytest.fixture
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "venvs"
    monkeypatch.setenv(CACHE_ENV_VAR, str(cache))
    return cache


@pytest.mark.slow
@pytest.mark.parametrize(
    ("manager", "offline"),
    [("UV", {"UV_NO_INDEX": "1", "UV_FIND_LINKS": "{wheels}"}), ("PIP", {"PIP_NO_INDEX": "1"})],
)
def test_dependencies_are_installed_once_per_list(
    plait_runner: Any,
    own_cache: Path,
    probe_wheel: Path,
    log_messages: Messages,
    manager: PackageManager,
    offline: dict[str, str],
) -> None:
    env = {name: value.format(wheels=probe_wheel.parent) for name, value in offline.items()}
    env["PIP_FIND_LINKS"] = str(probe_wheel.parent)
    properties = {
        "runner": "PROCESS",
        "dependencies": [PROBE],
        "packageManager": manager,
        "env": env,
        "warningOnStdErr": False,
        "script": IMPORT_PROBE,
    }
    first = plait_runner.run_task(SCRIPT, properties)
    assert first.state == "SUCCESS", first.error
    environment = (own_cache / cache_key(Recipe.of([], [PROBE], manager, env))).resolve()
    assert f"probe installed in {environment}" in log_messages(first, "INFO")
    assert f"installing {PROBE}" in log_messages(first, "INFO")
    metadata = json.loads((environment / METADATA_FILE).read_text())
    assert metadata["dependencies"] == [PROBE]

    second = plait_runner.run_task(SCRIPT, properties)
    assert second.state == "SUCCESS", second.error
    assert f"probe installed in {environment}" in log_messages(second, "INFO")
    assert not any(m.startswith("installing") for m in log_messages(second))


@pytest.mark.slow
def test_a_failing_install_fails_the_task_and_caches_nothing(
    plait_runner: Any, own_cache: Path
) -> None:
    result = plait_runner.run_task(
        SCRIPT,
        {
            "runner": "PROCESS",
            "dependencies": ["plait-no-such-package-anywhere"],
            "env": {"UV_NO_INDEX": "1", "UV_OFFLINE": "1"},
            "script": "print('never')",
        },
    )
    assert result.state == "FAILED"
    assert "installing the dependencies failed" in result.error
    assert "plait-no-such-package-anywhere" in result.error
    assert [p.name for p in own_cache.iterdir() if not p.name.endswith(".lock")] == []


@pytest.mark.slow
def test_warm_runs_skip_leading_package_installs_only(
    plait_runner: Any, own_cache: Path, probe_wheel: Path, log_messages: Messages
) -> None:
    install = f"pip install --no-index {PROBE}"
    properties = {
        "runner": "PROCESS",
        "env": {"PIP_FIND_LINKS": str(probe_wheel.parent)},
        "beforeCommands": [install, "echo prepared > prepared.txt"],
        "warningOnStdErr": False,
        "script": IMPORT_PROBE + "print(open('prepared.txt').read().strip())\n",
    }
    first = plait_runner.run_task(SCRIPT, properties)
    assert first.state == "SUCCESS", first.error
    assert any(PROBE in m and "Successfully installed" in m for m in log_messages(first))
    assert "prepared" in log_messages(first, "INFO")

    second = plait_runner.run_task(SCRIPT, properties)
    assert second.state == "SUCCESS", second.error
    skipped = [m for m in log_messages(second, "INFO") if "not run again" in m]
    assert len(skipped) == 1 and skipped[0].endswith(f"not run again: {install}")
    assert not any(
        "Successfully installed" in m or "already satisfied" in m for m in log_messages(second)
    )
    assert "prepared" in log_messages(second, "INFO"), "the other beforeCommands still run"
    assert any(m.startswith("probe installed in") for m in log_messages(second, "INFO"))


@pytest.mark.slow
def test_a_failed_setup_without_fail_fast_is_not_cached(
    plait_runner: Any, own_cache: Path, log_messages: Messages
) -> None:
    """With failFast false the script still runs (Kestra: the last command decides), but an
    environment whose setup failed must not be kept, or its installs would be skipped."""
    before = ["pip install --no-index plait-missing-package"]
    properties = {
        "runner": "PROCESS",
        "failFast": False,
        "warningOnStdErr": False,
        "beforeCommands": before,
        "script": "print('ran anyway')",
    }
    result = plait_runner.run_task(SCRIPT, properties)
    assert result.state == "SUCCESS", result.error
    assert "ran anyway" in log_messages(result, "INFO")
    assert not (own_cache / cache_key(Recipe.of(before))).exists()


def _environment_images() -> set[str]:
    listing = subprocess.run(
        ["docker", "images", "-q", "--filter", f"label={LABEL_ENVIRONMENT}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(listing.stdout.split())


@pytest.mark.docker
@pytest.mark.slow
def test_docker_environment_image_is_built_once(
    plait_runner: Any, docker_engine: str, log_messages: Messages
) -> None:
    """The guide's Docker flow installs polars with pip before the script: the first run builds
    an image with it, the next ones start from that image."""
    before = _environment_images()
    unique = str(secrets.randbelow(10**6) + 100)  # a pip setting of its own: a new image key
    properties = {
        "containerImage": "python:slim",
        "dependencies": ["six"],
        "beforeCommands": ["pip install --quiet tomli", "echo prepared > prepared.txt"],
        "env": {"PIP_DEFAULT_TIMEOUT": unique, "PLAIT_TEST_RUN": "first"},
        "warningOnStdErr": False,
        "script": (
            "import os, six, tomli\n"
            "print('six', six.__version__, open('prepared.txt').read().strip())\n"
            "print('env', os.environ.get('PLAIT_TEST_RUN'), os.environ['PYTHONPATH'])\n"
        ),
    }
    first = plait_runner.run_task(SCRIPT, properties)
    assert first.state == "SUCCESS", first.error
    assert any(m.startswith("building the image plait-python-env:") for m in log_messages(first))
    assert any(m.startswith("six 1.") and m.endswith("prepared") for m in log_messages(first))
    assert "env first /plait/lib" in log_messages(first, "INFO")
    images = _environment_images() - before
    assert len(images) == 1

    properties["env"] = {**properties["env"], "PLAIT_TEST_RUN": "second"}  # not an installer var
    second = plait_runner.run_task(SCRIPT, properties)
    assert second.state == "SUCCESS", second.error
    assert not any(m.startswith("building the image") for m in log_messages(second))
    skipped = [m for m in log_messages(second, "INFO") if "not run again" in m]
    assert skipped and skipped[0].endswith("not run again: pip install --quiet tomli")
    assert any(m.startswith("six 1.") and m.endswith("prepared") for m in log_messages(second))
    assert "env second /plait/lib" in log_messages(second, "INFO")
    assert _environment_images() - before == images
    subprocess.run(["docker", "rmi", *images], capture_output=True, check=True)
