"""The work queue between the executor and the workers: the contract, and the embedded one.

The contract (documented in docs/architecture.md) is deliberately small, so that a database
can carry it (a PostgreSQL implementation claims items with ``SELECT ... FOR UPDATE SKIP
LOCKED``):

- the executor **submits** a :class:`WorkItem` once the task run it names is stored RUNNING;
- a worker **claims** an item, runs the task run, and **completes** it with a
  :class:`WorkResult` (at most one result per item: a result for an attempt the executor no
  longer expects is ignored by it);
- the executor reads the **results** of one execution, in completion order;
- **cancel** asks the workers running an execution's task runs to stop them (a kill); they
  still complete their items, with state KILLED.

Items carry ids only: a worker in another process would load the execution from the
repository. The embedded queue hands items to threads of this process, which find the running
execution in memory.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from plait.state.model import Attempt, Execution, State, TaskRun

if TYPE_CHECKING:
    from plait.state.repository import ExecutionRepository

WORKER_THREADS_ENV = "PLAIT_WORKER_THREADS"
DEFAULT_WORKER_THREADS = 64
"""Most task runs one process runs at once (threads start on demand and stay while busy)."""


@dataclass(frozen=True)
class WorkItem:
    execution_id: str
    taskrun_id: str
    attempt: int
    """1 for the first attempt; a restart submits the run again with the next number."""


@dataclass
class WorkResult:
    execution_id: str
    taskrun_id: str
    attempt: int
    state: State
    attempts: list[Attempt] = field(default_factory=list)
    """The attempts made for this item (retries add attempts)."""
    outputs: dict[str, Any] | None = None
    error: str | None = None


class WorkQueue(Protocol):
    def open(self, execution_id: str) -> None:
        """Start driving an execution: receive its results (a shared queue also takes the
        lease on driving it, so that no other process does)."""
        ...

    def release(self, execution_id: str) -> None: ...

    def commit(
        self,
        repository: ExecutionRepository,
        execution: Execution,
        runs: Sequence[TaskRun],
        items: Sequence[WorkItem],
    ) -> None:
        """Save a state change, then submit the items it causes (a shared queue does both in
        one transaction of the repository's database)."""
        ...

    def adoptable(self, execution_id: str) -> dict[str, int]:
        """Task run id -> attempt of the items the queue still holds for the execution (queued,
        running or with a result waiting): a driver resuming it awaits them instead of running
        them again. The embedded queue holds nothing once its process is gone."""
        ...

    def submit(self, item: WorkItem) -> None: ...

    def results(self, execution_id: str, timeout: float) -> list[WorkResult]:
        """Results of the execution's items, waiting up to ``timeout`` seconds for one."""
        ...

    def cancel(self, execution_id: str) -> None: ...

    def close(self) -> None: ...


Runner = Callable[[WorkItem], WorkResult]
"""What a worker thread does with an item (see :mod:`plait.executor.worker`)."""
Canceller = Callable[[str], None]


class EmbeddedQueue:
    """Worker threads in this process, started on demand up to a limit, idle ones reused."""

    def __init__(self, run: Runner, cancel: Canceller, max_threads: int | None = None) -> None:
        self._run = run
        self._cancel = cancel
        self._max = max_threads or int(os.environ.get(WORKER_THREADS_ENV) or DEFAULT_WORKER_THREADS)
        self._items: queue.SimpleQueue[WorkItem | None] = queue.SimpleQueue()
        self._inboxes: dict[str, queue.SimpleQueue[WorkResult]] = {}
        self._lock = threading.Lock()
        self._threads = 0
        self._idle = 0
        self._closed = False

    def open(self, execution_id: str) -> None:
        """Start receiving results for an execution (before its first submit)."""
        with self._lock:
            self._inboxes.setdefault(execution_id, queue.SimpleQueue())

    def release(self, execution_id: str) -> None:
        with self._lock:
            self._inboxes.pop(execution_id, None)

    def commit(
        self,
        repository: ExecutionRepository,
        execution: Execution,
        runs: Sequence[TaskRun],
        items: Sequence[WorkItem],
    ) -> None:
        repository.save_state(execution, runs)
        for item in items:
            self.submit(item)

    def adoptable(self, execution_id: str) -> dict[str, int]:
        return {}

    def submit(self, item: WorkItem) -> None:
        self._items.put(item)
        with self._lock:
            if self._idle > 0 or self._threads >= self._max:
                self._idle -= 1 if self._idle > 0 else 0
                return
            self._threads += 1
        threading.Thread(target=self._work, name="plait-worker", daemon=True).start()

    def _work(self) -> None:
        while True:
            item = self._items.get()
            if item is None:
                return
            self.complete(self._run(item))
            with self._lock:
                self._idle += 1

    def complete(self, result: WorkResult) -> None:
        with self._lock:
            inbox = self._inboxes.get(result.execution_id)
        if inbox is not None:
            inbox.put(result)

    def results(self, execution_id: str, timeout: float) -> list[WorkResult]:
        with self._lock:
            inbox = self._inboxes[execution_id]
        try:
            found = [inbox.get(timeout=timeout)]
        except queue.Empty:
            return []
        while True:
            try:
                found.append(inbox.get_nowait())
            except queue.Empty:
                return found

    def cancel(self, execution_id: str) -> None:
        self._cancel(execution_id)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            count = self._threads
        for _ in range(count):
            self._items.put(None)
