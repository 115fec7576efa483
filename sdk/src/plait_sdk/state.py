"""The document-level state contract: what a plugin implements to keep plait's execution state
in a database of its own (PostgreSQL, a cloud store) without importing the core.

The core's ``ExecutionRepository`` speaks the core's model classes, which a plugin cannot import.
A :class:`StateStore` speaks their documents instead, and the core wraps it (the factory
registered with ``register_repositories`` may return either). Each method mirrors the
repository method of the same name one for one.

Documents are plain JSON values (dicts, lists, str, int, float, bool, None) in Kestra's shapes:

- **execution**: Kestra's execution document *without* ``taskRunList``, as stored (it carries
  keys only the engine reads, such as ``driver``). The store reads these keys for its indexed
  columns and treats the rest as opaque: ``id``, ``namespace``, ``flowId``, ``flowRevision``,
  ``parentId``, ``state.current``, ``state.histories[0].date`` (created) and ``state.endDate``
  (ended, null while running). Methods returning an execution return this document with
  ``taskRunList`` added: its task run documents in the order they were first stored.
- **task run**: Kestra's task run document, keyed by its ``id`` (unique across executions).
- **log**: ``{"executionId", "taskId", "taskRunId", "level", "message", "timestamp"}``.
- **flow**: ``{"namespace", "id", "revision", "source", "created"}``.
- **trigger state**: ``{"namespace", "flowId", "triggerId", "date", "disabled"}``; ``date`` is
  the date it last fired for (or a Flow trigger's watermark), null if never.
- **KV entry**: ``{"namespace", "key", "value", "type", "created", "updated", "expires"}``;
  ``value`` is the JSON value, ``type`` its Kestra type, ``expires`` null for never.

Dates are ISO-8601 text in UTC with microseconds and a ``Z`` (``2024-05-01T10:00:00.000000Z``):
such texts sort by time, and every date a store receives or returns has this form.

A store whose database can carry work between processes also has ``work_queue()`` returning a
:class:`plait_sdk.queue.WorkQueueStore` (optional: not part of this protocol). Its workers run
many task runs of one execution, each needing the outputs stored before it: such a store may
also have ``changes_since(execution_id, after) -> ExecutionChanges`` (optional, see
:class:`ExecutionChanges`), so that a worker refreshes the execution it holds with what changed
instead of reading all of it for every task run. Without it workers call ``get``.

Errors: :class:`plait_sdk.errors.StateNotFound` where a method says "not found";
:class:`plait_sdk.errors.StateUnavailable` when the backend cannot be reached (after the store's
own retries). Every writing method is one transaction: all of it or nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

if TYPE_CHECKING:
    from plait_sdk.queue import QueueItem

Document = dict[str, Any]

STATE_CONTRACT = 1
"""The version of this contract; a store sets ``state_contract`` to the version it implements."""

SLOT_STATES = ("RUNNING", "RESTARTED", "KILLING", "PAUSED")
"""States in which an execution holds one of its flow's concurrency slots (``acquire_slot``)."""


class ExecutionChanges(NamedTuple):
    """What ``changes_since(execution_id, after)`` returns: the execution (its exact id;
    StateNotFound when there is none) as stored now, with the task runs stored after its change
    number ``after``.

    Every write that stores the execution (``save``, ``save_state``, ``acquire_slot``) gives it
    its next change number, and the task runs it stores carry that number. Within one execution
    the numbers follow the order the writes commit in: a reader that sees change ``n`` sees
    every change before it. The execution and its task runs are read at one moment."""

    execution: Document
    """The execution document; ``taskRunList`` holds the task runs stored after ``after`` (in
    the order first stored), or every task run when ``complete``."""
    change: int
    """The execution's change number as read: the ``after`` of the next call."""
    complete: bool
    """``taskRunList`` is every task run: ``after`` was 0, or a ``save`` replaced the task runs
    since (some may be gone): the caller starts over from this document."""


