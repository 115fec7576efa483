"""A scale-out deployment for end-to-end tests (docs/scale-out.md): one ``plait server
--no-worker`` and ``plait worker`` processes on one PostgreSQL database and one shared
``PLAIT_HOME``, with the REST calls the tests and their checks need."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from support.cli import PLAIT
from support.server import TERMINAL_STATES, server_env, stop_process

YAML = {"Content-Type": "application/x-yaml"}


def postgres_env(dsn: str, lease_seconds: float | None = None) -> dict[str, str]:
    """The environment that puts a server or a worker on ``dsn`` (docs/scale-out.md)."""
    env = {"PLAIT_REPOSITORY": "postgres", "PLAIT_POSTGRES_DSN": dsn}
    if lease_seconds is not None:
        env["PLAIT_WORKER_LEASE_SECONDS"] = str(lease_seconds)
    return env


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    stderr_path: Path

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")


@contextlib.contextmanager
def running_workers(
    home: Path, count: int, *, env: Mapping[str, str], concurrency: int
) -> Iterator[list[Worker]]:
    """``count`` ``plait worker --concurrency N`` processes on ``home``; each still running
    is stopped with SIGTERM (then SIGKILL) on exit. Their output goes to files beside home."""
    workers: list[Worker] = []
    try:
        for number in range(count):
            logs = home.parent / f"worker-{number}"
            logs.mkdir(parents=True, exist_ok=True)
            stderr_path = logs / "stderr.txt"
            with (logs / "stdout.txt").open("wb") as out, stderr_path.open("wb") as err:
                process = subprocess.Popen(
                    [*PLAIT, "worker", "--concurrency", str(concurrency)],
                    stdout=out,
                    stderr=err,
                    env=server_env(home, env),
                    cwd=home,
                )
            workers.append(Worker(process, stderr_path))
        yield workers
    finally:
        for worker in workers:
            stop_process(worker.process)


def store_flow(client: httpx.Client, path: Path) -> dict[str, Any]:
    response = client.post("/api/v1/flows", content=path.read_bytes(), headers=YAML)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def create_executions(
    url: str, namespace: str, flow_id: str, count: int, *, clients: int = 4
) -> list[str]:
    """Start ``count`` executions over ``POST /executions/{namespace}/{flowId}`` from
    ``clients`` threads; their ids."""

    def create(client: httpx.Client) -> str:
        response = client.post(f"/api/v1/executions/{namespace}/{flow_id}")
        assert response.status_code == 200, response.text
        return str(response.json()["id"])

    per_client = [count // clients + (i < count % clients) for i in range(clients)]

    def create_many(many: int) -> list[str]:
        with httpx.Client(base_url=url, timeout=60) as client:
            return [create(client) for _ in range(many)]

    with ThreadPoolExecutor(clients) as pool:
        return [i for ids in pool.map(create_many, per_client) for i in ids]


def count_in(client: httpx.Client, namespace: str, states: frozenset[str]) -> int:
    """How many executions of ``namespace`` are in one of ``states``."""
    response = client.get(
        "/api/v1/executions/search",
        params=[("namespace", namespace), ("size", "1"), *(("state", s) for s in states)],
    )
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


def wait_until_ended(
    client: httpx.Client, namespace: str, count: int, *, timeout: float, at_least: int | None = None
) -> int:
    """Poll until ``at_least`` (default ``count``) executions of ``namespace`` ended; how
    many did. Fails after ``timeout`` seconds saying how many were still going."""
    wanted = count if at_least is None else at_least
    deadline = time.monotonic() + timeout
    while (ended := count_in(client, namespace, TERMINAL_STATES)) < wanted:
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{ended} of {count} executions ended after {timeout:.0f}s (waited for {wanted})"
            )
        time.sleep(0.5)
    return ended
