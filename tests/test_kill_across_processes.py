"""A kill reaches an execution whichever process drives it: a `plait run` beside a `plait server`
on the same home is killed through the server's API or `plait executions kill`, and ends
KILLED within a moment (not after its long Sleep), its exit status saying so."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import CliRunner
from plait.api import Engine
from support.cli import PLAIT
from support.server import running_server

FLOW = """\
id: long
namespace: kill.across
tasks:
  - id: sleep
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT60S
  - id: never
    type: plait.core.Log
    message: not reached
"""

ENDS_WITHIN = 20.0
"""A generous bound against hangs: the kill must not wait for the 60 s Sleep."""


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A `plait run` of FLOW in its own process, and its execution's id once it sleeps."""
    flow = tmp_path / "flow.yml"
    flow.write_text(FLOW)
    home = tmp_path / "home"
    process = subprocess.Popen(
        [*PLAIT, "run", str(flow)],
        env={**os.environ, "PLAIT_HOME": str(home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield process, _sleeping(home, process)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def _sleeping(home: Path, process: subprocess.Popen[str]) -> str:
    deadline = time.monotonic() + 60
    engine: Engine | None = None
    try:
        while time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()
            time.sleep(0.1)
            if not (home / "plait.db").exists():
                continue
            engine = engine or Engine.create(home=home)
            for execution in engine.repository.list():
                if any(run.task_id == "sleep" for run in execution.task_runs):
                    return execution.id
        raise AssertionError("the execution never reached its Sleep")
    finally:
        if engine is not None:
            engine.close()


def _ended_killed(process: subprocess.Popen[str]) -> str:
    """The run process's stdout, once it exited 1 (KILLED) within ENDS_WITHIN."""
    out, err = process.communicate(timeout=ENDS_WITHIN)
    assert process.returncode == 1, (out, err)
    assert "Traceback" not in err
    return out + err


def test_the_server_api_kills_an_execution_a_plait_run_drives(
    tmp_path: Path, running: tuple[subprocess.Popen[str], str]
) -> None:
    process, execution_id = running
    with running_server(tmp_path / "home") as server:
        killed = server.client.delete(f"/api/v1/executions/{execution_id}/kill")
        assert killed.status_code == 202, killed.text
        assert killed.json()["state"]["current"] == "KILLING"
        assert "KILLED" in _ended_killed(process)
        ended = server.client.get(f"/api/v1/executions/{execution_id}").json()
    assert ended["state"]["current"] == "KILLED"
    history = [change["state"] for change in ended["state"]["histories"]]
    assert history[-2:] == ["KILLING", "KILLED"]
    states = {run["taskId"]: run["state"]["current"] for run in ended["taskRunList"]}
    assert states == {"sleep": "KILLED"}  # `never` did not start


@pytest.mark.parametrize("through_server", [False, True], ids=["local", "server"])
def test_plait_executions_kill_ends_a_plait_run(
    tmp_path: Path,
    cli: CliRunner,
    running: tuple[subprocess.Popen[str], str],
    through_server: bool,
) -> None:
    process, execution_id = running
    if through_server:
        with running_server(tmp_path / "home") as server:
            done = cli("executions", "kill", execution_id, "--server", server.url)
    else:
        done = cli("executions", "kill", execution_id)
    assert done.code == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"execution {execution_id}: KILLING",
        f"execution {execution_id}: KILLED",
    ]
    _ended_killed(process)

    again = cli("executions", "kill", execution_id)
    assert again.code == 1
    assert "already ended KILLED" in again.stderr
