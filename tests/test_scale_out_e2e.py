"""The scale-out acceptance test (docs/scale-out.md): one ``plait server --no-worker`` and three
``plait worker`` processes on one PostgreSQL database and one shared ``PLAIT_HOME`` run 300
executions of examples/scale-out/fanout.yml (a ForEach and a Parallel) created over the REST
API; one worker is SIGKILLed while it holds claimed task runs. Every execution must end
SUCCESS, every task run a worker ran must have exactly one successful attempt, and at least one
must show the killed worker's attempt re-run by another once its lease expired. The example
also runs as its comment says, on one machine."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import psycopg
import pytest
from support.scale_out import (
    create_executions,
    postgres_env,
    running_workers,
    store_flow,
    wait_until_ended,
)
from support.server import TERMINAL_STATES, running_server

if TYPE_CHECKING:
    from conftest import CliRunner

FLOW = Path(__file__).resolve().parents[1] / "examples" / "scale-out" / "fanout.yml"
NAMESPACE = "examples.scale_out"
EXECUTIONS = 300
WORKERS = 3
CONCURRENCY = 4
LEASE_SECONDS = 5
WORKER_TASKS = {"shout": 3, "note": 1, "nap": 1, "done": 1}
"""The flow's task runs a worker runs, and how many of each an execution has; the ForEach and
the Parallel are planned by the executor (no attempts)."""
FLOWABLES = {"each", "branches"}
ENDED_BEFORE_KILL = 30
"""The kill waits for this many executions to end, so that every worker is busy by then, and
for the victim to hold claimed task runs (rows of the queue's table naming it)."""


def test_the_example_runs_on_one_machine(cli: CliRunner) -> None:
    """The example as its comment says to run it: SQLite, no workers, the same task runs."""
    done = cli("run", "--json", str(FLOW), "-i", "nap=PT0S")
    assert done.code == 0, done.stderr
    check_task_runs(done.json())


@pytest.mark.slow
def test_three_workers_run_300_executions_through_a_worker_kill(
    tmp_path: Path, pg_dsn: str
) -> None:
    home = tmp_path / "home"
    env = postgres_env(pg_dsn, lease_seconds=LEASE_SECONDS)
    with (
        running_server(home, env=env, args=["--no-worker"]) as server,
        running_workers(home, WORKERS, env=env, concurrency=CONCURRENCY) as workers,
    ):
        store_flow(server.client, FLOW)
        ids = create_executions(server.url, NAMESPACE, "fanout", EXECUTIONS)
        assert len(set(ids)) == EXECUTIONS

        victim = workers[0]
        wait_until_ended(
            server.client, NAMESPACE, EXECUTIONS, timeout=120, at_least=ENDED_BEFORE_KILL
        )
        kill_while_claiming(victim.process, pg_dsn)
        assert victim.process.wait(10) == -signal.SIGKILL

        try:
            wait_until_ended(server.client, NAMESPACE, EXECUTIONS, timeout=240)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; {unfinished(server.client, ids)}") from None
        for survivor in workers[1:]:
            assert survivor.process.poll() is None, survivor.stderr()
        executions = [fetch(server.client, execution_id) for execution_id in ids]

    failed = [e["id"] for e in executions if e["state"]["current"] != "SUCCESS"]
    assert not failed, f"{len(failed)} executions did not succeed, e.g. {failed[:3]}"
    for execution in executions:
        check_task_runs(execution)
    rerun = [run for e in executions for run in e["taskRunList"] if len(run["attempts"]) > 1]
    assert rerun, "no task run shows a second attempt: the kill hit no claimed task run"
    for run in rerun:  # the lost attempts, FAILED once their lease expired, then the one
        states = [a["state"]["current"] for a in run["attempts"]]
        assert states == ["FAILED"] * (len(states) - 1) + ["SUCCESS"], run


def kill_while_claiming(process: subprocess.Popen[bytes], dsn: str, timeout: float = 60) -> None:
    """SIGKILL the worker at a moment it holds claimed items (rows of the queue's table naming
    it, ``host:pid``): frozen with SIGSTOP while the table is read, so that it cannot complete
    them between the look and the kill; thawed to try again when it held none."""
    worker = f"{socket.gethostname()}:{process.pid}"
    deadline = time.monotonic() + timeout
    with psycopg.connect(dsn, autocommit=True) as conn:
        while True:
            process.send_signal(signal.SIGSTOP)
            row = conn.execute(
                "SELECT count(*) FROM plait_work_items WHERE state = 'claimed' AND worker = %s",
                (worker,),
            ).fetchone()
            if row is not None and row[0] > 0:
                process.send_signal(signal.SIGKILL)
                return
            process.send_signal(signal.SIGCONT)
            assert time.monotonic() < deadline, f"worker {worker} claimed nothing in {timeout}s"
            time.sleep(0.05)


def unfinished(client: httpx.Client, ids: list[str], most: int = 3) -> str:
    """Some executions still going, with their task runs not ended (to tell a hang's cause)."""
    found = []
    for execution in (fetch(client, execution_id) for execution_id in ids):
        if execution["state"]["current"] not in TERMINAL_STATES:
            going = [
                f"{run['taskId']}[{run.get('value') or ''}] {run['state']['current']}"
                for run in execution["taskRunList"]
                if run["state"]["current"] not in TERMINAL_STATES
            ]
            found.append(f"{execution['id']}: {', '.join(going)}")
    return f"still going: {'; '.join(found[:most])}"


def fetch(client: httpx.Client, execution_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/executions/{execution_id}")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def check_task_runs(execution: dict[str, Any]) -> None:
    """Every task run SUCCESS; those a worker ran with exactly one successful attempt, the
    others (ForEach, Parallel) with none; the flow's output built from every iteration."""
    runs = execution["taskRunList"]
    where = f"execution {execution['id']}"
    counted: dict[str, int] = {}
    for run in runs:
        task = run["taskId"]
        counted[task] = counted.get(task, 0) + 1
        assert run["state"]["current"] == "SUCCESS", f"{where}: {task} {run['state']}"
        succeeded = [a for a in run["attempts"] if a["state"]["current"] == "SUCCESS"]
        expected = 0 if task in FLOWABLES else 1
        assert len(succeeded) == expected, f"{where}: {task} attempts {run['attempts']}"
    assert counted == {**WORKER_TASKS, **dict.fromkeys(FLOWABLES, 1)}, where
    assert execution["outputs"] == {"letters": "ABC"}, where
