"""Wheels of the workspace's distributions, fresh virtual environments, and a products API on
127.0.0.1, for the end-to-end tests that install plait as a user would: from wheels, never
editable, into an environment that shares nothing with the development one.

Wheels are cached under ``$PLAIT_TEST_CACHE`` (default ``<tmp>/plait-test-cache``) by a hash of
each project's sources, so a session builds each one at most once and later sessions reuse it
until the sources change.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PROJECTS = {
    "plait-sdk": REPO / "sdk",
    "plait": REPO / "core",
    "plait-http": REPO / "plugins" / "http",
    "plait-python": REPO / "plugins" / "python",
    "plait-duckdb": REPO / "plugins" / "duckdb",
}
CACHE = Path(os.environ.get("PLAIT_TEST_CACHE") or Path(tempfile.gettempdir()) / "plait-test-cache")
_SKIPPED_PARTS = {"__pycache__", ".pytest_cache", ".ruff_cache", "tests", "build", "dist"}
_HIDDEN_ENV = ("PLAIT_", "PYTHON", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV", "PYTEST_")
_PIP_SOURCES = ("PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL")


def source_hash(project: Path) -> str:
    """A hash of everything that goes into the project's wheel (its tests do not)."""
    digest = hashlib.sha256()
    for path in sorted(project.rglob("*")):
        relative = path.relative_to(project)
        if not path.is_file() or _SKIPPED_PARTS & set(relative.parts) or path.suffix == ".pyc":
            continue
        digest.update(relative.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def workspace_wheel(name: str) -> Path:
    """The wheel of the workspace distribution ``name``, built once per version of its sources
    (with this environment's hatchling: no isolated build environment to set up)."""
    project = PROJECTS[name]
    folder = CACHE / "wheels" / f"{name}-{source_hash(project)}"
    if built := sorted(folder.glob("*.whl")):
        return built[0]
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=folder.parent))
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"]
    command += ["--no-build-isolation", "--wheel-dir", str(staging), str(project)]
    try:
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=300)
        with contextlib.suppress(OSError):  # another session won the race: same content
            staging.rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return sorted(folder.glob("*.whl"))[0]


def clean_environment(**extra: str) -> dict[str, str]:
    """This process's environment without what would tie a child to the development setup
    (PLAIT_*, PYTHONPATH, VIRTUAL_ENV...), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_HIDDEN_ENV)}
    return {**env, **extra}


def offline_environment(**extra: str) -> dict[str, str]:
    """A clean environment in which pip can reach no package index nor configured folder."""
    env = {k: v for k, v in clean_environment().items() if k not in _PIP_SOURCES}
    return {**env, "PIP_NO_INDEX": "1", "PIP_CONFIG_FILE": os.devnull, **extra}


@dataclass
class Completed:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@dataclass
class Venv:
    """A virtual environment; commands run with its ``bin`` first on PATH and a clean env."""

    path: Path

    @classmethod
    def create(cls, path: Path) -> Venv:
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, timeout=300)
        return cls(path)

    def bin(self, name: str) -> Path:
        return self.path / "bin" / name

    def run(
        self,
        command: str,
        *args: str | Path,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = 300,
    ) -> Completed:
        """Run ``command`` from this environment's bin (``plait``, ``python``...)."""
        base = clean_environment() if env is None else dict(env)
        base["PATH"] = os.pathsep.join([str(self.path / "bin"), base.get("PATH", os.defpath)])
        done = subprocess.run(
            [str(self.bin(command)), *map(str, args)],
            capture_output=True,
            text=True,
            cwd=cwd,
            env=base,
            timeout=timeout,
        )
        return Completed(done.returncode, done.stdout, done.stderr)

    def pip_install(self, *requirements: str | Path) -> None:
        """Install with pip as configured on this machine (third-party packages come from the
        package index)."""
        done = self.run("python", "-m", "pip", "install", "--quiet", *requirements)
        assert done.code == 0, done.stderr

    def distributions(self) -> dict[str, str]:
        """Installed distribution name -> version."""
        done = self.run("python", "-m", "pip", "list", "--format", "json")
        assert done.code == 0, done.stderr
        return {entry["name"].lower(): entry["version"] for entry in done.json()}


PRODUCTS = {
    "products": [
        {"id": 1, "title": "Phone", "brand": "Apple", "price": 999},
        {"id": 2, "title": "Tablet", "brand": "Samsung", "price": 499},
        {"id": 3, "title": "Laptop", "brand": "Apple", "price": 1999},
    ]
}


class _ProductsHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        found = self.path.rstrip("/") == "/products"
        payload = json.dumps(PRODUCTS if found else {"message": "not found"}).encode()
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: what matters shows in the flows' outputs."""


@contextlib.contextmanager
def products_server() -> Iterator[str]:
    """``http://127.0.0.1:PORT/products`` serving :data:`PRODUCTS` while the block runs."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ProductsHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}/products"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def install_workspace(venv: Venv, names: Sequence[str], *extra: str | Path) -> None:
    """Install the wheels of the workspace distributions ``names`` (and ``extra``
    requirements) into ``venv``, their third-party dependencies from the package index."""
    venv.pip_install(*(workspace_wheel(name) for name in names), *extra)
