"""A plugin's document-level :class:`plait_sdk.state.StateStore` seen as the engine's
:class:`~plait.state.repository.ExecutionRepository`.

Plugins cannot import the core's model, so they store documents (Kestra's shapes, plain JSON);
this adapter converts the model to and from them, method for method, and turns the store's SDK
errors into the core's user-facing ones (no traceback: the message names the missing execution
or the unreachable database).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from plait_sdk.errors import StateError, StateNotFound
from plait_sdk.queue import QueueItem, WorkQueueStore
from plait_sdk.repository import RepositoryFactory
from plait_sdk.state import Document, ExecutionChanges, StateStore

from plait.errors import NotFoundError, PlaitError
from plait.state.kv import KVEntry, storable
from plait.state.model import (
    Execution,
    LogEntry,
    StoredFlow,
    TaskRun,
    TriggerState,
    format_datetime,
    json_default,
    parse_datetime,
)


def open_repository(factory: RepositoryFactory, home: Path, options: Mapping[str, Any]) -> Any:
    """What ``factory`` builds, as an ExecutionRepository: a StateStore is wrapped, and its
    errors while opening (no DSN, database unreachable) become the core's."""
    built = _translated(factory)(home, options)
    return DocumentRepository(built) if isinstance(built, StateStore) else built


