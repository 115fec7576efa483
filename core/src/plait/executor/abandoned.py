"""Executions whose process died (``kill -9``, a crash, a power loss): found by their driver
(``host:pid``) on this host and ended KILLED, so that none stays RUNNING for ever. They can be
carried on with ``plait executions restart``; ``plait server`` resumes them itself."""

from __future__ import annotations

from plait.executor.restart import driver_alive
from plait.executor.shared_queue import shared_store
from plait.state.model import Execution, State, end_attempt
from plait.state.repository import ExecutionRepository

UNFINISHED = (State.CREATED, State.QUEUED, State.RUNNING, State.RESTARTED, State.KILLING)


def abandoned(repository: ExecutionRepository) -> list[Execution]:
    """Unfinished executions whose driving process is gone (only this host's are known). None
    on a shared repository: servers carry such executions on (see plait.server.takeover)."""
    if shared_store(repository) is not None:
        return []
    found, _ = repository.search(states=[str(s) for s in UNFINISHED], size=10_000)
    return [e for e in found if e.driver and not driver_alive(e)]


def end_abandoned(repository: ExecutionRepository) -> list[Execution]:
    """End every abandoned execution KILLED (its unfinished task runs too), saying why."""
    ended = []
    for execution in abandoned(repository):
        reason = (
            f"the process driving it ({execution.driver}) is gone; "
            f"`plait executions restart {execution.id}` carries it on"
        )
        end_killed(repository, execution, reason)
        ended.append(execution)
    return ended


def end_killed(repository: ExecutionRepository, execution: Execution, reason: str) -> None:
    """End an execution no process drives KILLED, its unfinished task runs too (``reason``)."""
    changed = []
    for run in execution.task_runs:
        if not run.state.is_terminal:
            end_attempt(run, State.KILLED)
            run.error = run.error or reason
            run.transition(State.KILLED)
            changed.append(run)
    execution.driver = None
    execution.transition(State.KILLED)
    repository.save_state(execution, changed)
