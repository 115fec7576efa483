"""The execution repository contract: where executions, their logs and flow revisions live.

The engine and the CLI speak only this protocol, so a plugin can replace the built-in SQLite
store (``register_repositories``) with a server database without touching either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from plait.state.kv import KVEntry
from plait.state.model import Execution, LogEntry, StoredFlow, TaskRun, TriggerState


@runtime_checkable
class ExecutionRepository(Protocol):
    def save(self, execution: Execution) -> None:
        """Insert or replace the execution with exactly its task runs (a task run the store
        has and the execution no longer lists is deleted), all of it or nothing."""
        ...

    def save_state(self, execution: Execution, runs: Sequence[TaskRun]) -> None:
        """Record a state change in one transaction: the execution's own fields and the task
        runs that changed (inserted or replaced). Its cost must not grow with the number of
        task runs the execution already has: the executor calls it on every change."""
        ...

    def request_kill(self, execution_id: str) -> None:
        """Record that an execution is to be killed: whichever process drives it notices
        (kills work across the processes sharing a home). Saving it ended forgets it."""
        ...

    def kill_requested(self, execution_id: str) -> bool:
        """Whether a kill of the execution was requested (and it has not ended since)."""
        ...

    def acquire_slot(self, execution: Execution, limit: int) -> bool:
        """Store the execution (in state RUNNING) only if fewer than ``limit`` other executions
        of its flow are running, in one transaction; False (nothing stored) otherwise."""
        ...

    def get(self, execution_id: str) -> Execution:
        """The execution with this id, or with this unique id prefix.

        Raises :class:`plait.errors.NotFoundError` when nothing matches or a prefix is ambiguous.
        """
        ...

    def list(
        self, *, namespace: str | None = None, flow_id: str | None = None, limit: int = 50
    ) -> list[Execution]:
        """Executions, newest first."""
        ...

    def search(
        self,
        *,
        namespace: str | None = None,
        flow_id: str | None = None,
        states: Sequence[str] = (),
        page: int = 1,
        size: int = 10,
        started_from: datetime | None = None,
        started_to: datetime | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> tuple[list[Execution], int]:
        """One page of executions, newest first, and how many match in all; ``namespace``
        matches its child namespaces too (as Kestra's search does); ``started_from`` /
        ``started_to`` bound the creation instant (inclusive); ``labels``: every one of them,
        with that value."""
        ...

    def append_logs(self, entries: Sequence[LogEntry]) -> None:
        """Store log lines, all of them or none."""
        ...

    def logs(
        self, execution_id: str, *, task_id: str | None = None, after: int = 0
    ) -> list[LogEntry]:
        """Log lines of an execution (optionally of one task), in the order they were appended,
        without the first ``after`` of them: a follower asks only for the lines it has not
        shown, so following a long run does not re-read it all on every poll."""
        ...

    def save_flow(self, namespace: str, flow_id: str, source: str) -> int:
        """Store a flow's source as a new revision and return it; a source identical to the
        latest revision's keeps that revision (re-running a flow does not bump it)."""
        ...

    def get_flow(self, namespace: str, flow_id: str, revision: int | None = None) -> StoredFlow:
        """A stored revision (the latest by default); :class:`plait.errors.NotFoundError`."""
        ...

    def flow_revisions(self, namespace: str, flow_id: str) -> list[StoredFlow]:
        """Every stored revision of a flow, oldest first (deleted ones too)."""
        ...

    def list_flows(self, *, namespace: str | None = None, q: str | None = None) -> list[StoredFlow]:
        """The latest revision of every flow that is not deleted."""
        ...

    def flows_stamp(self) -> tuple[int, int, int]:
        """A value that changes whenever a flow revision is saved or a flow deleted: the
        scheduler compares it on every tick instead of reading every flow's source."""
        ...

    def delete_flow(self, namespace: str, flow_id: str) -> None:
        """Mark a flow deleted; its revisions stay for the executions that ran them."""
        ...

    def trigger_states(self, namespace: str | None = None) -> list[TriggerState]:
        """The stored state of every trigger seen so far."""
        ...

    def claim_trigger(
        self, namespace: str, flow_id: str, trigger_id: str, previous: str | None, date: str
    ) -> bool:
        """Compare-and-set a trigger's last date: False when ``previous`` is not the stored one
        (another process fired it), so a date fires once whatever runs."""
        ...

    def set_trigger_disabled(
        self, namespace: str, flow_id: str, trigger_id: str, disabled: bool
    ) -> None: ...

    def ended_since(self, after: str, limit: int = 500) -> list[Execution]:
        """Executions that ended after ``after``, oldest end first (Flow triggers read them)."""
        ...

    def kv_get(self, namespace: str, key: str) -> KVEntry | None:
        """The KV entry stored under ``key``, expired or not; None when there is none."""
        ...

    def kv_put(
        self,
        namespace: str,
        key: str,
        value: Any,
        kv_type: str,
        *,
        expires: datetime | None = None,
        overwrite: bool = True,
    ) -> bool:
        """Store a JSON value with its Kestra type; False (nothing stored) when ``overwrite``
        is false and the key holds a value that has not expired."""
        ...

    def kv_delete(self, namespace: str, key: str) -> bool:
        """Remove a key; False when nothing was stored under it."""
        ...

    def kv_list(self, namespace: str | None = None) -> list[KVEntry]:
        """Entries that have not expired, by namespace and key (every namespace when None)."""
        ...

    def cached_outputs(
        self, namespace: str, flow_id: str, task_id: str, key: str, *, since: datetime | None
    ) -> tuple[dict[str, Any], str] | None:
        """A task's outputs cached under ``key`` (a hash of its rendered properties) after
        ``since`` (any age when None), and the id of the execution that produced them."""
        ...

    def cache_outputs(
        self,
        namespace: str,
        flow_id: str,
        task_id: str,
        key: str,
        outputs: dict[str, Any],
        execution_id: str,
        *,
        since: datetime | None,
    ) -> None:
        """Cache a task's outputs under ``key`` (replacing what was there); the task's entries
        cached before ``since`` are dropped."""
        ...

    def close(self) -> None: ...
