"""Fixtures of the plait-python tests: a shared virtual environment cache, a local wheel to
install offline, and a real Docker engine with the locally built ``python:slim`` image."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from plait_python.venvs import CACHE_ENV_VAR

REPO_ROOT = Path(__file__).resolve().parents[3]
ENSURE_DOCKER = REPO_ROOT / "scripts" / "ensure-docker.sh"
PROBE_PACKAGE = "plait_probe_pkg"


@pytest.fixture(scope="session")
def shared_venv_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("venv-cache")


@pytest.fixture(autouse=True)
def _venv_cache(shared_venv_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Local runs share one cache across tests: building the bare environment once is enough.
    Tests about the cache itself point ``PLAIT_PYTHON_VENV_CACHE`` somewhere of their own."""
    monkeypatch.setenv(CACHE_ENV_VAR, str(shared_venv_cache))


@pytest.fixture(scope="session")
def probe_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny pure-Python wheel, written by hand so that installing it needs no network."""
    return build_wheel(
        tmp_path_factory.mktemp("wheels"),
        PROBE_PACKAGE,
        {f"{PROBE_PACKAGE}/__init__.py": b'MESSAGE = "probe installed"\n'},
    )


@pytest.fixture(scope="session")
def published_kestra_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel named ``kestra`` standing for the library on PyPI, whose ``Kestra.outputs`` says
    that it, not plait's module, ran."""
    source = (
        b"class Kestra:\n"
        b"    @staticmethod\n"
        b"    def outputs(values):\n"
        b"        print('published library got', sorted(values))\n"
    )
    return build_wheel(tmp_path_factory.mktemp("kestra-wheel"), "kestra", {"kestra.py": source})


def build_wheel(folder: Path, name: str, files: dict[str, bytes], version: str = "1.0") -> Path:
    """A pure-Python wheel of distribution ``name`` holding ``files`` (path -> content)."""
    dist = f"{name}-{version}"
    files = {
        **files,
        f"{dist}.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
        ),
        f"{dist}.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: plait-tests\nRoot-Is-Purelib: true\n"
            b"Tag: py3-none-any\n"
        ),
    }
    record = [f"{path},sha256={_digest(data)},{len(data)}" for path, data in files.items()] + [
        f"{dist}.dist-info/RECORD,,"
    ]
    files[f"{dist}.dist-info/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = folder / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[str]:
    """A running Docker engine with ``python:slim``, set up once by scripts/ensure-docker.sh
    (installs docker.io, starts dockerd, builds the image with debootstrap when missing)."""
    result = subprocess.run(
        ["bash", str(ENSURE_DOCKER)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        pytest.fail(f"scripts/ensure-docker.sh failed:\n{result.stderr[-3000:]}")
    yield result.stdout.strip()


def _messages(result: Any, level: str | None = None) -> list[str]:
    """Log messages of a task run, optionally only those at ``level`` (INFO, WARN, ERROR...)."""
    return [
        line.message
        for line in result.logs
        if level is None or line.level.upper().startswith(level.upper())
    ]


@pytest.fixture
def log_messages() -> Callable[..., list[str]]:
    """``log_messages(result, "WARN")``: the messages a task run logged at a level."""
    return _messages


def _gone(pid: int) -> bool:
    """Whether process ``pid`` has exited (or is a zombie), allowing a few seconds for a kill
    to land."""
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        stat = Path(f"/proc/{pid}/stat")
        if stat.exists() and stat.read_text().rsplit(")", 1)[-1].split()[0] == "Z":
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def process_gone() -> Callable[[int], bool]:
    return _gone
