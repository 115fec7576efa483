"""The execution-state model: what a run is, as stored, shown by the CLI and read by expressions.

Plain dataclasses rather than pydantic models: the engine mutates them on every state change and
they are saved as JSON documents (an execution's own, and one per task run), so they must be
cheap to change and round-trip exactly through ``to_document`` / ``from_document``. The
documents have Kestra's execution shape (``state.current``, ``taskRunList``...), and state names
are Kestra's, so that people and tools reading them meet the words they know.
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
    RESTARTED = "RESTARTED"
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


def state_document(history: list[StateChange]) -> dict[str, Any]:
    """Kestra's ``state`` object: the current state, its history, start, end and duration."""
    first, last = history[0], history[-1]
    ended = last.date if last.state.is_terminal else None
    return {
        "current": str(last.state),
        "histories": [change.to_document() for change in history],
        "startDate": format_datetime(first.date),
        "endDate": _optional_format(ended),
        "duration": format_duration((ended or utcnow()) - first.date),
    }


def _history_of(doc: dict[str, Any]) -> list[StateChange]:
    return _history(doc["state"]["histories"])


class _Stateful:
    """A state with its history: the first RUNNING sets the start, a terminal state the end."""

    state: State
    history: list[StateChange]

    def transition(self, state: State, at: dt.datetime | None = None) -> None:
        self.state = state
        self.history.append(StateChange(state, at or utcnow()))

    @property
    def started(self) -> dt.datetime | None:
        return next((c.date for c in self.history if c.state is State.RUNNING), None)

    @property
    def ended(self) -> dt.datetime | None:
        return self.history[-1].date if self.history and self.state.is_terminal else None


@dataclass
class Attempt(_Stateful):
    """One try of a task run: retries and restarts add attempts to the same task run."""

    state: State
    history: list[StateChange] = field(default_factory=list)
    log_file: str | None = None
    """The URI of the attempt's log lines when its task has ``logToFile``."""

    @classmethod
    def new(cls, at: dt.datetime | None = None) -> Attempt:
        at = at or utcnow()
        return cls(State.RUNNING, [StateChange(State.RUNNING, at)])

    def to_document(self) -> dict[str, Any]:
        document: dict[str, Any] = {"state": state_document(self.history)}
        if self.log_file is not None:
            document["logFile"] = self.log_file
        return document

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Attempt:
        history = _history_of(doc)
        return cls(history[-1].state, history, doc.get("logFile"))


@dataclass
class TaskRun(_Stateful):
    """One run of a task: of a loop child, one per loop value (``value``); nested tasks name
    the run of their flowable parent (``parent_id``)."""

    id: str
    task_id: str
    state: State = State.CREATED
    parent_id: str | None = None
    value: str | None = None
    attempts: list[Attempt] = field(default_factory=list)
    outputs: dict[str, Any] | None = None
    error: str | None = None
    history: list[StateChange] = field(default_factory=list)
    plan: dict[str, Any] | None = None
    """A flowable's plan (its branches), decided once when it started; kept in the store only."""

    @classmethod
    def new(
        cls, task_id: str, *, parent_id: str | None = None, value: str | None = None
    ) -> TaskRun:
        run = cls(id=new_id(), task_id=task_id, parent_id=parent_id, value=value)
        run.history.append(StateChange(State.CREATED, utcnow()))
        return run

    def to_document(self, *, stored: bool = False) -> dict[str, Any]:
        """Kestra's task run shape (``plait run --json``, the REST API); ``stored`` adds what
        only the engine reads back (a flowable's plan)."""
        document = {
            "id": self.id,
            "taskId": self.task_id,
            "parentTaskRunId": self.parent_id,
            "value": self.value,
            "state": state_document(self.history),
            "attempts": [attempt.to_document() for attempt in self.attempts],
            "outputs": self.outputs,
            "error": self.error,
        }
        if stored and self.plan is not None:
            document["plan"] = self.plan
        return document

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> TaskRun:
        history = _history_of(doc)
        return cls(
            id=doc["id"],
            task_id=doc["taskId"],
            state=history[-1].state,
            parent_id=doc.get("parentTaskRunId"),
            value=doc.get("value"),
            attempts=[Attempt.from_document(a) for a in doc.get("attempts") or []],
            outputs=doc.get("outputs"),
            error=doc.get("error"),
            history=history,
            plan=doc.get("plan"),
        )


