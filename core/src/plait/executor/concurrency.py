"""A flow's ``concurrency``: at most ``limit`` of its executions run at once, across every
process sharing the home (the check and the move to RUNNING are one transaction). Over the
limit an execution waits QUEUED until a slot frees (QUEUE), or ends CANCELLED (CANCEL) or
FAILED (FAIL) without running anything."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from plait.state.model import State

if TYPE_CHECKING:
    from plait.executor.runner import ExecutionRun

QUEUE_POLL_SECONDS = 0.2


def take_slot(run: ExecutionRun) -> bool:
    """Move the execution to RUNNING when its flow has a free slot; False when it must not run
    (CANCELLED, FAILED, or KILLED while it waited), its state then stored."""
    concurrency = run.flow.concurrency
    execution = run.execution
    if concurrency is None:
        if execution.state is not State.RUNNING:  # resumed (taken over): no second entry
            execution.transition(State.RUNNING)
        return True
    repository = run.engine.repository
    while True:
        previous = execution.state
        if previous is not State.RUNNING:
            execution.transition(State.RUNNING)
        if repository.acquire_slot(execution, concurrency.limit):
            return True
        if previous is not State.RUNNING:
            execution.history.pop()  # not running after all
        execution.state = previous
        reason = (
            f"{concurrency.limit} execution(s) of {execution.namespace}.{execution.flow_id} "
            "already running (concurrency limit)"
        )
        if concurrency.behavior in ("CANCEL", "FAIL"):
            end = State.CANCELLED if concurrency.behavior == "CANCEL" else State.FAILED
            return end_unstarted(run, end, f"{reason}: {end}")
        if execution.state is not State.QUEUED:
            execution.transition(State.QUEUED)
            repository.save_state(execution, [])
            run.record_log("INFO", f"{reason}: QUEUED until one ends", None, None)
        if _stopped(run):
            return end_unstarted(run, State.KILLED, "killed while queued")


def _stopped(run: ExecutionRun) -> bool:
    """Wait a little; True when the execution was asked to stop meanwhile (in this process or
    through the repository)."""
    if run._stop is not None:
        run._stop.wait(QUEUE_POLL_SECONDS)
    else:
        time.sleep(QUEUE_POLL_SECONDS)  # Ctrl-C raises KeyboardInterrupt here
    return run.stop_requested()


def end_unstarted(run: ExecutionRun, state: State, message: str) -> bool:
    """End an execution that never ran (over its concurrency limit, or killed while queued)."""
    run.execution.driver = None
    run.execution.transition(state)
    run.engine.repository.save_state(run.execution, [])
    run.record_log("WARN" if state is not State.CANCELLED else "INFO", message, None, None)
    return False
