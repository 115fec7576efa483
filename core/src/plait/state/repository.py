"""The execution repository contract: where executions, their logs and flow revisions live.

The engine and the CLI speak only this protocol, so a plugin can replace the built-in SQLite
store (``register_repositories``) with a server database without touching either.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from plait.state.model import Execution, LogEntry, StoredFlow, TaskRun


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

    def append_logs(self, entries: Sequence[LogEntry]) -> None:
        """Store log lines, all of them or none."""
        ...

    def logs(self, execution_id: str, *, task_id: str | None = None) -> list[LogEntry]:
        """Log lines of an execution (optionally of one task), in the order they were appended."""
        ...

    def save_flow(self, namespace: str, flow_id: str, source: str) -> int:
        """Store a flow's source as a new revision and return it; a source identical to the
        latest revision's keeps that revision (re-running a flow does not bump it)."""
        ...

    def get_flow(self, namespace: str, flow_id: str, revision: int | None = None) -> StoredFlow:
        """A stored revision (the latest by default); :class:`plait.errors.NotFoundError`."""
        ...

    def close(self) -> None: ...
