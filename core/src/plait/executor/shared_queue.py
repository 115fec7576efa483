"""The executor's side of a queue shared by processes and machines (a repository's
``work_queue()``, see :mod:`plait_sdk.queue`): :class:`SharedQueue` is the
:class:`~plait.executor.queue.WorkQueue` a driver uses when the repository carries work.

Three things differ from the embedded queue:

- a state change and the items it causes are stored in one transaction (``commit``);
- a driver holds a lease on each execution it drives (taken in ``open``, renewed by a
  heartbeat), so that two servers never drive one execution; a lease lost to another server
  (this process stalled longer than the lease) stops the driver (:class:`DriverLost`);
- results come from the queue's table, each taken once by the driver; one taking an execution
  over reads them all again, including those completed while nobody drove it.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from plait_sdk.queue import QueueItem, QueueResult, WorkQueueStore

from plait.errors import ConflictError, PlaitError
from plait.executor.queue import WorkItem, WorkResult
from plait.state.model import Attempt, Execution, State, TaskRun

if TYPE_CHECKING:
    from plait.state.repository import ExecutionRepository

LEASE_ENV = "PLAIT_WORKER_LEASE_SECONDS"
DEFAULT_LEASE_SECONDS = 30.0
HEARTBEAT_MAX_SECONDS = 1.0
"""Leases are renewed every third of their length, and at least this often (kills travel with
the renewals)."""
SAFE_FRACTION = 0.8
"""A driver stops writing once this fraction of its lease passed since the last renewal it
asked for succeeded: before the database could deem the lease expired and let another
process take the execution over."""


class DriverLost(PlaitError):
    """Another process took over driving an execution this process stopped renewing."""


class SharedRepository(Protocol):
    """A repository whose database also holds the work queue."""

    def save_state(
        self, execution: Execution, runs: Sequence[TaskRun], *, submit: Sequence[QueueItem] = ()
    ) -> None: ...

    def work_queue(self) -> WorkQueueStore | None: ...


def shared_store(repository: object) -> WorkQueueStore | None:
    """The repository's work queue shared by processes, or None (SQLite has none)."""
    factory = getattr(repository, "work_queue", None)
    return factory() if factory is not None else None


def lease_seconds() -> float:
    """How long a claim or a driver lease lasts without a heartbeat (default 30 s,
    ``$PLAIT_WORKER_LEASE_SECONDS``): a dead worker's task runs wait that long to run again."""
    raw = os.environ.get(LEASE_ENV)
    if not raw:
        return DEFAULT_LEASE_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if value <= 0:
        raise PlaitError(f"{LEASE_ENV} must be a positive number of seconds, got '{raw}'")
    return value


def heartbeat_seconds(lease: float) -> float:
    return min(lease / 3, HEARTBEAT_MAX_SECONDS)


class Heartbeat:
    """Calls ``beat`` every ``interval`` seconds in a daemon thread until stopped; a failing beat
    is reported on stderr and tried again at the next one (the database may be restarting):
    what a missed renewal means is the lease holder's to decide."""

    def __init__(self, beat: Callable[[], None], interval: float, name: str) -> None:
        self._beat = beat
        self._interval = interval
        self._name = name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._beat()
            except Exception as exc:  # the database away (or a bug): the next beat tries again
                print(f"plait: {self._name}: {exc}", file=sys.stderr)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self._interval * 2 + 1)


def result_document(result: WorkResult) -> dict[str, Any]:
    return {
        "state": str(result.state),
        "attempts": [attempt.to_document() for attempt in result.attempts],
        "outputs": result.outputs,
        "error": result.error,
    }


def work_result(result: QueueResult) -> WorkResult:
    document = result.document
    item = result.item
    return WorkResult(
        item.execution_id,
        item.taskrun_id,
        item.attempt,
        State(document["state"]),
        [Attempt.from_document(attempt) for attempt in document["attempts"]],
        document.get("outputs"),
        document.get("error"),
    )


