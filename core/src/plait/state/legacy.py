"""Reading execution documents written by plait before Kestra's shape (schema version 1), so
that homes made by an older plait migrate in place (see :mod:`plait.state.sqlite`)."""

from __future__ import annotations

from typing import Any

from plait.state.model import (
    Attempt,
    Execution,
    State,
    StateChange,
    TaskRun,
    parse_datetime,
)


def _changes(doc: dict[str, Any], state: str, fallback: str | None) -> list[StateChange]:
    changes = [
        StateChange(State(c["state"]), parse_datetime(c["date"]))
        for c in doc.get("stateHistory") or []
    ]
    if not changes and fallback is not None:  # a document without history: its state only
        changes = [StateChange(State(state), parse_datetime(fallback))]
    return changes


def _legacy_run(doc: dict[str, Any], created: str) -> TaskRun:
    history = _changes(doc, doc["state"], doc.get("started") or created)
    # Version 1 counted attempts without their dates: each gets the run's own history.
    running = [c for c in history if c.state is not State.CREATED]
    count = int(doc.get("attempts", 1)) if running else 0
    attempts = [Attempt(running[-1].state, list(running)) for _ in range(count)]
    return TaskRun(
        id=doc["id"],
        task_id=doc["taskId"],
        state=State(doc["state"]),
        attempts=attempts,
        outputs=doc.get("outputs"),
        error=doc.get("error"),
        history=history,
    )


def legacy_execution(doc: dict[str, Any]) -> Execution:
    """An execution from a version-1 document (``state`` a string, ``taskRuns``)."""
    if isinstance(doc.get("state"), dict):  # already Kestra's shape
        return Execution.from_document(doc)
    created = doc["created"]
    return Execution(
        id=doc["id"],
        namespace=doc["namespace"],
        flow_id=doc["flowId"],
        flow_revision=doc.get("flowRevision", 1),
        inputs=doc.get("inputs") or {},
        labels=doc.get("labels") or {},
        state=State(doc["state"]),
        history=_changes(doc, doc["state"], created),
        task_runs=[_legacy_run(run, created) for run in doc.get("taskRuns") or []],
        outputs=doc.get("outputs"),
        parent_id=doc.get("parentId"),
        original_id=doc["id"],
    )
