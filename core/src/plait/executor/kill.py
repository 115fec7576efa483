"""Killing an execution from any process sharing the home (``plait executions kill``, the
server's kill endpoint): the request is recorded in the repository, and whichever process
drives the execution (a ``plait run``, a server) notices it within a fraction of a second,
stops its task runs and ends it KILLED, as a Ctrl-C there would. As with Kestra, the answer
is the execution KILLING; it is KILLED once its task runs stopped."""

from __future__ import annotations

import copy

from plait.errors import ConflictError
from plait.executor.abandoned import end_killed
from plait.executor.restart import driven
from plait.state.model import Execution, State
from plait.state.repository import ExecutionRepository


def request_kill(repository: ExecutionRepository, execution_id: str) -> Execution:
    """Ask for the execution's kill; the execution as it is then (KILLING, or KILLED when the
    process that drove it is gone and nobody else would end it)."""
    execution = repository.get(execution_id)
    if execution.state.is_terminal:
        raise ConflictError(f"execution {execution.id} already ended {execution.state}")
    repository.request_kill(execution.id)
    if execution.driver and not driven(execution, repository):
        end_killed(repository, execution, f"killed; its driver ({execution.driver}) was gone")
        return execution
    answer = copy.deepcopy(execution)
    answer.transition(State.KILLING)
    return answer
