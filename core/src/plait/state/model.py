"""The execution-state model: what a run is, as stored, shown by the CLI and read by expressions.

Plain dataclasses rather than pydantic models: the engine mutates them on every state change and
they are saved as JSON documents, so they must be cheap to change and round-trip exactly through
:meth:`Execution.to_document` / :meth:`Execution.from_document`. State names are Kestra's, so that
people (and tools) reading an execution document meet the words they know.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import PurePath
from typing import Any

from plait.durations import format_duration

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ID_LENGTH = 22
"""62**22 > 2**128: every uuid4 fits, so ids are fixed-length and as unique as a uuid4."""


class State(StrEnum):
    CREATED = "CREATED"
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    RETRYING = "RETRYING"
    KILLING = "KILLING"
    SUCCESS = "SUCCESS"
    WARNING = "WARNING"
    FAILED = "FAILED"
    KILLED = "KILLED"
    CANCELLED = "CANCELLED"
    SKIPPED = "SKIPPED"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def is_failed(self) -> bool:
        return self in (State.FAILED, State.KILLED)

    @property
    def is_successful(self) -> bool:
        return self in (State.SUCCESS, State.WARNING, State.SKIPPED)


_TERMINAL = frozenset(
    {State.SUCCESS, State.WARNING, State.FAILED, State.KILLED, State.CANCELLED, State.SKIPPED}
)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_id() -> str:
    """A Kestra-like short id: a uuid4 written in base62 (22 characters, URL- and path-safe)."""
    number = uuid.uuid4().int
    digits = []
    while number:
        number, digit = divmod(number, 62)
        digits.append(BASE62[digit])
    return "".join(reversed(digits)).rjust(ID_LENGTH, BASE62[0])


@functools.lru_cache(maxsize=8192)
def format_datetime(value: dt.datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` and fixed microseconds, so stored strings sort by time.

    Cached: an execution is saved on every state change and each save formats every earlier
    timestamp again; equal instants format equally whatever their time zone, so this is exact.
    """
    if value.tzinfo is None:
        raise ValueError(f"datetime {value!r} has no time zone; plait stores aware UTC datetimes")
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_datetime(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _optional_datetime(text: str | None) -> dt.datetime | None:
    return None if text is None else parse_datetime(text)


def _optional_format(value: dt.datetime | None) -> str | None:
    return None if value is None else format_datetime(value)


@dataclass
class StateChange:
    state: State
    date: dt.datetime

    def to_document(self) -> dict[str, Any]:
        return {"state": str(self.state), "date": format_datetime(self.date)}

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> StateChange:
        return cls(State(doc["state"]), parse_datetime(doc["date"]))


def _history(docs: list[dict[str, Any]] | None) -> list[StateChange]:
    return [StateChange.from_document(d) for d in docs or []]


@dataclass
class TaskRun:
    id: str
    task_id: str
    state: State = State.CREATED
    attempts: int = 1
    outputs: dict[str, Any] | None = None
    error: str | None = None
    started: dt.datetime | None = None
    ended: dt.datetime | None = None
    history: list[StateChange] = field(default_factory=list)

    @classmethod
    def new(cls, task_id: str) -> TaskRun:
        run = cls(id=new_id(), task_id=task_id)
        run.history.append(StateChange(State.CREATED, utcnow()))
        return run

    def transition(self, state: State) -> None:
        """Move to ``state``; the first RUNNING sets ``started``, a terminal one ``ended``."""
        now = utcnow()
        self.state = state
        self.history.append(StateChange(state, now))
        if state is State.RUNNING and self.started is None:
            self.started = now
        if state.is_terminal:
            self.ended = now

    def to_document(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "taskId": self.task_id,
            "state": str(self.state),
            "attempts": self.attempts,
            "outputs": self.outputs,
            "error": self.error,
            "started": _optional_format(self.started),
            "ended": _optional_format(self.ended),
            "stateHistory": [change.to_document() for change in self.history],
        }

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> TaskRun:
        return cls(
            id=doc["id"],
            task_id=doc["taskId"],
            state=State(doc["state"]),
            attempts=doc.get("attempts", 1),
            outputs=doc.get("outputs"),
            error=doc.get("error"),
            started=_optional_datetime(doc.get("started")),
            ended=_optional_datetime(doc.get("ended")),
            history=_history(doc.get("stateHistory")),
        )


@dataclass
class Execution:
    id: str
    namespace: str
    flow_id: str
    flow_revision: int
    inputs: dict[str, Any]
    labels: dict[str, str]
    state: State
    created: dt.datetime
    history: list[StateChange] = field(default_factory=list)
    task_runs: list[TaskRun] = field(default_factory=list)
    outputs: dict[str, Any] | None = None
    parent_id: str | None = None
    ended: dt.datetime | None = None

    @classmethod
    def new(
        cls,
        namespace: str,
        flow_id: str,
        flow_revision: int,
        inputs: dict[str, Any],
        labels: dict[str, str],
        parent_id: str | None = None,
    ) -> Execution:
        now = utcnow()
        return cls(
            id=new_id(),
            namespace=namespace,
            flow_id=flow_id,
            flow_revision=flow_revision,
            inputs=inputs,
            labels=labels,
            state=State.CREATED,
            created=now,
            history=[StateChange(State.CREATED, now)],
            parent_id=parent_id,
        )

    def transition(self, state: State) -> None:
        """Move to ``state``; a terminal state sets ``ended``."""
        now = utcnow()
        self.state = state
        self.history.append(StateChange(state, now))
        if state.is_terminal:
            self.ended = now

    def add_task_run(self, task_id: str) -> TaskRun:
        """Start tracking a new run of ``task_id`` (state CREATED) and return it."""
        run = TaskRun.new(task_id)
        self.task_runs.append(run)
        return run

    def task_run(self, task_id: str) -> TaskRun | None:
        """The latest run of ``task_id``, or None if the task has not run in this execution."""
        for run in reversed(self.task_runs):
            if run.task_id == task_id:
                return run
        return None

    def to_document(self) -> dict[str, Any]:
        """The JSON document (camelCase keys) ``plait run --json`` prints and the store keeps."""
        return {
            "id": self.id,
            "namespace": self.namespace,
            "flowId": self.flow_id,
            "flowRevision": self.flow_revision,
            "state": str(self.state),
            "stateHistory": [change.to_document() for change in self.history],
            "inputs": self.inputs,
            "labels": self.labels,
            "outputs": self.outputs,
            "parentId": self.parent_id,
            "created": format_datetime(self.created),
            "ended": _optional_format(self.ended),
            "taskRuns": [run.to_document() for run in self.task_runs],
        }

    def to_json(self) -> str:
        """The document as JSON text; values JSON has no type for are written as Kestra does."""
        return json.dumps(self.to_document(), default=json_default, ensure_ascii=False)

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Execution:
        return cls(
            id=doc["id"],
            namespace=doc["namespace"],
            flow_id=doc["flowId"],
            flow_revision=doc.get("flowRevision", 1),
            inputs=doc.get("inputs") or {},
            labels=doc.get("labels") or {},
            state=State(doc["state"]),
            created=parse_datetime(doc["created"]),
            history=_history(doc.get("stateHistory")),
            task_runs=[TaskRun.from_document(run) for run in doc.get("taskRuns") or []],
            outputs=doc.get("outputs"),
            parent_id=doc.get("parentId"),
            ended=_optional_datetime(doc.get("ended")),
        )


def json_default(value: Any) -> Any:
    """``json.dumps`` fallback for typed input and output values (DATETIME, DURATION, ...)."""
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return format_duration(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, PurePath):
        return str(value)
    raise TypeError(f"value of type {type(value).__name__} cannot be stored as JSON: {value!r}")


@dataclass
class LogEntry:
    execution_id: str
    task_id: str | None
    taskrun_id: str | None
    level: str
    message: str
    timestamp: dt.datetime = field(default_factory=utcnow)


@dataclass
class StoredFlow:
    namespace: str
    flow_id: str
    revision: int
    source: str
    created: dt.datetime
