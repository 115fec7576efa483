"""The shared work-queue contract, for repositories several processes and machines share.

A repository plugin whose database can carry work between processes (plait-postgres does)
exposes its queue: its store has a method ``work_queue()`` returning a :class:`WorkQueueStore`.
There is no separate hook because the queue cannot be chosen apart from the repository: work
is enqueued in the same transaction as the state change that causes it (the store's
``save_state`` takes the items to submit), so both must live in one database. A repository
without ``work_queue()`` (the built-in SQLite one) keeps executions in the process that runs
them.

Everything here is document level: ids, numbers and JSON-ready dicts, no core types. The
kernel adapts it to its executor (``plait.executor.shared_queue``).

The life of an item:

- the driver of an execution **submits** an item (a task run stored RUNNING, its attempt);
- a worker **claims** it for a lease (``lease_seconds``), renewed by heartbeats
  (:meth:`WorkQueueStore.renew`); an item whose lease expired (its worker died) is claimed
  again by another worker, which runs the task run as a new attempt (``ClaimedItem.lost``
  names the workers that lost it);
- the worker **completes** it with a result document, only while its claim still holds (its
  token is the last one handed out): a worker that lost its lease has its completion ignored,
  so a task run gets exactly one result;
- the driver reads the **results** of its execution, in completion order.

Drivers themselves hold a lease per execution (:meth:`WorkQueueStore.acquire_driver`), so that
several servers never drive one execution and a server that died has its executions taken
over once its leases expire.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

ClaimStatus = Literal["held", "cancelled"]
"""A renewed claim: still held, or held but its execution is being killed (stop the task)."""


@dataclass(frozen=True)
class QueueItem:
    """One task run to run: ``attempt`` is the attempt number the driver dispatched."""

    execution_id: str
    taskrun_id: str
    attempt: int


@dataclass(frozen=True)
class LostClaim:
    """A claim whose worker stopped renewing its lease (killed, frozen, cut off)."""

    worker: str
    claimed: datetime
    expired: datetime


@dataclass(frozen=True)
class ClaimedItem:
    item: QueueItem
    token: str
    """This claim's fencing token: completing and renewing need it to still be the item's."""
    lost: tuple[LostClaim, ...] = ()
    """Earlier claims of the item that expired, oldest first: each was an attempt that failed."""
    cancelled: bool = False
    """The execution is being killed: complete the item KILLED without running it."""


@dataclass(frozen=True)
class QueueResult:
    """A completed item: ``document`` is the worker's result (``state``, ``attempts`` as
    attempt documents, ``outputs``, ``error``); ``seq`` orders the results of an execution by
    completion."""

    item: QueueItem
    document: Mapping[str, Any]
    seq: int


@dataclass(frozen=True)
class InFlight:
    """What the queue holds for one execution: items queued or claimed, and results not yet
    forgotten (a driver taking an execution over adopts them instead of running them again)."""

    items: tuple[QueueItem, ...] = ()
    results: tuple[QueueResult, ...] = field(default=())


class WorkQueueStore(Protocol):
    def submit(self, items: Sequence[QueueItem]) -> None:
        """Queue items outside a state change (the store's ``save_state(..., submit=items)``
        queues them inside one). A task run has one item: submitting it again replaces it."""
        ...

    def claim(
        self, worker: str, limit: int, lease_seconds: float, wait: float
    ) -> list[ClaimedItem]:
        """Claim up to ``limit`` items, oldest first, for ``lease_seconds``: queued ones and
        those whose lease expired; wait up to ``wait`` seconds for one when there is none."""
        ...

    def renew(
        self, worker: str, tokens: Sequence[str], lease_seconds: float
    ) -> dict[str, ClaimStatus]:
        """Extend the leases of the worker's claims; a token missing from the answer was lost
        (another worker claimed the item again): its task must stop, its result is ignored."""
        ...

    def complete(self, claim: ClaimedItem, result: Mapping[str, Any]) -> bool:
        """Store the result and remove the item in one transaction, only if the claim still
        holds; False (nothing stored) when it was lost."""
        ...

    def drop(self, claim: ClaimedItem) -> None:
        """Remove a claimed item without a result (it names an attempt nobody awaits)."""
        ...

    def results(self, execution_id: str, timeout: float) -> list[QueueResult]:
        """Take the execution's results not taken yet, in completion order, waiting up to
        ``timeout`` seconds for one when there is none. (Not a cursor on ``seq``: results
        commit in another order than they were numbered, and none may be skipped.)"""
        ...

    def in_flight(self, execution_id: str) -> InFlight:
        """Items and results the queue holds for the execution."""
        ...

    def cancel(self, execution_id: str) -> None:
        """Mark the execution's items cancelled: workers running them stop them."""
        ...

    def forget(self, execution_id: str) -> None:
        """Drop the items and results of an execution that ended."""
        ...

    def acquire_driver(
        self, execution_id: str, driver: str, lease_seconds: float, *, dead: str | None = None
    ) -> bool:
        """Take the lease on driving the execution: free, expired, already ``driver``'s, or held
        by ``dead`` (a driver known to be gone); False when another driver holds it. Taking it
        makes the execution's results untaken again: a driver taking it over reads them all."""
        ...

    def renew_drivers(
        self, driver: str, execution_ids: Sequence[str], lease_seconds: float
    ) -> set[str]:
        """Extend the driver's leases; the ids whose lease it still holds."""
        ...

    def release_driver(self, execution_id: str, driver: str) -> None: ...

    def drivers(self, execution_ids: Sequence[str]) -> dict[str, str]:
        """The driver holding an unexpired lease on each of these executions (if any)."""
        ...

    def close(self) -> None: ...