@runtime_checkable
class StateStore(Protocol):
    """Executions, task runs, logs, flow revisions, trigger state, KV entries and cached task
    outputs, shared by every process of one installation (a store must be safe to use from
    several threads and from several processes, on several machines, at once)."""

    state_contract: int
    """:data:`STATE_CONTRACT`: how the core tells a store from a core repository."""

    # -- executions ----------------------------------------------------------------------------

    def save(self, execution: Document, task_runs: Sequence[Document]) -> None:
        """Insert or replace the execution with exactly ``task_runs`` (stored task runs of it
        that are not listed are deleted), in that order. When the execution has ended
        (``state.endDate`` set), a kill request for it is forgotten."""
        ...

    def save_state(
        self,
        execution: Document,
        task_runs: Sequence[Document],
        *,
        submit: Sequence[QueueItem] = (),
    ) -> None:
        """Insert or replace the execution and insert or replace the given task runs (others
        stay; a replaced task run keeps its place in the order). Called on every state change:
        its cost must not grow with the number of task runs already stored. Forgets a kill
        request like :meth:`save`. A store with a shared work queue (``work_queue()``, see
        :mod:`plait_sdk.queue`) enqueues ``submit`` in the same transaction; the core passes
        ``submit`` only to such stores."""
        ...

    def request_kill(self, execution_id: str) -> None:
        """Record that the execution is to be killed (idempotent)."""
        ...

    def kill_requested(self, execution_id: str) -> bool:
        """Whether a kill was requested and the execution has not been saved ended since."""
        ...

    def acquire_slot(self, execution: Document, limit: int) -> bool:
        """Store the execution (its task runs untouched) only if fewer than ``limit`` *other*
        executions of its namespace and flow are in one of :data:`SLOT_STATES`; False, with
        nothing stored, otherwise. Check and store are atomic across processes: two callers
        never both take the last slot."""
        ...

    def get(self, execution_id: str) -> Document:
        """The execution with this id, else the only one whose id starts with it.
        StateNotFound when none matches, when the prefix matches several (the message names a
        few), or when ``execution_id`` is empty."""
        ...

    def list(
        self, *, namespace: str | None = None, flow_id: str | None = None, limit: int = 50
    ) -> list[Document]:
        """At most ``limit`` (>= 1, else ValueError) executions, newest created first;
        ``namespace`` matches exactly (not its children)."""
        ...

    def search(
        self,
        *,
        namespace: str | None = None,
        flow_id: str | None = None,
        states: Sequence[str] = (),
        page: int = 1,
        size: int = 10,
        started_from: str | None = None,
        started_to: str | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> tuple[list[Document], int]:
        """Page ``page`` (from 1) of ``size`` executions, newest created first, and how many
        match in all. ``namespace`` matches it and its children (``a`` matches ``a.b``, not
        ``ab``); ``states`` any of them when not empty; ``started_from``/``started_to`` (ISO
        dates) bound the creation date, inclusive; ``labels``: every one of them, with that
        value. ValueError when page or size < 1."""
        ...

    def ended_since(self, after: str, limit: int = 500) -> list[Document]:
        """At most ``limit`` executions whose end date is after the date ``after``, oldest
        end first."""
        ...

    # -- logs ----------------------------------------------------------------------------------

    def append_logs(self, entries: Sequence[Document]) -> None:
        """Store log lines, all or none."""
        ...

    def logs(
        self, execution_id: str, *, task_id: str | None = None, after: int = 0
    ) -> list[Document]:
        """An execution's log lines (only ``task_id``'s when given), in the order appended,
        without the first ``after`` of them (followers poll for the lines they have not seen);
        each append's lines stay together and in order (appends from several processes at the
        same moment may interleave in either order, but always the same on every read)."""
        ...

    # -- flows ---------------------------------------------------------------------------------

    def save_flow(self, namespace: str, flow_id: str, source: str) -> int:
        """Store ``source`` as the flow's next revision (1 for a new flow) and return it; when
        the latest revision has the identical source and is not deleted, return that revision
        and store nothing. Saving a deleted flow revives it with a new revision."""
        ...

    def get_flow(self, namespace: str, flow_id: str, revision: int | None = None) -> Document:
        """The given revision (deleted or not), else the latest revision of a flow that is not
        deleted. StateNotFound naming what is missing (no such flow, deleted, no such
        revision and the latest one)."""
        ...

    def flow_revisions(self, namespace: str, flow_id: str) -> list[Document]:
        """Every revision, oldest first, deleted ones too (``deleted: true`` in the documents of
        a deleted flow); StateNotFound when there is none."""
        ...

    def list_flows(self, *, namespace: str | None = None, q: str | None = None) -> list[Document]:
        """The latest revision of every flow that is not deleted, by namespace then id;
        ``namespace`` matches its children too, ``q`` any part of ``namespace.id`` ignoring
        case."""
        ...

    def flows_stamp(self) -> tuple[int, int, int]:
        """A value that differs after any revision is saved or flow deleted (read on every
        scheduler tick instead of every flow's source)."""
        ...

    def delete_flow(self, namespace: str, flow_id: str) -> None:
        """Mark every revision of the flow deleted (they stay readable by revision);
        StateNotFound when the flow does not exist or is already deleted."""
        ...

    # -- triggers ------------------------------------------------------------------------------

    def trigger_states(self, namespace: str | None = None) -> list[Document]:
        """Every stored trigger state (of exactly ``namespace`` when given), by namespace,
        flow id, trigger id."""
        ...

    def claim_trigger(
        self, namespace: str, flow_id: str, trigger_id: str, previous: str | None, date: str
    ) -> bool:
        """Compare-and-set: set the trigger's date to ``date`` if it currently is ``previous``
        (None: the trigger has no stored state, or its date is null) and return True; else
        False, changing nothing. Atomic across processes: of two claims of the same
        ``previous`` exactly one wins."""
        ...

    def set_trigger_disabled(
        self, namespace: str, flow_id: str, trigger_id: str, disabled: bool
    ) -> None:
        """Disable or enable a trigger (creating its state if needed). Enabling sets its date to
        now, so what came due while it was disabled does not fire."""
        ...

    # -- KV store ------------------------------------------------------------------------------

    def kv_get(self, namespace: str, key: str) -> Document | None:
        """The entry under ``key``, expired or not (the caller checks); None when none."""
        ...

    def kv_put(
        self,
        namespace: str,
        key: str,
        value: Any,
        kv_type: str,
        *,
        expires: str | None = None,
        overwrite: bool = True,
    ) -> bool:
        """Store a JSON value with its Kestra type and expiry date (``updated`` = now,
        ``created`` kept when replacing). First drops the namespace's expired entries. When
        ``overwrite`` is false and the key holds an unexpired value, store nothing and return
        False."""
        ...

    def kv_delete(self, namespace: str, key: str) -> bool:
        """Remove the key; False when nothing was stored under it."""
        ...

    def kv_list(self, namespace: str | None = None) -> list[Document]:
        """Entries not expired now, of ``namespace`` (exactly) or of all, by namespace, key."""
        ...

    # -- task cache ----------------------------------------------------------------------------

    def cached_outputs(
        self, namespace: str, flow_id: str, task_id: str, key: str, *, since: str | None
    ) -> tuple[Document, str] | None:
        """The outputs cached for the task under ``key`` after the date ``since`` (any age when
        None) and the id of the execution that produced them; None when there are none."""
        ...

    def cache_outputs(
        self,
        namespace: str,
        flow_id: str,
        task_id: str,
        key: str,
        outputs: Document,
        execution_id: str,
        *,
        since: str | None,
    ) -> None:
        """Cache the task's outputs under ``key`` (replacing it, dated now) and drop its entries
        cached at or before ``since``."""
        ...

    def close(self) -> None:
        """Release connections; the store is not used afterwards."""
        ...
