"""The SQLite store's tables: schema migrations and how executions and task runs become rows.

An execution row holds its document without task runs; each task run is a row of its own, so
recording one change writes one small row whatever the size of the execution."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

from plait.state.legacy import legacy_execution
from plait.state.model import Execution, TaskRun, format_datetime, json_default

UPSERT = """
INSERT INTO executions
    (id, namespace, flow_id, flow_revision, state, parent_id, created, ended, document)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
    namespace = excluded.namespace,
    flow_id = excluded.flow_id,
    flow_revision = excluded.flow_revision,
    state = excluded.state,
    parent_id = excluded.parent_id,
    created = excluded.created,
    ended = excluded.ended,
    document = excluded.document
"""


UPDATE_DOCUMENT = """
UPDATE executions SET document = ?
WHERE id = ? AND namespace = ? AND flow_id = ? AND flow_revision = ? AND state = ?
    AND parent_id IS ? AND created = ? AND ended IS ?
"""
"""The document alone, when every other column already holds the values given."""


UPSERT_RUN = """
INSERT INTO task_runs (id, execution_id, document) VALUES (?, ?, ?)
ON CONFLICT (id) DO UPDATE SET document = excluded.document
"""


def execution_json(execution: Execution) -> str:
    document = execution.to_document(stored=True, task_runs=False)
    return json.dumps(document, default=json_default, ensure_ascii=False)


def run_row(execution_id: str, run: TaskRun) -> tuple[str, str, str]:
    document = run.to_document(stored=True)
    return (run.id, execution_id, json.dumps(document, default=json_default, ensure_ascii=False))


def store_execution(conn: sqlite3.Connection, execution: Execution) -> None:
    """Write the execution's row, as :data:`UPSERT` does.

    While an execution runs, only its document changes from one save to the next (its task
    runs are rows of their own), and rewriting the indexed columns with equal values still
    rewrites one page of each index. So the document alone is updated when the other columns
    hold the same values; otherwise (a new row, a new state) the full upsert runs. The row ends
    the same either way, with about half the pages written per save."""
    row = execution_row(execution)
    if conn.execute(UPDATE_DOCUMENT, (row[-1], *row[:-1])).rowcount == 0:
        conn.execute(UPSERT, row)


def forget_kill(conn: sqlite3.Connection, execution: Execution) -> None:
    """An ended execution's kill request is done with (a restart must not be killed by it)."""
    if execution.state.is_terminal:
        conn.execute("DELETE FROM kill_requests WHERE execution_id = ?", (execution.id,))


def execution_row(execution: Execution) -> tuple[Any, ...]:
    return (
        execution.id,
        execution.namespace,
        execution.flow_id,
        execution.flow_revision,
        str(execution.state),
        execution.parent_id,
        format_datetime(execution.created),
        None if execution.ended is None else format_datetime(execution.ended),
        execution_json(execution),
    )


Migration = tuple[str, ...] | Callable[[sqlite3.Connection], None]


def _task_runs_as_rows(conn: sqlite3.Connection) -> None:
    """Version 2: task runs move out of the execution document into rows, and documents take
    Kestra's shape (``state.current``, ``taskRunList``)."""
    conn.execute(
        """CREATE TABLE task_runs (
            id TEXT PRIMARY KEY,
            execution_id TEXT NOT NULL,
            document TEXT NOT NULL
        )"""
    )
    conn.execute("CREATE INDEX task_runs_by_execution ON task_runs (execution_id)")
    rows = conn.execute("SELECT id, document FROM executions").fetchall()
    for execution_id, text in rows:
        execution = legacy_execution(json.loads(text))
        conn.execute(
            "UPDATE executions SET document = ? WHERE id = ?",
            (execution_json(execution), execution_id),
        )
        conn.executemany(UPSERT_RUN, [run_row(execution.id, run) for run in execution.task_runs])


MIGRATIONS: tuple[Migration, ...] = (
    (
        """CREATE TABLE executions (
            id TEXT PRIMARY KEY,
            namespace TEXT NOT NULL,
            flow_id TEXT NOT NULL,
            flow_revision INTEGER NOT NULL,
            state TEXT NOT NULL,
            parent_id TEXT,
            created TEXT NOT NULL,
            ended TEXT,
            document TEXT NOT NULL
        )""",
        "CREATE INDEX executions_by_created ON executions (created)",
        "CREATE INDEX executions_by_flow ON executions (namespace, flow_id, created)",
        "CREATE INDEX executions_by_parent ON executions (parent_id)",
        """CREATE TABLE logs (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            execution_id TEXT NOT NULL,
            task_id TEXT,
            taskrun_id TEXT,
            level TEXT NOT NULL,
            message TEXT NOT NULL,
            timestamp TEXT NOT NULL
        )""",
        "CREATE INDEX logs_by_execution ON logs (execution_id, seq)",
        """CREATE TABLE flows (
            namespace TEXT NOT NULL,
            flow_id TEXT NOT NULL,
            revision INTEGER NOT NULL,
            source TEXT NOT NULL,
            created TEXT NOT NULL,
            PRIMARY KEY (namespace, flow_id, revision)
        )""",
    ),
    _task_runs_as_rows,
    ("ALTER TABLE flows ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0",),
    (
        """CREATE TABLE triggers (
            namespace TEXT NOT NULL,
            flow_id TEXT NOT NULL,
            trigger_id TEXT NOT NULL,
            last_date TEXT,
            disabled INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (namespace, flow_id, trigger_id)
        )""",
        "CREATE INDEX executions_by_ended ON executions (ended)",
    ),
    ("CREATE INDEX executions_by_state ON executions (state)",),
    (
        """CREATE TABLE kv (
            namespace TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            type TEXT NOT NULL,
            created TEXT NOT NULL,
            updated TEXT NOT NULL,
            expires TEXT,
            PRIMARY KEY (namespace, key)
        )""",
        """CREATE TABLE task_cache (
            namespace TEXT NOT NULL,
            flow_id TEXT NOT NULL,
            task_id TEXT NOT NULL,
            key TEXT NOT NULL,
            outputs TEXT NOT NULL,
            execution_id TEXT NOT NULL,
            created TEXT NOT NULL,
            PRIMARY KEY (namespace, flow_id, task_id, key)
        )""",
    ),
    (
        """CREATE TABLE kill_requests (
            execution_id TEXT PRIMARY KEY,
            requested TEXT NOT NULL
        )""",
    ),
)
"""Schema migrations; entry N brings ``user_version`` from N to N + 1. Only ever append.
An entry is SQL statements, or a function of the connection for what SQL cannot do."""
