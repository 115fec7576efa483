"""Servers on PostgreSQL carrying on executions nobody drives: one stored but never driven (its
server died between storing it and starting it) and one whose server was killed mid-run; a
resumed execution's history says it ran once."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from plait.api import Engine
from plait.state.model import Execution
from support.scale_out import postgres_env
from support.server import running_server, wait_for

NAMESPACE = "tests.takeover"
WAIT = 60.0
"""Generous bound on an execution's end (catches hangs, not slowness)."""

FLOW = f"""
id: greet
namespace: {NAMESPACE}
tasks:
  - id: hello
    type: io.kestra.plugin.core.debug.Return
    format: hello
"""


def states(document: dict[str, Any]) -> list[str]:
    return [change["state"] for change in document["state"]["histories"]]


def store_created(engine: Engine, age: dt.timedelta) -> Execution:
    """A new execution stored ``age`` ago, as a server stores it just before driving it."""
    execution = engine.prepare(engine.load(FLOW)).execution
    execution.history[0].date -= age
    engine.repository.save(execution)
    return execution


def test_a_server_drives_an_execution_stored_but_never_driven(
    tmp_path: Path, pg_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    env = postgres_env(pg_dsn)  # the default lease: 30 s
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    engine = Engine.create(home=home)
    try:
        orphan = store_created(engine, dt.timedelta(minutes=5))
        recent = store_created(engine, dt.timedelta(0))  # its server may be starting it now
    finally:
        engine.close()

    with running_server(home, env=env) as server:
        done = wait_for(server.client, orphan.id, timeout=WAIT)
        waiting = server.client.get(f"/api/v1/executions/{recent.id}").json()
        assert f"took over 1 execution(s): {orphan.id}" in server.stderr()

    assert done["state"]["current"] == "SUCCESS", done
    assert states(done) == ["CREATED", "RUNNING", "SUCCESS"]
    [run] = done["taskRunList"]
    assert run["outputs"] == {"value": "hello"}
    assert states(waiting) == ["CREATED"]  # younger than a lease period: left to its server


def test_a_taken_over_execution_and_task_run_enter_running_once(
    tmp_path: Path, pg_dsn: str
) -> None:
    home = tmp_path / "home"
    env = postgres_env(pg_dsn, 2.0)
    with running_server(home, env=env, args=["--no-worker"]) as first:
        response = first.client.post(
            "/api/v1/flows", content=FLOW, headers={"Content-Type": "application/x-yaml"}
        )
        assert response.status_code == 200, response.text
        response = first.client.post(f"/api/v1/executions/{NAMESPACE}/greet")
        assert response.status_code == 200, response.text
        execution_id = response.json()["id"]
        _until_dispatched(first.client, execution_id)  # no worker: its item waits in the queue
        first.process.kill()
        first.process.wait(10)

    with running_server(home, env=env) as second:
        done = wait_for(second.client, execution_id, timeout=WAIT)
        assert "took over" in second.stderr()

    assert done["state"]["current"] == "SUCCESS", done
    assert states(done) == ["CREATED", "RUNNING", "SUCCESS"]
    [run] = done["taskRunList"]
    assert states(run) == ["CREATED", "RUNNING", "SUCCESS"]
    assert [attempt["state"]["current"] for attempt in run["attempts"]] == ["SUCCESS"]


def _until_dispatched(client: httpx.Client, execution_id: str) -> None:
    deadline = time.monotonic() + WAIT
    while True:
        runs = client.get(f"/api/v1/executions/{execution_id}").json()["taskRunList"]
        if runs and runs[0]["state"]["current"] == "RUNNING":
            return
        assert time.monotonic() < deadline, f"{execution_id}'s task run never started"
        time.sleep(0.05)
