"""Conversions between the state contract's documents and plain types and this schema's rows,
and the advisory lock classes the store takes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from plait_sdk.state import Document
from psycopg.types.json import Json

MAX_CHAR = "\U0010ffff"
"""Sorts after every character (``text COLLATE "C"``): ``[p, p + MAX_CHAR)`` is "starts with p"."""

FLOW_LOCK = 1
SLOT_LOCK = 2
"""``pg_advisory_xact_lock(class, hashtext(name))`` classes: saving a flow's next revision, and
taking one of a flow's concurrency slots. The two-key form never meets a one-key lock."""


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso(value: dt.datetime) -> str:
    """The contract's date text: UTC, microseconds, ``Z``."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def optional_iso(value: dt.datetime | None) -> str | None:
    return None if value is None else iso(value)


def starts_with(column: str, prefix: str) -> tuple[str, list[str]]:
    """A ``column`` range condition meaning "starts with ``prefix``" (an index range scan)."""
    return f"({column} >= %s AND {column} < %s)", [prefix, prefix + MAX_CHAR]


def in_namespace(namespace: str) -> tuple[str, list[str]]:
    """``namespace`` and its children (``a`` matches ``a`` and ``a.b``, not ``ab``)."""
    child, params = starts_with("namespace", namespace + ".")
    return f"(namespace = %s OR {child})", [namespace, *params]


def execution_row(doc: Document) -> tuple[Any, ...]:
    """The indexed columns the contract says a store reads, then the document."""
    state = doc["state"]
    return (
        doc["id"],
        doc["namespace"],
        doc["flowId"],
        int(doc.get("flowRevision") or 1),
        state["current"],
        doc.get("parentId"),
        state["histories"][0]["date"],
        state.get("endDate"),
        Json(doc),
    )


def ended(doc: Document) -> bool:
    return doc["state"].get("endDate") is not None


def log_row(entry: Document) -> tuple[Any, ...]:
    # PostgreSQL text cannot hold NUL; a task printing one keeps the rest of its line.
    return (
        entry["executionId"],
        entry.get("taskId"),
        entry.get("taskRunId"),
        entry["level"],
        entry["message"].replace("\x00", "\ufffd"),
        entry["timestamp"],
    )


def log_document(row: tuple[Any, ...]) -> Document:
    execution_id, task_id, taskrun_id, level, message, timestamp = row
    return {
        "executionId": execution_id,
        "taskId": task_id,
        "taskRunId": taskrun_id,
        "level": level,
        "message": message,
        "timestamp": iso(timestamp),
    }


def flow_document(namespace: str, flow_id: str, row: tuple[Any, ...]) -> Document:
    revision, source, created, deleted = row
    return {
        "namespace": namespace,
        "id": flow_id,
        "revision": revision,
        "source": source,
        "created": iso(created),
        "deleted": bool(deleted),
    }


def kv_document(row: tuple[Any, ...]) -> Document:
    namespace, key, value, kind, created, updated, expires = row
    return {
        "namespace": namespace,
        "key": key,
        "value": value,
        "type": kind,
        "created": iso(created),
        "updated": iso(updated),
        "expires": optional_iso(expires),
    }
