"""Whether an execution's driver is alive when the driver id names this very process: alive
while one of this process's runs drives it, dead otherwise (a run that crashed without
recording its end, or a recycled pid). And a kill requested through the repository reaches
a driver of this process as it reaches one of another."""

from __future__ import annotations

import threading
import time

import pytest
from plait.api import Engine
from plait.errors import ConflictError, PlaitError
from plait.executor.abandoned import abandoned
from plait.executor.kill import request_kill
from plait.executor.restart import check_restartable, driver_alive
from plait.executor.runner import ExecutionRun, driver_id
from plait.state.model import State

SLEEPY = """\
id: sleepy
namespace: dev
tasks:
  - id: sleep
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT60S
"""

QUICK = """\
id: quick
namespace: dev
tasks:
  - id: hello
    type: plait.core.Return
    format: hello
"""


def _started(engine: Engine, run: ExecutionRun) -> threading.Thread:
    """``run`` driven in a thread of this process, returned once its Sleep runs."""
    engine.repository.save(run.execution)  # as the server does before its thread starts
    thread = threading.Thread(target=run.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        stored = engine.repository.get(run.execution.id)
        if any(task_run.task_id == "sleep" for task_run in stored.task_runs):
            return thread
        time.sleep(0.05)
    raise AssertionError("the Sleep never started")


def test_an_execution_this_process_drives_is_alive_until_killed(engine: Engine) -> None:
    run = engine.prepare(engine.load(SLEEPY))
    thread = _started(engine, run)
    running = engine.repository.get(run.execution.id)
    assert running.driver == driver_id()
    assert driver_alive(running)
    with pytest.raises(PlaitError, match="still driven by process"):
        check_restartable(running)
    assert running.id not in {e.id for e in abandoned(engine.repository)}

    assert request_kill(engine.repository, running.id).state is State.KILLING
    thread.join(20)
    assert not thread.is_alive(), "the kill request was not noticed"
    killed = engine.repository.get(running.id)
    assert killed.state is State.KILLED
    assert [str(r.state) for r in killed.task_runs] == ["KILLED"]
    assert not engine.repository.kill_requested(killed.id)  # ended: the request is done with
    check_restartable(killed)  # no error
    with pytest.raises(ConflictError, match="already ended KILLED"):
        request_kill(engine.repository, killed.id)


def test_an_execution_naming_this_process_but_driven_by_no_run_is_abandoned(
    engine: Engine,
) -> None:
    run = engine.prepare(engine.load(QUICK))
    execution = run.execution
    execution.driver = driver_id()  # as a run of this process that crashed leaves it
    execution.transition(State.RUNNING)
    engine.repository.save(execution)

    assert not driver_alive(execution)
    check_restartable(execution)  # no error: nothing drives it
    assert execution.id in {e.id for e in abandoned(engine.repository)}
    assert engine.restart(execution.id).state is State.SUCCESS


def test_a_kill_request_for_a_dead_driver_ends_the_execution_at_once(engine: Engine) -> None:
    run = engine.prepare(engine.load(QUICK))
    execution = run.execution
    execution.driver = driver_id()
    execution.transition(State.RUNNING)
    engine.repository.save(execution)

    assert request_kill(engine.repository, execution.id).state is State.KILLED
    assert engine.repository.get(execution.id).state is State.KILLED