def _translated(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` raising the core's errors for the SDK's: NotFoundError, else PlaitError."""

    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except StateNotFound as exc:
            raise NotFoundError(str(exc)) from exc
        except StateError as exc:
            raise PlaitError(str(exc)) from exc

    return call


def plain(document: dict[str, Any]) -> Document:
    """The document with every value a JSON type (dates, durations as Kestra writes them)."""
    return cast(Document, json.loads(json.dumps(document, default=json_default)))


def _date(value: datetime | None) -> str | None:
    return None if value is None else format_datetime(value)


def _execution(execution: Execution) -> Document:
    return plain(execution.to_document(stored=True, task_runs=False))


def _runs(runs: Sequence[TaskRun]) -> list[Document]:
    return [plain(run.to_document(stored=True)) for run in runs]


def _log(entry: LogEntry) -> Document:
    return {
        "executionId": entry.execution_id,
        "taskId": entry.task_id,
        "taskRunId": entry.taskrun_id,
        "level": entry.level,
        "message": entry.message,
        "timestamp": format_datetime(entry.timestamp),
    }


def _flow(doc: Document) -> StoredFlow:
    created = parse_datetime(doc["created"])
    return StoredFlow(
        doc["namespace"],
        doc["id"],
        int(doc["revision"]),
        doc["source"],
        created,
        bool(doc.get("deleted", False)),
    )


def _kv(doc: Document) -> KVEntry:
    expires = doc.get("expires")
    return KVEntry(
        doc["namespace"],
        doc["key"],
        doc["value"],
        doc["type"],
        parse_datetime(doc["created"]),
        parse_datetime(doc["updated"]),
        None if expires is None else parse_datetime(expires),
    )


class _Translating:
    """A store (or its work queue), every method :func:`_translated`."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Callable[..., Any]:
        return _translated(getattr(self._store, name))


class DocumentRepository:
    """:class:`~plait.state.repository.ExecutionRepository` over a document store; every
    method's semantics are the store's (see :class:`plait_sdk.state.StateStore`)."""

    def __init__(self, store: StateStore) -> None:
        self.store = store
        self._store = cast(StateStore, _Translating(store))

    # -- executions ----------------------------------------------------------------------------

    def save(self, execution: Execution) -> None:
        self._store.save(_execution(execution), _runs(execution.task_runs))

    def save_state(
        self, execution: Execution, runs: Sequence[TaskRun], *, submit: Sequence[QueueItem] = ()
    ) -> None:
        """``submit``: work items to enqueue in the same transaction (stores with a shared work
        queue only; passed on only when there are some)."""
        extra = {"submit": submit} if submit else {}
        self._store.save_state(_execution(execution), _runs(runs), **extra)

    def work_queue(self) -> WorkQueueStore | None:
        """The store's shared work queue (its errors translated), or None when it has none."""
        factory = getattr(self.store, "work_queue", None)
        return None if factory is None else cast(WorkQueueStore, _Translating(factory()))

    def request_kill(self, execution_id: str) -> None:
        self._store.request_kill(execution_id)

    def kill_requested(self, execution_id: str) -> bool:
        return self._store.kill_requested(execution_id)

    def acquire_slot(self, execution: Execution, limit: int) -> bool:
        return self._store.acquire_slot(_execution(execution), limit)

    def get(self, execution_id: str) -> Execution:
        return Execution.from_document(self._store.get(execution_id))

    def changes_since(self, execution_id: str, after: int) -> tuple[Execution, int, bool]:
        """The execution with the task runs stored after its change number ``after``, its
        change number now, and whether those are all its task runs (see
        :class:`plait_sdk.state.ExecutionChanges`); from a store without ``changes_since``,
        every task run (``get``)."""
        if getattr(self.store, "changes_since", None) is None:
            return self.get(execution_id), 0, True
        found: ExecutionChanges = cast(Any, self._store).changes_since(execution_id, after)
        return Execution.from_document(found.execution), found.change, found.complete

    def list(
        self, *, namespace: str | None = None, flow_id: str | None = None, limit: int = 50
    ) -> list[Execution]:
        found = self._store.list(namespace=namespace, flow_id=flow_id, limit=limit)
        return [Execution.from_document(doc) for doc in found]

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
        found, total = self._store.search(
            namespace=namespace,
            flow_id=flow_id,
            states=states,
            page=page,
            size=size,
            started_from=None if started_from is None else format_datetime(started_from),
            started_to=None if started_to is None else format_datetime(started_to),
            labels=labels,
        )
        return [Execution.from_document(doc) for doc in found], total

    def ended_since(self, after: str, limit: int = 500) -> list[Execution]:
        return [Execution.from_document(doc) for doc in self._store.ended_since(after, limit)]

    # -- logs ----------------------------------------------------------------------------------

    def append_logs(self, entries: Sequence[LogEntry]) -> None:
        if entries:
            self._store.append_logs([_log(entry) for entry in entries])

    def logs(
        self, execution_id: str, *, task_id: str | None = None, after: int = 0
    ) -> list[LogEntry]:
        return [
            LogEntry(
                doc["executionId"],
                doc.get("taskId"),
                doc.get("taskRunId"),
                doc["level"],
                doc["message"],
                parse_datetime(doc["timestamp"]),
            )
            for doc in self._store.logs(execution_id, task_id=task_id, after=after)
        ]

    # -- flows ---------------------------------------------------------------------------------

    def save_flow(self, namespace: str, flow_id: str, source: str) -> int:
        return self._store.save_flow(namespace, flow_id, source)

    def get_flow(self, namespace: str, flow_id: str, revision: int | None = None) -> StoredFlow:
        return _flow(self._store.get_flow(namespace, flow_id, revision))

    def flow_revisions(self, namespace: str, flow_id: str) -> list[StoredFlow]:
        return [_flow(doc) for doc in self._store.flow_revisions(namespace, flow_id)]

    def list_flows(self, *, namespace: str | None = None, q: str | None = None) -> list[StoredFlow]:
        return [_flow(doc) for doc in self._store.list_flows(namespace=namespace, q=q)]

    def flows_stamp(self) -> tuple[int, int, int]:
        return self._store.flows_stamp()

    def delete_flow(self, namespace: str, flow_id: str) -> None:
        self._store.delete_flow(namespace, flow_id)

    # -- triggers ------------------------------------------------------------------------------

    def trigger_states(self, namespace: str | None = None) -> list[TriggerState]:
        return [
            TriggerState(
                doc["namespace"], doc["flowId"], doc["triggerId"], doc["date"], doc["disabled"]
            )
            for doc in self._store.trigger_states(namespace)
        ]

    def claim_trigger(
        self, namespace: str, flow_id: str, trigger_id: str, previous: str | None, date: str
    ) -> bool:
        return self._store.claim_trigger(namespace, flow_id, trigger_id, previous, date)

    def set_trigger_disabled(
        self, namespace: str, flow_id: str, trigger_id: str, disabled: bool
    ) -> None:
        self._store.set_trigger_disabled(namespace, flow_id, trigger_id, disabled)

    # -- KV store ------------------------------------------------------------------------------

    def kv_get(self, namespace: str, key: str) -> KVEntry | None:
        doc = self._store.kv_get(namespace, key)
        return None if doc is None else _kv(doc)

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
        checked = json.loads(storable(value))  # PlaitError naming why it is not JSON
        return self._store.kv_put(
            namespace, key, checked, kv_type, expires=_date(expires), overwrite=overwrite
        )

    def kv_delete(self, namespace: str, key: str) -> bool:
        return self._store.kv_delete(namespace, key)

    def kv_list(self, namespace: str | None = None) -> list[KVEntry]:
        return [_kv(doc) for doc in self._store.kv_list(namespace)]

    # -- task cache ----------------------------------------------------------------------------

    def cached_outputs(
        self, namespace: str, flow_id: str, task_id: str, key: str, *, since: datetime | None
    ) -> tuple[dict[str, Any], str] | None:
        return self._store.cached_outputs(namespace, flow_id, task_id, key, since=_date(since))

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
        self._store.cache_outputs(
            namespace, flow_id, task_id, key, plain(outputs), execution_id, since=_date(since)
        )

    def close(self) -> None:
        self._store.close()
