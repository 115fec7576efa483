"""Workers pulling task runs from a shared queue (``plait worker``, and a server's own pool):
claim items, run each in a thread from the execution as stored, complete them.

A claim is a lease, renewed by a heartbeat. A worker that dies (``kill -9``) stops renewing:
once the lease expires another worker claims the item and runs the task run again as a new
attempt, the lost one recorded FAILED. A worker that merely stalled past its lease finds its
claim gone at the next renewal: it stops the task, and its completion is refused (the queue
fences it with the claim's token), so a task run never runs twice at once and gets one result.
Kills travel the same way: a renewal answers "cancelled" and the task is stopped.
"""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from plait_sdk.queue import ClaimedItem, LostClaim, WorkQueueStore

from plait.errors import PlaitError
from plait.executor.execution_views import ExecutionViews
from plait.executor.flow_cache import FlowCache
from plait.executor.queue import WorkItem, WorkResult
from plait.executor.runner import ExecutionRun, driver_id
from plait.executor.shared_queue import Heartbeat, heartbeat_seconds, result_document
from plait.executor.worker import run_task_run
from plait.state.model import Attempt, State, StateChange, TaskRun

if TYPE_CHECKING:
    from plait.executor.services import EngineServices

CLAIM_WAIT_SECONDS = 0.5
"""How long one claim waits for work: a stop request waits for the claim in progress (its items
must be run), so this bounds how long stopping an idle pool takes."""


def default_concurrency() -> int:
    """How many task runs a worker runs at once unless told: one per core."""
    return os.cpu_count() or 1


@dataclass
class _Running:
    claim: ClaimedItem
    job: ExecutionRun | None = None
    stop: bool = False
    """Lost or cancelled: the task is to stop (applied to the job once it exists)."""
    thread: threading.Thread | None = field(default=None, repr=False)


def lost_attempt(lost: LostClaim) -> Attempt:
    """The attempt a worker that vanished was making: FAILED when its lease expired."""
    return Attempt(
        State.FAILED,
        [StateChange(State.RUNNING, lost.claimed), StateChange(State.FAILED, lost.expired)],
    )


class WorkerPool:
    """Up to ``concurrency`` task runs at once, claimed from ``store`` by worker ``name``."""

    def __init__(
        self,
        engine: EngineServices,
        store: WorkQueueStore,
        concurrency: int,
        lease: float,
        name: str | None = None,
    ) -> None:
        self.engine = engine
        self.name = name or driver_id()
        self._store = store
        self.concurrency = concurrency
        self._lease = lease
        self._running: dict[str, _Running] = {}
        self._lock = threading.Lock()
        self._freed = threading.Event()
        self._views = ExecutionViews(engine, FlowCache(engine))
        self._heartbeat = Heartbeat(self._renew, heartbeat_seconds(lease), "worker-leases")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the loop ------------------------------------------------------------------------------

    def start(self) -> WorkerPool:
        """Run the loop in a background thread (a server's or ``plait run``'s own pool)."""
        self._thread = threading.Thread(
            target=self.run, args=(self._stop,), name="plait-worker-pool", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop claiming; wait for the task runs in progress (see :meth:`run`)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def run(self, stop: threading.Event) -> None:
        """Claim and run items until ``stop`` is set, then finish the ones in progress."""
        self._heartbeat.start()
        try:
            while not stop.is_set():
                free = self.concurrency - self.busy()
                if free <= 0:
                    self._freed.wait(CLAIM_WAIT_SECONDS)
                    self._freed.clear()
                    continue
                try:
                    claims = self._store.claim(self.name, free, self._lease, CLAIM_WAIT_SECONDS)
                except PlaitError as exc:  # the database stayed away: keep trying
                    print(f"plait worker: {exc}", file=sys.stderr)
                    stop.wait(CLAIM_WAIT_SECONDS)
                    continue
                for claim in claims:
                    self._start(claim)
            self._drain()
        finally:
            self._heartbeat.stop()

    def busy(self) -> int:
        with self._lock:
            return len(self._running)

    def _start(self, claim: ClaimedItem) -> None:
        entry = _Running(claim, stop=claim.cancelled)
        thread = threading.Thread(
            target=self._work, args=(entry,), name=f"task-{claim.item.taskrun_id}", daemon=True
        )
        entry.thread = thread
        with self._lock:
            self._running[claim.token] = entry
        thread.start()

    def _drain(self) -> None:
        with self._lock:
            threads = [entry.thread for entry in self._running.values()]
        for thread in threads:
            if thread is not None:
                thread.join()

    # -- one item ------------------------------------------------------------------------------

    def _work(self, entry: _Running) -> None:
        claim = entry.claim
        try:
            result = self._execute(entry)
            if result is not None and not self._store.complete(claim, result_document(result)):
                print(
                    f"plait worker: task run {claim.item.taskrun_id} was claimed again by "
                    "another worker (this one's lease expired): its result is dropped",
                    file=sys.stderr,
                )
        except Exception as exc:  # the database stayed away, or a bug: the lease expires and
            # another worker runs the task run again
            print(f"plait worker: task run {claim.item.taskrun_id}: {exc}", file=sys.stderr)
        finally:
            with self._lock:
                self._running.pop(claim.token, None)
            self._freed.set()

    def _execute(self, entry: _Running) -> WorkResult | None:
        """Run the claimed task run; None (the item dropped) when nobody awaits it any more."""
        item = entry.claim.item
        shared = self._views.current(item.execution_id)
        run = _awaited(shared, item.taskrun_id, item.attempt)
        if shared is None or run is None:
            self._store.drop(entry.claim)
            return None
        job = shared.for_task_run()
        with self._lock:
            entry.job = job
            stop = entry.stop
        if stop:
            job.cancel_tasks()
        lost = [lost_attempt(claim) for claim in entry.claim.lost]
        number = item.attempt + len(lost)
        for offset, claim in enumerate(entry.claim.lost):
            job.record_log(
                "WARN",
                f"attempt {item.attempt + offset} failed: worker {claim.worker} stopped renewing "
                f"its lease (expired {claim.expired.isoformat()}); running attempt "
                f"{number} on worker {self.name}",
                run.task_id,
                run.id,
            )
        result = run_task_run(job, WorkItem(item.execution_id, item.taskrun_id, number))
        result.attempt = item.attempt  # what the driver awaits
        result.attempts[:0] = lost
        return result

    def _renew(self) -> None:
        with self._lock:
            tokens = list(self._running)
        statuses = self._store.renew(self.name, tokens, self._lease)
        halting = []
        with self._lock:
            for token in tokens:
                entry = self._running.get(token)
                if entry is not None and statuses.get(token) != "held":  # lost or cancelled
                    entry.stop = True
                    halting.append(entry.job)
        for job in halting:
            if job is not None:
                job.cancel_tasks()


def _awaited(job: ExecutionRun | None, taskrun_id: str, attempt: int) -> TaskRun | None:
    """The task run an item names, if its driver still awaits that attempt (else the item is
    stale: the execution ended, was restarted, or the run moved on)."""
    if job is None or job.execution.state.is_terminal:
        return None
    run = job.index.runs.get(taskrun_id)
    awaited = run is not None and run.state is State.RUNNING and len(run.attempts) == attempt
    return run if awaited else None