def end_attempt(run: TaskRun, state: State) -> None:
    """End the run's last attempt in ``state`` if it is still open."""
    if run.attempts and not run.attempts[-1].state.is_terminal:
        run.attempts[-1].transition(state)


@dataclass
class Execution(_Stateful):
    id: str
    namespace: str
    flow_id: str
    flow_revision: int
    inputs: dict[str, Any]
    labels: dict[str, str]
    state: State
    history: list[StateChange] = field(default_factory=list)
    task_runs: list[TaskRun] = field(default_factory=list)
    outputs: dict[str, Any] | None = None
    parent_id: str | None = None
    original_id: str | None = None
    """The execution this one replays (Kestra's ``originalId``), or its own id."""
    attempt_number: int = 1
    """1, plus one per restart."""
    driver: str | None = None
    """``host:pid`` of the process driving it while it runs (a restart checks it is gone)."""
    trigger: dict[str, Any] | None = None
    """What started it, Kestra's ``{id, type, variables}``; expressions read the variables
    as ``{{ trigger.* }}``."""

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
        execution_id = new_id()
        return cls(
            id=execution_id,
            namespace=namespace,
            flow_id=flow_id,
            flow_revision=flow_revision,
            inputs=inputs,
            labels=labels,
            state=State.CREATED,
            history=[StateChange(State.CREATED, now)],
            parent_id=parent_id,
            original_id=execution_id,
        )

    @property
    def created(self) -> dt.datetime:
        return self.history[0].date

    def add_task_run(
        self, task_id: str, *, parent_id: str | None = None, value: str | None = None
    ) -> TaskRun:
        """Start tracking a new run of ``task_id`` (state CREATED) and return it."""
        run = TaskRun.new(task_id, parent_id=parent_id, value=value)
        self.task_runs.append(run)
        return run

    def task_run(self, task_id: str, value: str | None = None) -> TaskRun | None:
        """The latest run of ``task_id`` (for ``value``, in a loop), or None if it did not run."""
        for run in reversed(self.task_runs):
            if run.task_id == task_id and (value is None or run.value == value):
                return run
        return None

    def to_document(self, *, stored: bool = False, task_runs: bool = True) -> dict[str, Any]:
        """Kestra's execution shape, which ``plait run --json`` prints and the REST API serves;
        ``stored`` adds what only the engine reads back, ``task_runs=False`` leaves them out
        (the store keeps them as rows of their own)."""
        document: dict[str, Any] = {
            "id": self.id,
            "namespace": self.namespace,
            "flowId": self.flow_id,
            "flowRevision": self.flow_revision,
            "state": state_document(self.history),
            "inputs": self.inputs,
            "labels": [{"key": k, "value": v} for k, v in self.labels.items()],
            "outputs": self.outputs,
            "parentId": self.parent_id,
            "originalId": self.original_id or self.id,
            "metadata": {"attemptNumber": self.attempt_number},
            "trigger": self.trigger,
        }
        if task_runs:
            document["taskRunList"] = [run.to_document(stored=stored) for run in self.task_runs]
        if stored:
            document["driver"] = self.driver
        return document

    def to_json(self) -> str:
        """The document as JSON text; values JSON has no type for are written as Kestra does."""
        return json.dumps(self.to_document(), default=json_default, ensure_ascii=False)

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Execution:
        history = _history_of(doc)
        return cls(
            id=doc["id"],
            namespace=doc["namespace"],
            flow_id=doc["flowId"],
            flow_revision=doc.get("flowRevision", 1),
            inputs=doc.get("inputs") or {},
            labels={item["key"]: item["value"] for item in doc.get("labels") or []},
            state=history[-1].state,
            history=history,
            task_runs=[TaskRun.from_document(run) for run in doc.get("taskRunList") or []],
            outputs=doc.get("outputs"),
            parent_id=doc.get("parentId"),
            original_id=doc.get("originalId"),
            attempt_number=(doc.get("metadata") or {}).get("attemptNumber", 1),
            driver=doc.get("driver"),
            trigger=doc.get("trigger"),
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
class TriggerState:
    namespace: str
    flow_id: str
    trigger_id: str
    last_date: str | None
    """The date it last fired for (ISO-8601, UTC), or a Flow trigger's watermark."""
    disabled: bool = False


@dataclass
class StoredFlow:
    namespace: str
    flow_id: str
    revision: int
    source: str
    created: dt.datetime
    deleted: bool = False
    """Whether the flow was deleted after this revision was saved (``flow_revisions`` lists
    such revisions too; saving the flow again starts a new revision that is not)."""
