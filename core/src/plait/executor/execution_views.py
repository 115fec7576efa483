"""The executions a worker runs task runs of, kept between task runs and refreshed with what
changed: reading every task run of an execution for each of its task runs made a worker's cost
per task run grow with the execution (a ForEach of 800 values: ~25 ms each).

A repository with ``changes_since`` (PostgreSQL, see :class:`plait_sdk.state.ExecutionChanges`)
returns the task runs stored since the copy was read; one without it is read whole (``get``).
Each read happens after the task run's work item was claimed, and the driver stored the item in
the same transaction as the state that caused it: the copy holds every output the task run's
templates may use.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from plait.errors import NotFoundError
from plait.executor.flow_cache import FlowCache
from plait.executor.runner import ExecutionRun
from plait.state.model import Execution

if TYPE_CHECKING:
    from plait.executor.services import EngineServices

VIEWS_SIZE = 32
"""Executions kept (the least recently used dropped first): a worker runs the task runs of a
few executions at a time."""


@dataclass
class _View:
    lock: threading.Lock = field(default_factory=threading.Lock)
    job: ExecutionRun | None = None
    change: int = 0
    """The execution's change number when ``job`` was last read or refreshed."""


class ExecutionViews:
    """Up to ``size`` executions as last read by this worker."""

    def __init__(self, engine: EngineServices, flows: FlowCache, size: int = VIEWS_SIZE) -> None:
        self._engine = engine
        self._flows = flows
        self._size = size
        self._views: OrderedDict[str, _View] = OrderedDict()
        self._lock = threading.Lock()

    def current(self, execution_id: str) -> ExecutionRun | None:
        """The execution as stored now (None when it is gone); shared by the threads running
        its task runs: each runs in a :meth:`ExecutionRun.for_task_run` view of it."""
        view = self._view(execution_id)
        with view.lock:  # one read at a time per execution: the others then read only theirs
            try:
                execution, change, complete = self._read(execution_id, view.change)
            except NotFoundError:
                self._forget(execution_id)
                return None
            if view.job is None or complete:
                flow = self._flows.revision(
                    execution.namespace, execution.flow_id, execution.flow_revision
                )
                view.job = ExecutionRun.stored(self._engine, execution, flow=flow)
            else:
                view.job.refresh(execution)
            view.change = change
            if execution.state.is_terminal:  # no task run of it will come again
                self._forget(execution_id)
            return view.job

    def _read(self, execution_id: str, after: int) -> tuple[Execution, int, bool]:
        repository = self._engine.repository
        changes_since = getattr(repository, "changes_since", None)
        if changes_since is None:
            return repository.get(execution_id), 0, True
        found: tuple[Execution, int, bool] = changes_since(execution_id, after)
        return found

    def _view(self, execution_id: str) -> _View:
        with self._lock:
            view = self._views.get(execution_id)
            if view is None:
                view = self._views[execution_id] = _View()
                while len(self._views) > self._size:
                    self._views.popitem(last=False)
            else:
                self._views.move_to_end(execution_id)
            return view

    def _forget(self, execution_id: str) -> None:
        with self._lock:
            self._views.pop(execution_id, None)
