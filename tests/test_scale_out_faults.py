"""Faults of a scale-out deployment on a real PostgreSQL, with real server and worker processes:
a worker killed mid-task (its task run runs again elsewhere once the lease expired, as a new
attempt), a server killed while workers run (a new server carries its executions on without
running again what the workers finished), PostgreSQL restarted mid-run, two servers at once
(each execution driven once); and ``plait worker`` refused on SQLite."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from plait_postgres.testing import Cluster
from support.cli import PLAIT, run_plait
from support.scale_out import postgres_env
from support.server import TERMINAL_STATES, running_server, server_env, stop_process

LEASE = 2.0
NAMESPACE = "tests.faults"
WAIT = 90.0
"""Generous bound on an execution's end (catches hangs, not slowness)."""

NAP = f"""
id: nap
namespace: {NAMESPACE}
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT4S
"""

CHAIN = f"""
id: chain
namespace: {NAMESPACE}
tasks:
  - id: first
    type: plait.core.Return
    format: one
  - id: slow
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT3S
  - id: last
    type: plait.core.Return
    format: "{{{{ outputs.first.value }}}}-done"
"""

ONE_ATTEMPT_EACH = {"first": ["SUCCESS"], "slow": ["SUCCESS"], "last": ["SUCCESS"]}


@contextlib.contextmanager
def worker_process(home: Path, env: Mapping[str, str], name: str) -> Iterator[subprocess.Popen]:
    home.mkdir(parents=True, exist_ok=True)
    logs = home.parent / name
    logs.mkdir(parents=True, exist_ok=True)
    with (logs / "stderr.txt").open("wb") as err:
        process = subprocess.Popen(
            [*PLAIT, "worker", "--concurrency", "4"],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=server_env(home, env),
            cwd=home,
        )
    try:
        yield process
    finally:
        stop_process(process)


def worker_id(process: subprocess.Popen) -> str:
    return f"{socket.gethostname()}:{process.pid}"


def deploy(client: httpx.Client, source: str) -> None:
    response = client.post(
        "/api/v1/flows", content=source, headers={"Content-Type": "application/x-yaml"}
    )
    assert response.status_code == 200, response.text


def create(client: httpx.Client, flow_id: str, count: int = 1) -> list[str]:
    ids = []
    for _ in range(count):
        response = client.post(f"/api/v1/executions/{NAMESPACE}/{flow_id}")
        assert response.status_code == 200, response.text
        ids.append(response.json()["id"])
    return ids


def until(condition: Any, what: str, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return value


def ended(client: httpx.Client, ids: list[str]) -> list[dict[str, Any]]:
    """The executions once every one of them ended (tolerating a database coming back)."""

    def fetch() -> list[dict[str, Any]] | None:
        found = []
        for execution_id in ids:
            try:
                response = client.get(f"/api/v1/executions/{execution_id}")
            except httpx.TransportError:
                return None
            if response.status_code != 200 or response.json()["state"]["current"] not in (
                TERMINAL_STATES
            ):
                return None
            found.append(response.json())
        return found

    return until(fetch, f"executions {ids} to end")


def claimed(dsn: str) -> list[tuple[str, str]]:
    """(task run id, worker) of the items workers hold now."""
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT taskrun_id, worker FROM plait_work_items WHERE state = 'claimed'"
        ).fetchall()


