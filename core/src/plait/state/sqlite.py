"""The built-in execution repository: one SQLite file under ``PLAIT_HOME``.

Why it holds up with several ``plait run`` processes and with ``kill -9``:

- WAL journal: readers never block the writer and a crash mid-write leaves only an uncommitted
  WAL tail, which SQLite ignores on the next open. ``synchronous=NORMAL`` keeps every commit safe
  against a killed process (only a power loss can lose the last commits, never corrupt the file).
- Every write is one ``BEGIN IMMEDIATE`` transaction: the write lock is taken up front, so two
  writers never deadlock on a read-to-write upgrade. The busy timeout waits for the lock, and the
  few cases where SQLite answers "database is locked" without waiting are retried with backoff.
- An execution is stored as its JSON document (without its task runs) next to a few indexed
  columns for listing; each task run is a row of its own, so recording one state change costs
  the same in a 10,000-value loop as in a one-task flow. Logs live in their own table too.
- ``PRAGMA user_version`` records the schema version, so later releases can migrate in place.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

from plait_sdk.state import SLOT_STATES

from plait.errors import NotFoundError, PlaitError
from plait.state.model import (
    Execution,
    LogEntry,
    TaskRun,
    format_datetime,
    parse_datetime,
    utcnow,
)
from plait.state.sqlite_cache import TaskCacheTable
from plait.state.sqlite_flows import FlowStore
from plait.state.sqlite_kv import KVStoreTable
from plait.state.sqlite_schema import (
    MIGRATIONS,
    UPSERT_RUN,
    forget_kill,
    run_row,
    store_execution,
)
from plait.state.sqlite_triggers import TriggerStore

T = TypeVar("T")

SCHEMA_VERSION = len(MIGRATIONS)
BUSY_TIMEOUT_SECONDS = 5.0
"""How long SQLite itself waits for a lock before answering "database is locked"."""
LOCK_WAIT_SECONDS = 120.0
"""How long we keep retrying a locked database before giving up with a clear error."""
AMBIGUOUS_SHOWN = 5
LABEL_CLAUSE = (
    "EXISTS (SELECT 1 FROM json_each(executions.document, '$.labels') AS label "
    "WHERE json_extract(label.value, '$.key') = ? AND json_extract(label.value, '$.value') = ?)"
)
"""An execution carrying a label with that value (documents list labels as key/value maps)."""
_BUSY_CODES = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
_PROGRAMMING_ERRORS = (sqlite3.ProgrammingError, sqlite3.IntegrityError, sqlite3.InterfaceError)
_MAX_CHAR = "\U0010ffff"


def _is_busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _BUSY_CODES
    message = str(exc).lower()
    return "locked" in message or "busy" in message


class SqliteRepository(FlowStore, TriggerStore, KVStoreTable, TaskCacheTable):
    """:class:`~plait.state.repository.ExecutionRepository` on one SQLite file.

    One connection per repository object, shared by the threads of the process under a lock.
    """

    def __init__(self, path: Path, *, lock_wait: float = LOCK_WAIT_SECONDS) -> None:
        self.path = Path(path)
        self._lock_wait = lock_wait
        self._lock = threading.RLock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn: sqlite3.Connection | None = self._retry(
            sqlite3.connect,
            self.path,
            timeout=BUSY_TIMEOUT_SECONDS,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            self._retry(self._configure)
            self._migrate()
        except BaseException:
            self.close()
            raise

    # -- connection plumbing -------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError(f"the repository on {self.path} is closed")
        return self._conn

    def _retry(self, operation: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a SQLite call, retrying while the database is locked by another process."""
        deadline = time.monotonic() + self._lock_wait
        delay = 0.002
        while True:
            try:
                return operation(*args, **kwargs)
            except _PROGRAMMING_ERRORS:
                raise
            except sqlite3.DatabaseError as exc:
                if not _is_busy(exc):
                    raise self._failure(exc) from exc
                if time.monotonic() >= deadline:
                    raise PlaitError(
                        f"state database {self.path} stayed locked for {self._lock_wait:.0f} s "
                        "by another process; try again when it has finished"
                    ) from exc
            time.sleep(delay + random.uniform(0, delay))
            delay = min(delay * 2, 0.25)

    def _failure(self, exc: sqlite3.Error) -> PlaitError:
        """What the user sees when the database itself fails (disk full, corrupt, unreadable)."""
        return PlaitError(f"state database {self.path}: {exc}")

    def _configure(self) -> None:
        conn = self._connection()
        conn.execute("PRAGMA journal_mode = WAL").fetchone()
        conn.execute("PRAGMA synchronous = NORMAL")

    def _migrate(self) -> None:
        if self._user_version() == SCHEMA_VERSION:
            return
        with self._write() as conn:
            current = self._user_version()  # again: another process may have migrated meanwhile
            for migration in MIGRATIONS[current:]:
                if callable(migration):
                    migration(conn)
                    continue
                for statement in migration:
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _user_version(self) -> int:
        (version,) = self._read_one("PRAGMA user_version", ())
        if version > SCHEMA_VERSION:
            raise PlaitError(
                f"state database {self.path} has schema version {version}, but this plait "
                f"only knows versions up to {SCHEMA_VERSION}: it was written by a newer plait; "
                "upgrade plait or use another PLAIT_HOME"
            )
        return int(version)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction holding the database's write lock from its first statement."""
        with self._lock:
            conn = self._connection()
            self._retry(conn.execute, "BEGIN IMMEDIATE")
            try:
                yield conn
                self._retry(conn.execute, "COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    with suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.DatabaseError) and not isinstance(
                    exc, _PROGRAMMING_ERRORS
                ):
                    raise self._failure(exc) from exc
                raise

    def _read(self, sql: str, params: Sequence[Any]) -> list[Any]:
        with self._lock:
            conn = self._connection()
            return self._retry(lambda: conn.execute(sql, params).fetchall())

    def _read_one(self, sql: str, params: Sequence[Any]) -> Any:
        rows = self._read(sql, params)
        return rows[0] if rows else None

    # -- executions ----------------------------------------------------------------------------

    def save(self, execution: Execution) -> None:
        with self._write() as conn:
            store_execution(conn, execution)
            forget_kill(conn, execution)
            conn.execute("DELETE FROM task_runs WHERE execution_id = ?", (execution.id,))
            conn.executemany(
                UPSERT_RUN, [run_row(execution.id, run) for run in execution.task_runs]
            )

    def save_state(self, execution: Execution, runs: Sequence[TaskRun]) -> None:
        with self._write() as conn:
            store_execution(conn, execution)
            forget_kill(conn, execution)
            if runs:
                conn.executemany(UPSERT_RUN, [run_row(execution.id, run) for run in runs])

    def request_kill(self, execution_id: str) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO kill_requests (execution_id, requested) VALUES (?, ?)",
                (execution_id, format_datetime(utcnow())),
            )

    def kill_requested(self, execution_id: str) -> bool:
        found = self._read_one(
            "SELECT 1 FROM kill_requests WHERE execution_id = ?", (execution_id,)
        )
        return found is not None

    def acquire_slot(self, execution: Execution, limit: int) -> bool:
        # A queued execution asks again and again: look without the write lock first, so that
        # waiting does not compete with the running executions' saves; decide under the lock.
        sql, params = _running_beside(execution)
        if self._read_one(sql, params)[0] >= limit:
            return False
        with self._write() as conn:
            if conn.execute(sql, params).fetchone()[0] >= limit:
                return False
            store_execution(conn, execution)
            return True

    def _load(self, document: str) -> Execution:
        execution = Execution.from_document(json.loads(document))
        rows = self._read(
            "SELECT document FROM task_runs WHERE execution_id = ? ORDER BY rowid", (execution.id,)
        )
        execution.task_runs = [TaskRun.from_document(json.loads(text)) for (text,) in rows]
        return execution

    def get(self, execution_id: str) -> Execution:
        if not execution_id:
            raise NotFoundError("an execution id (or its first characters) is required")
        rows = self._read(
            "SELECT id, document FROM executions WHERE id >= ? AND id < ? ORDER BY id LIMIT ?",
            (execution_id, execution_id + _MAX_CHAR, AMBIGUOUS_SHOWN + 1),
        )
        if not rows:
            raise NotFoundError(
                f"execution '{execution_id}' not found in {self.path}; "
                "`plait executions list` shows the recent ones"
            )
        if rows[0][0] != execution_id and len(rows) > 1:
            shown = ", ".join(row[0] for row in rows[:AMBIGUOUS_SHOWN])
            more = " and more" if len(rows) > AMBIGUOUS_SHOWN else ""
            raise NotFoundError(
                f"execution id prefix '{execution_id}' is ambiguous: it matches {shown}{more}; "
                "give more characters of the id"
            )
        return self._load(rows[0][1])

    def list(
        self, *, namespace: str | None = None, flow_id: str | None = None, limit: int = 50
    ) -> list[Execution]:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        found, _ = self.search(namespace=namespace, flow_id=flow_id, size=limit, exact=True)
        return found

    def search(
        self,
        *,
        namespace: str | None = None,
        flow_id: str | None = None,
        states: Sequence[str] = (),
        page: int = 1,
        size: int = 10,
        exact: bool = False,
        started_from: dt.datetime | None = None,
        started_to: dt.datetime | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> tuple[list[Execution], int]:
        if page < 1 or size < 1:
            raise ValueError(f"page and size must be at least 1, got {page} and {size}")
        clauses, params = [], []
        if namespace is not None:
            # Kestra's search matches a namespace and its children.
            clauses.append("(namespace = ? OR namespace >= ? AND namespace < ?)")
            params += [namespace, namespace + ".", namespace + "." + _MAX_CHAR]
            if exact:
                clauses[-1], params[-2:] = "namespace = ?", []
        if flow_id is not None:
            clauses.append("flow_id = ?")
            params.append(flow_id)
        if states:
            clauses.append(f"state IN ({', '.join('?' * len(states))})")
            params += list(states)
        if started_from is not None:
            clauses.append("created >= ?")
            params.append(format_datetime(started_from))
        if started_to is not None:
            clauses.append("created <= ?")
            params.append(format_datetime(started_to))
        for key, value in (labels or {}).items():
            clauses.append(LABEL_CLAUSE)
            params += [key, value]
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        (total,) = self._read_one(f"SELECT count(*) FROM executions {where}", params)
        rows = self._read(
            f"SELECT document FROM executions {where} ORDER BY created DESC, rowid DESC "
            "LIMIT ? OFFSET ?",
            [*params, size, (page - 1) * size],
        )
        return [self._load(document) for (document,) in rows], int(total)

    # -- logs ----------------------------------------------------------------------------------

    def append_logs(self, entries: Sequence[LogEntry]) -> None:
        if not entries:
            return
        rows = [
            (
                e.execution_id,
                e.task_id,
                e.taskrun_id,
                e.level,
                e.message,
                format_datetime(e.timestamp),
            )
            for e in entries
        ]
        with self._write() as conn:
            conn.executemany(
                "INSERT INTO logs (execution_id, task_id, taskrun_id, level, message, timestamp) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )

    def logs(
        self, execution_id: str, *, task_id: str | None = None, after: int = 0
    ) -> list[LogEntry]:
        sql = (
            "SELECT execution_id, task_id, taskrun_id, level, message, timestamp FROM logs "
            "WHERE execution_id = ?"
        )
        params: list[Any] = [execution_id]
        if task_id is not None:
            sql += " AND task_id = ?"
            params.append(task_id)
        rows = self._read(sql + " ORDER BY seq LIMIT -1 OFFSET ?", [*params, max(after, 0)])
        return [
            LogEntry(exec_id, task, taskrun, level, message, parse_datetime(stamp))
            for exec_id, task, taskrun, level, message, stamp in rows
        ]

    # -- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> SqliteRepository:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _running_beside(execution: Execution) -> tuple[str, tuple[Any, ...]]:
    """The query counting the executions of the same flow that hold a concurrency slot, other
    than ``execution``."""
    return (
        "SELECT count(*) FROM executions WHERE namespace = ? AND flow_id = ? "
        f"AND id != ? AND state IN ({', '.join('?' * len(SLOT_STATES))})",
        (execution.namespace, execution.flow_id, execution.id, *SLOT_STATES),
    )
