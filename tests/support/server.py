"""A real ``plait server`` process for end-to-end tests of the REST API: started on a free port
with its own ``PLAIT_HOME``, waited for until ``/health`` answers, stopped afterwards."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from support.cli import PLAIT

AUTH_ENV = ("PLAIT_SERVER_USERS", "PLAIT_SERVER_TOKENS")
"""Removed from the inherited environment, so that only ``env=`` turns authentication on."""
START_TIMEOUT = 30.0
TERMINAL_STATES = frozenset({"SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED", "SKIPPED"})


@dataclass
class Server:
    url: str
    """``http://127.0.0.1:PORT``, without a trailing slash."""
    client: httpx.Client
    """A client with ``base_url=url``."""
    home: Path
    process: subprocess.Popen[bytes]
    stderr_path: Path

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")


def free_port() -> int:
    """A TCP port nothing listens on now (bound to port 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in AUTH_ENV}
    env["PLAIT_HOME"] = str(home)
    env.update(extra or {})
    return env


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it has not exited within 10 s."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


@contextlib.contextmanager
def running_server(
    home: Path,
    *,
    env: Mapping[str, str] | None = None,
    host: str = "127.0.0.1",
    headers: Mapping[str, str] | None = None,
    timeout: float = START_TIMEOUT,
    args: Sequence[str] = (),
) -> Iterator[Server]:
    """Start ``plait server ARGS`` on ``home`` (created if missing) and a free port; yield it once
    ``/health`` answers (fail with the server's stderr if it does not within ``timeout``); stop
    it with SIGTERM (then SIGKILL) on exit. The client talks to 127.0.0.1 whatever ``host``."""
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    logs = home.parent / f"server-{port}"
    logs.mkdir(parents=True, exist_ok=True)
    stderr_path = logs / "stderr.txt"
    with (logs / "stdout.txt").open("wb") as out, stderr_path.open("wb") as err:
        process = subprocess.Popen(
            [*PLAIT, "server", "--host", host, "--port", str(port), *args],
            stdout=out,
            stderr=err,
            env=server_env(home, env),
            cwd=home,
        )
    url = f"http://127.0.0.1:{port}"
    client = httpx.Client(base_url=url, headers=dict(headers or {}), timeout=30)
    try:
        _wait_healthy(client, process, stderr_path, timeout)
        yield Server(url, client, home, process, stderr_path)
    finally:
        client.close()
        stop_process(process)


def _wait_healthy(
    client: httpx.Client, process: subprocess.Popen[bytes], stderr: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"plait server exited with {process.returncode} before answering:\n"
                + stderr.read_text(errors="replace")
            )
        try:
            if client.get("/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    stop_process(process)
    raise AssertionError(
        f"plait server did not answer /health within {timeout:.0f}s; stderr:\n"
        + stderr.read_text(errors="replace")
    )


def wait_for(
    client: httpx.Client,
    execution_id: str,
    *,
    states: frozenset[str] | set[str] = TERMINAL_STATES,
    prefix: str = "/api/v1",
    timeout: float = 30.0,
) -> dict[str, Any]:
    """Poll ``GET /executions/{id}`` until its state is one of ``states``; return it."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"{prefix}/executions/{execution_id}")
        assert response.status_code == 200, response.text
        execution = response.json()
        if execution["state"]["current"] in states:
            return execution
        if time.monotonic() > deadline:
            raise AssertionError(
                f"execution {execution_id} still {execution['state']['current']} after "
                f"{timeout:.0f}s, expected one of {sorted(states)}"
            )
        time.sleep(0.05)


@dataclass
class Event:
    id: str | None
    event: str | None
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


def sse_events(response: httpx.Response, *, timeout: float = 30.0) -> Iterator[Event]:
    """The server-sent events of a streamed response, as they come (fails after ``timeout``)."""
    deadline = time.monotonic() + timeout
    fields: dict[str, str] = {}
    data: list[str] = []
    for line in response.iter_lines():
        if time.monotonic() > deadline:
            raise AssertionError(f"server-sent events still coming after {timeout:.0f}s")
        if not line:
            if data or fields:
                yield Event(fields.get("id"), fields.get("event"), "\n".join(data))
            fields, data = {}, []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        else:
            fields[name] = value
