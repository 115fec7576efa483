"""Several servers on one shared repository: each drives the executions it creates, under a
lease per execution (see :class:`plait.executor.shared_queue.SharedQueue`), and looks every
lease period for unfinished executions whose driver's lease expired (that server died or was
cut off) to carry them on. Resuming adopts what the queue still holds (see
``ExecutionRun._adopt``): task runs a worker finished or still runs are not run again.

An execution stored but never driven (its server died between storing it and taking its lease)
has no driver and no lease: it is carried on once it has waited to start (CREATED, QUEUED) for
more than a lease period, longer than a live server takes to start driving what it stored."""

from __future__ import annotations

import datetime as dt
import logging
import socket
import threading

from plait_sdk.queue import WorkQueueStore

from plait.errors import PlaitError
from plait.executor.abandoned import UNFINISHED
from plait.executor.restart import driver_alive
from plait.executor.runner import driver_id
from plait.server.runtime import ServerRuntime
from plait.state.model import Execution, State, utcnow

log = logging.getLogger("plait.server.takeover")

SCAN_LIMIT = 10_000
WAITING = (State.CREATED, State.QUEUED)


class Takeover:
    def __init__(self, runtime: ServerRuntime, store: WorkQueueStore, lease: float) -> None:
        self._runtime = runtime
        self._store = store
        self._lease = lease
        self._driver = driver_id()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="plait-takeover", daemon=True)

    def start(self) -> Takeover:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(self._lease + 5)

    def _loop(self) -> None:
        while True:
            try:
                self.scan()
            except PlaitError as exc:  # the database is away: try again at the next period
                log.warning("looking for executions to take over failed: %s", exc)
            if self._stop.wait(self._lease):
                return

    def scan(self) -> list[str]:
        """Take over every unfinished execution nobody drives; their ids."""
        found, _ = self._runtime.engine.repository.search(
            states=[str(s) for s in UNFINISHED], size=SCAN_LIMIT
        )
        stored_before = utcnow() - dt.timedelta(seconds=self._lease)
        candidates = [
            e
            for e in found
            if (e.driver or (e.state in WAITING and e.created < stored_before))
            and not self._runtime.drives(e.id)
        ]
        holders = self._store.drivers([e.id for e in candidates])
        taken = []
        for execution in candidates:
            holder = holders.get(execution.id)
            dead = holder if holder is not None and _gone(execution, holder) else None
            if holder is not None and dead is None:
                continue  # driven elsewhere, lease valid
            if not self._store.acquire_driver(execution.id, self._driver, self._lease, dead=dead):
                continue  # another server was quicker
            try:
                started = self._runtime.take_over(execution.id)
            except PlaitError as exc:
                self._store.release_driver(execution.id, self._driver)
                log.warning("could not take over execution %s: %s", execution.id, exc)
                continue
            if started is None:  # it ended meanwhile
                self._store.release_driver(execution.id, self._driver)
                continue
            taken.append(execution.id)
        if taken:
            log.warning("took over %d execution(s): %s", len(taken), ", ".join(taken))
        return taken


def _gone(execution: Execution, holder: str) -> bool:
    """Whether the lease's holder is a process of this host that is gone (no need to wait for
    its lease to expire)."""
    host = holder.rpartition(":")[0]
    return (
        holder == execution.driver
        and host == socket.gethostname()
        and holder != driver_id()
        and not driver_alive(execution)
    )