def result_count(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT count(*) FROM plait_work_results").fetchone()[0]


def attempt_states(execution: dict[str, Any]) -> dict[str, list[str]]:
    return {
        run["taskId"]: [attempt["state"]["current"] for attempt in run.get("attempts") or []]
        for run in execution["taskRunList"]
    }


def running_entries(execution: dict[str, Any]) -> int:
    return sum(1 for change in execution["state"]["histories"] if change["state"] == "RUNNING")


@pytest.fixture
def env(pg_dsn: str) -> dict[str, str]:
    return postgres_env(pg_dsn, LEASE)


@pytest.mark.slow
def test_a_killed_workers_task_run_runs_again_as_a_new_attempt(
    tmp_path: Path, env: dict[str, str], pg_dsn: str
) -> None:
    home = tmp_path / "home"
    with running_server(home, env=env, args=["--no-worker"]) as server:
        deploy(server.client, NAP)
        with worker_process(home, env, "worker-a") as first:
            [execution_id] = create(server.client, "nap")
            until(lambda: claimed(pg_dsn), "worker a to claim the task run")
            assert [w for _, w in claimed(pg_dsn)] == [worker_id(first)]
            first.kill()
            first.wait(10)
        with worker_process(home, env, "worker-b") as second:
            [execution] = ended(server.client, [execution_id])
        logs = server.client.get(f"/api/v1/logs/{execution_id}").json()
    assert execution["state"]["current"] == "SUCCESS"
    assert attempt_states(execution) == {"nap": ["FAILED", "SUCCESS"]}
    lost = [log["message"] for log in logs if "stopped renewing" in log["message"]]
    assert len(lost) == 1 and worker_id(first) in lost[0] and worker_id(second) in lost[0]


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM], ids=["killed", "stopped"])
def test_a_new_server_carries_on_a_gone_servers_executions_without_rerunning(
    tmp_path: Path, env: dict[str, str], pg_dsn: str, stop: signal.Signals
) -> None:
    home = tmp_path / "home"
    with worker_process(home, env, "worker"):
        with running_server(home, env=env, args=["--no-worker"]) as first:
            deploy(first.client, CHAIN)
            ids = create(first.client, "chain", 3)
            until(lambda: len(claimed(pg_dsn)) == 3, "the three sleeps to be claimed")
            first.process.send_signal(stop)  # SIGTERM: it stops driving, leaving them RUNNING
            first.process.wait(30)
        # Nobody drives them now: the worker still finishes what it holds.
        until(lambda: result_count(pg_dsn) >= 3, "the worker to complete the sleeps")
        with running_server(home, env=env, args=["--no-worker"]) as second:
            executions = ended(second.client, ids)
            assert "took over" in second.stderr()
    for execution in executions:
        assert execution["state"]["current"] == "SUCCESS"
        # "slow" completed while no server drove it: adopted, not run again
        assert attempt_states(execution) == ONE_ATTEMPT_EACH
        outputs = {run["taskId"]: run.get("outputs") for run in execution["taskRunList"]}
        assert outputs["last"] == {"value": "one-done"}


@pytest.mark.slow
def test_executions_survive_a_postgresql_restart(
    tmp_path: Path, env: dict[str, str], pg_dsn: str, pg_cluster: Cluster
) -> None:
    home = tmp_path / "home"
    with running_server(home, env=env) as server, worker_process(home, env, "worker"):
        deploy(server.client, CHAIN)
        ids = create(server.client, "chain", 3)
        until(lambda: len(claimed(pg_dsn)) == 3, "the three sleeps to be claimed")
        pg_cluster.restart()
        executions = ended(server.client, ids)
    for execution in executions:
        assert execution["state"]["current"] == "SUCCESS"
        for task, states in attempt_states(execution).items():
            assert states.count("SUCCESS") == 1, (task, states)


@pytest.mark.slow
def test_two_servers_drive_each_execution_once(
    tmp_path: Path, env: dict[str, str], pg_dsn: str
) -> None:
    home = tmp_path / "home"
    with running_server(home, env=env) as one, running_server(home, env=env) as two:
        deploy(one.client, CHAIN.replace("PT3S", "PT0.5S"))
        ids = create(one.client, "chain", 4) + create(two.client, "chain", 4)
        executions = ended(one.client, ids)
        # Several lease periods pass while they run: each server scans for executions to
        # take over and must find none (every lease is renewed by its driver).
        assert "took over" not in one.stderr() + two.stderr()
    for execution in executions:
        assert execution["state"]["current"] == "SUCCESS"
        assert running_entries(execution) == 1  # one driver started it, none resumed it
        assert attempt_states(execution) == ONE_ATTEMPT_EACH


def test_worker_and_server_without_workers_need_a_shared_repository(tmp_path: Path) -> None:
    for command in (["worker"], ["server", "--no-worker", "--port", "1"]):
        done = run_plait(*command, home=tmp_path, env={"PLAIT_REPOSITORY": "sqlite"})
        assert done.code == 2, done.stderr
        assert "needs a shared repository" in done.stderr
        assert "PLAIT_REPOSITORY=postgres" in done.stderr
        assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_a_kill_stops_the_task_run_on_its_worker(
    tmp_path: Path, env: dict[str, str], pg_dsn: str
) -> None:
    home = tmp_path / "home"
    with running_server(home, env=env, args=["--no-worker"]) as server:
        deploy(server.client, NAP.replace("PT4S", "PT600S"))
        with worker_process(home, env, "worker"):
            [execution_id] = create(server.client, "nap")
            until(lambda: claimed(pg_dsn), "the worker to claim the task run")
            response = server.client.delete(f"/api/v1/executions/{execution_id}/kill")
            assert response.status_code in (200, 202), response.text
            [execution] = ended(server.client, [execution_id])  # long before the 600 s nap
    assert execution["state"]["current"] == "KILLED"
    assert attempt_states(execution) == {"nap": ["KILLED"]}
    assert claimed(pg_dsn) == []
