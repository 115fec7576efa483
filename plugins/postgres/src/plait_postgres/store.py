"""plait's execution state on PostgreSQL: :class:`plait_sdk.state.StateStore` for every
server, worker and CLI of an installation, on any machine.

Every method is one transaction through :class:`plait_postgres.connection.Database` (so a
PostgreSQL restart costs a retry, not an error). An execution is a row of indexed columns and
its document, each task run a row of its own: recording one state change writes one execution
row and the changed task runs, whatever the execution's size. Checks that must hold across
processes take locks: a flow's concurrency slots are counted and taken under an advisory lock on
the flow, trigger claims are conditional updates (see :mod:`plait_postgres.flows`).
"""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from plait_sdk.errors import StateError, StateNotFound
from plait_sdk.queue import QueueItem
from plait_sdk.state import SLOT_STATES, STATE_CONTRACT, Document, ExecutionChanges
from psycopg.types.json import Json

from plait_postgres.connection import Database
from plait_postgres.flows import FlowsAndTriggers
from plait_postgres.kv import KVAndCache
from plait_postgres.migrations import migrate
from plait_postgres.queue import PostgresWorkQueue, enqueue
from plait_postgres.rows import (
    SLOT_LOCK,
    ended,
    execution_row,
    in_namespace,
    log_document,
    log_row,
    starts_with,
)

DSN_ENV = "PLAIT_POSTGRES_DSN"
OPTIONS = {"dsn": str, "poolSize": int, "retrySeconds": float}
AMBIGUOUS_SHOWN = 5
LABEL_CLAUSE = (
    "EXISTS (SELECT 1 FROM json_array_elements(executions.document -> 'labels') AS label "
    "WHERE label ->> 'key' = %s AND label ->> 'value' = %s)"
)
"""An execution carrying a label with that value (documents list labels as key/value maps)."""

UPSERT = """
INSERT INTO executions (id, namespace, flow_id, flow_revision, state, parent_id, created, ended,
    document, changes, replaced)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 1, %s)
ON CONFLICT (id) DO UPDATE SET
    namespace = excluded.namespace, flow_id = excluded.flow_id,
    flow_revision = excluded.flow_revision, state = excluded.state,
    parent_id = excluded.parent_id, created = excluded.created, ended = excluded.ended,
    document = excluded.document, changes = executions.changes + 1,
    replaced = CASE WHEN excluded.replaced > 0 THEN executions.changes + 1
        ELSE executions.replaced END
RETURNING changes
"""
"""Stores the execution row and gives it its next change number (the last parameter: 1 when
its task runs are being replaced, else 0). The row stays locked until commit, so one
execution's change numbers follow the order its writes commit in."""

UPSERT_RUN = """
INSERT INTO task_runs (id, execution_id, document, change) VALUES (%s, %s, %s, %s)
ON CONFLICT (id) DO UPDATE SET document = excluded.document, change = excluded.change
"""


def open_store(options: Mapping[str, Any]) -> PostgresStore:
    """The store the ``postgres`` repository option ``dsn`` (else ``$PLAIT_POSTGRES_DSN``)
    names, its schema migrated."""
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise StateError(
            f"state: unknown option {', '.join(map(repr, unknown))} for postgres "
            f"(known: {', '.join(OPTIONS)})"
        )
    dsn = options.get("dsn") or os.environ.get(DSN_ENV)
    if not dsn:
        raise StateError(
            f"the postgres repository needs a database: set {DSN_ENV}="
            "postgresql://USER:PASSWORD@HOST:5432/DBNAME (or the distribution's state option dsn)"
        )
    db = Database(
        str(dsn),
        retry_for=float(options.get("retrySeconds", 30.0)),
        pool_size=int(options.get("poolSize", 8)),
    )
    try:
        migrate(db)
    except BaseException:
        db.close()
        raise
    return PostgresStore(db)


def _upsert(conn: psycopg.Connection, doc: Document, *, replacing: bool = False) -> int:
    """Store the execution row; its new change number."""
    row = conn.execute(UPSERT, (*execution_row(doc), int(replacing))).fetchone()
    assert row is not None  # RETURNING of an upsert always returns the row
    return int(row[0])


def _store_execution(conn: psycopg.Connection, doc: Document, *, replacing: bool = False) -> int:
    change = _upsert(conn, doc, replacing=replacing)
    if ended(doc):  # an ended execution's kill request is done with
        conn.execute("DELETE FROM kill_requests WHERE execution_id = %s", (doc["id"],))
    return change