def queue_items(items: Sequence[WorkItem]) -> list[QueueItem]:
    return [QueueItem(item.execution_id, item.taskrun_id, item.attempt) for item in items]


class SharedQueue:
    """The :class:`~plait.executor.queue.WorkQueue` of drivers on a shared repository."""

    def __init__(self, store: WorkQueueStore, driver: str, lease: float) -> None:
        self._store = store
        self._driver = driver
        self._lease = lease
        self._valid_until: dict[str, float] = {}
        """Executions driven here -> until when (``time.monotonic()``) their lease surely holds."""
        self._lost: set[str] = set()
        self._lock = threading.Lock()
        self._heartbeat = Heartbeat(self._renew, heartbeat_seconds(lease), "driver-leases")

    def open(self, execution_id: str) -> None:
        asked = time.monotonic()
        if not self._store.acquire_driver(execution_id, self._driver, self._lease):
            holder = self._store.drivers([execution_id]).get(execution_id, "another process")
            raise ConflictError(f"execution {execution_id} is driven by {holder}")
        with self._lock:
            self._valid_until[execution_id] = asked + self._lease * SAFE_FRACTION
            self._lost.discard(execution_id)
        self._heartbeat.start()

    def release(self, execution_id: str) -> None:
        with self._lock:
            self._valid_until.pop(execution_id, None)
            lost = execution_id in self._lost
            self._lost.discard(execution_id)
        if not lost:
            self._store.release_driver(execution_id, self._driver)

    def commit(
        self,
        repository: ExecutionRepository,
        execution: Execution,
        runs: Sequence[TaskRun],
        items: Sequence[WorkItem],
    ) -> None:
        self._check(execution.id)
        shared: SharedRepository = repository  # type: ignore[assignment]
        if items:
            shared.save_state(execution, runs, submit=queue_items(items))
        else:
            shared.save_state(execution, runs)
        if execution.state.is_terminal:  # nobody awaits its items and results any more
            self._store.forget(execution.id)

    def adoptable(self, execution_id: str) -> dict[str, int]:
        held = self._store.in_flight(execution_id)
        found = {item.taskrun_id: item.attempt for item in held.items}
        found.update((result.item.taskrun_id, result.item.attempt) for result in held.results)
        return found

    def submit(self, item: WorkItem) -> None:
        self._store.submit(queue_items([item]))

    def results(self, execution_id: str, timeout: float) -> list[WorkResult]:
        self._check(execution_id)
        return [work_result(result) for result in self._store.results(execution_id, timeout)]

    def _check(self, execution_id: str) -> None:
        """Raise :class:`DriverLost` unless this process surely still holds the lease (fencing:
        a driver that could not renew in time stops before another may take over)."""
        with self._lock:
            if execution_id not in self._valid_until:
                return  # not driven through open() (a kill ending an execution nobody drives)
            expired = time.monotonic() > self._valid_until[execution_id]
            if expired:
                self._lost.add(execution_id)
            if execution_id in self._lost:
                raise DriverLost(
                    f"stopped driving execution {execution_id}: its lease could not be renewed "
                    f"in time (PLAIT_WORKER_LEASE_SECONDS={self._lease:g}); a server carries it "
                    "on once the lease expired"
                )

    def cancel(self, execution_id: str) -> None:
        self._store.cancel(execution_id)

    def _renew(self) -> None:
        asked = time.monotonic()
        with self._lock:
            driven = [i for i in self._valid_until if i not in self._lost]
        held = self._store.renew_drivers(self._driver, driven, self._lease)
        with self._lock:
            for execution_id in driven:
                if execution_id not in self._valid_until:
                    continue  # released meanwhile
                if execution_id in held:
                    self._valid_until[execution_id] = asked + self._lease * SAFE_FRACTION
                else:
                    self._lost.add(execution_id)

    def close(self) -> None:
        self._heartbeat.stop()  # the store is the repository's: closed with it