def _store_runs(
    conn: psycopg.Connection, execution_id: str, runs: Sequence[Document], change: int
) -> None:
    if runs:
        with conn.cursor() as cursor:
            cursor.executemany(
                UPSERT_RUN, [(run["id"], execution_id, Json(run), change) for run in runs]
            )


def _with_runs(conn: psycopg.Connection, docs: list[Document]) -> list[Document]:
    """The execution documents with their ``taskRunList``, in the order first stored."""
    runs: dict[str, list[Document]] = defaultdict(list)
    if docs:
        rows = conn.execute(
            "SELECT execution_id, document FROM task_runs WHERE execution_id = ANY(%s) "
            "ORDER BY seq",
            ([doc["id"] for doc in docs],),
        )
        for execution_id, run in rows:
            runs[execution_id].append(run)
    for doc in docs:
        doc["taskRunList"] = runs[doc["id"]]
    return docs


class PostgresStore(FlowsAndTriggers, KVAndCache):
    """:class:`plait_sdk.state.StateStore` on one PostgreSQL database."""

    state_contract = STATE_CONTRACT

    def __init__(self, db: Database) -> None:
        self.db = db
        self._queue: PostgresWorkQueue | None = None
        self._queue_lock = threading.Lock()

    # -- executions ----------------------------------------------------------------------------

    def save(self, execution: Document, task_runs: Sequence[Document]) -> None:
        def work(conn: psycopg.Connection) -> None:
            change = _store_execution(conn, execution, replacing=True)
            conn.execute("DELETE FROM task_runs WHERE execution_id = %s", (execution["id"],))
            _store_runs(conn, execution["id"], task_runs, change)

        self.db.run(work)

    def save_state(
        self,
        execution: Document,
        task_runs: Sequence[Document],
        *,
        submit: Sequence[QueueItem] = (),
    ) -> None:
        def work(conn: psycopg.Connection) -> None:
            change = _store_execution(conn, execution)
            _store_runs(conn, execution["id"], task_runs, change)
            if submit:  # the state change and the work it causes commit together
                enqueue(conn, submit)

        self.db.run(work)

    def work_queue(self) -> PostgresWorkQueue:
        """The shared work queue on this database (one per store: it owns a LISTEN thread)."""
        with self._queue_lock:
            if self._queue is None:
                self._queue = PostgresWorkQueue(self.db)
            return self._queue

    def request_kill(self, execution_id: str) -> None:
        self.db.run(
            lambda conn: conn.execute(
                "INSERT INTO kill_requests (execution_id, requested) VALUES (%s, now()) "
                "ON CONFLICT DO NOTHING",
                (execution_id,),
            )
        )

    def kill_requested(self, execution_id: str) -> bool:
        row = self.db.run(
            lambda conn: conn.execute(
                "SELECT 1 FROM kill_requests WHERE execution_id = %s", (execution_id,)
            ).fetchone()
        )
        return row is not None

    def acquire_slot(self, execution: Document, limit: int) -> bool:
        flow = (execution["namespace"], execution["flowId"])

        def work(conn: psycopg.Connection) -> bool:
            conn.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (SLOT_LOCK, "\n".join(flow))
            )
            (running,) = conn.execute(
                "SELECT count(*) FROM executions WHERE namespace = %s AND flow_id = %s "
                "AND id <> %s AND state = ANY(%s)",
                (*flow, execution["id"], list(SLOT_STATES)),
            ).fetchone() or (0,)
            if running >= limit:
                return False
            _upsert(conn, execution)
            return True

        return self.db.run(work)

    def get(self, execution_id: str) -> Document:
        if not execution_id:
            raise StateNotFound("an execution id (or its first characters) is required")
        where, params = starts_with("id", execution_id)

        def work(conn: psycopg.Connection) -> Document:
            rows = conn.execute(
                f"SELECT id, document FROM executions WHERE {where} ORDER BY id LIMIT %s",
                [*params, AMBIGUOUS_SHOWN + 1],
            ).fetchall()
            if not rows:
                raise StateNotFound(
                    f"execution '{execution_id}' not found in {self.db.redacted_dsn}; "
                    "`plait executions list` shows the recent ones"
                )
            if rows[0][0] != execution_id and len(rows) > 1:
                shown = ", ".join(row[0] for row in rows[:AMBIGUOUS_SHOWN])
                more = " and more" if len(rows) > AMBIGUOUS_SHOWN else ""
                raise StateNotFound(
                    f"execution id prefix '{execution_id}' is ambiguous: it matches "
                    f"{shown}{more}; give more characters of the id"
                )
            return _with_runs(conn, [rows[0][1]])[0]

        return self.db.run(work)

    def changes_since(self, execution_id: str, after: int) -> ExecutionChanges:
        """See :class:`plait_sdk.state.ExecutionChanges`: one snapshot (repeatable read), so the
        execution row and its task runs are of the same moment."""

        def work(conn: psycopg.Connection) -> ExecutionChanges:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            row = conn.execute(
                "SELECT document, changes, replaced FROM executions WHERE id = %s",
                (execution_id,),
            ).fetchone()
            if row is None:
                raise StateNotFound(f"execution '{execution_id}' not found")
            document, change, replaced = row
            complete = after <= 0 or replaced > after
            runs = conn.execute(
                "SELECT document FROM task_runs WHERE execution_id = %s AND change > %s "
                "ORDER BY seq",
                (execution_id, -1 if complete else after),
            ).fetchall()
            document["taskRunList"] = [run for (run,) in runs]
            return ExecutionChanges(document, int(change), complete)

        return self.db.run(work)

    def list(
        self, *, namespace: str | None = None, flow_id: str | None = None, limit: int = 50
    ) -> list[Document]:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        clauses = [("namespace = %s", [namespace])] if namespace is not None else []
        return self._find(clauses, flow_id, (), 1, limit)[0]

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
        if page < 1 or size < 1:
            raise ValueError(f"page and size must be at least 1, got {page} and {size}")
        clauses = [in_namespace(namespace)] if namespace is not None else []
        if started_from is not None:
            clauses.append(("created >= %s::timestamptz", [started_from]))
        if started_to is not None:
            clauses.append(("created <= %s::timestamptz", [started_to]))
        for key, value in (labels or {}).items():
            clauses.append((LABEL_CLAUSE, [key, value]))
        return self._find(clauses, flow_id, states, page, size)

    def _find(
        self,
        clauses: list[tuple[str, list[Any]]],
        flow_id: str | None,
        states: Sequence[str],
        page: int,
        size: int,
    ) -> tuple[list[Document], int]:
        if flow_id is not None:
            clauses.append(("flow_id = %s", [flow_id]))
        if states:
            clauses.append(("state = ANY(%s)", [list(states)]))
        where = " AND ".join(clause for clause, _ in clauses) or "true"
        params = [param for _, values in clauses for param in values]

        def work(conn: psycopg.Connection) -> tuple[list[Document], int]:
            (total,) = conn.execute(
                f"SELECT count(*) FROM executions WHERE {where}", params
            ).fetchone() or (0,)
            rows = conn.execute(
                f"SELECT document FROM executions WHERE {where} "
                "ORDER BY created DESC, seq DESC LIMIT %s OFFSET %s",
                [*params, size, (page - 1) * size],
            ).fetchall()
            return _with_runs(conn, [row[0] for row in rows]), int(total)

        return self.db.run(work)

    def ended_since(self, after: str, limit: int = 500) -> list[Document]:
        def work(conn: psycopg.Connection) -> list[Document]:
            rows = conn.execute(
                "SELECT document FROM executions WHERE ended > %s ORDER BY ended, seq LIMIT %s",
                (after, limit),
            ).fetchall()
            return _with_runs(conn, [row[0] for row in rows])

        return self.db.run(work)

    # -- logs ----------------------------------------------------------------------------------

    def append_logs(self, entries: Sequence[Document]) -> None:
        if not entries:
            return

        def work(conn: psycopg.Connection) -> None:
            with conn.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO logs (execution_id, task_id, taskrun_id, level, message, "
                    "timestamp) VALUES (%s, %s, %s, %s, %s, %s)",
                    [log_row(entry) for entry in entries],
                )

        self.db.run(work)

    def logs(
        self, execution_id: str, *, task_id: str | None = None, after: int = 0
    ) -> list[Document]:
        task = " AND task_id = %s" if task_id is not None else ""
        params = [execution_id] + ([task_id] if task_id is not None else [])
        rows = self.db.run(
            lambda conn: conn.execute(
                "SELECT execution_id, task_id, taskrun_id, level, message, timestamp FROM logs "
                f"WHERE execution_id = %s{task} ORDER BY seq OFFSET %s",
                [*params, max(after, 0)],
            ).fetchall()
        )
        return [log_document(row) for row in rows]

    def close(self) -> None:
        if self._queue is not None:
            self._queue.close()
        self.db.close()
