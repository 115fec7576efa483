"""Connections to PostgreSQL that survive a server restart.

Every process (server, worker, CLI) talks to the database through one :class:`Database`: a
small thread-safe pool whose unit of work is a function run in one transaction. When the server
goes away (restart, failover, network cut) the transaction is rolled back by PostgreSQL, so the
function is simply run again on a fresh connection, with backoff, until ``retry_for`` seconds
have passed; then :class:`plait_sdk.errors.StateUnavailable` names the database (never its
password), which the engine prints as one line.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

import psycopg
from plait_sdk.errors import StateError, StateUnavailable
from psycopg.conninfo import conninfo_to_dict

T = TypeVar("T")

FIRST_DELAY = 0.05
MAX_DELAY = 1.0


def redact(dsn: str) -> str:
    """``postgresql://user@host:port/dbname`` of a DSN (URL or ``key=value``), without password."""
    try:
        parts = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        raise StateError(
            f"invalid PostgreSQL DSN (check PLAIT_POSTGRES_DSN or the dsn option): {exc}"
        ) from None
    user = f"{parts['user']}@" if parts.get("user") else ""
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{user}{parts.get('host', '')}{port}/{parts.get('dbname', '')}"


RETRIED_SQLSTATES = ("08", "57P01", "57P02", "57P03", "40001", "40P01")
"""Connection failures (class 08), the server shutting down or starting (57P0x), and
transactions PostgreSQL rolled back to break a deadlock or a serialization conflict."""


def _retryable(exc: Exception) -> bool:
    """Whether ``exc`` means "run the transaction again" rather than a failed statement: a
    connection error without SQLSTATE (server gone, pipeline broken) or one listed above."""
    if not isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return False
    sqlstate = getattr(exc, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith(RETRIED_SQLSTATES)


class Database:
    """A pool of at most ``pool_size`` connections to ``dsn``; safe to share between threads."""

    def __init__(self, dsn: str, *, retry_for: float = 30.0, pool_size: int = 8) -> None:
        self.dsn = dsn
        self.redacted_dsn = redact(dsn)
        self.retry_for = retry_for
        self._idle: list[psycopg.Connection] = []
        self._slots = threading.BoundedSemaphore(pool_size)
        self._lock = threading.Lock()
        self._closed = False

    def run(self, work: Callable[[psycopg.Connection], T]) -> T:
        """``work(conn)`` in one transaction: committed when it returns, rolled back when it
        raises. Re-run from the start on a new connection when the connection is lost, so it
        must not have effects outside the database. A deadlock or serialization failure is
        retried the same way. Do not call ``run`` from inside ``work``."""
        deadline = time.monotonic() + self.retry_for
        delay = FIRST_DELAY
        while True:
            with self._slots:
                conn = self._borrow(deadline)
                try:
                    with conn.transaction():
                        result = work(conn)
                except Exception as exc:
                    if not _retryable(exc):
                        self._give_back(conn)
                        raise
                    conn.close()  # whatever state it is in, a new one is safer
                    if time.monotonic() + delay > deadline:
                        raise self._unavailable(exc) from exc
                else:
                    self._give_back(conn)
                    return result
            time.sleep(delay)
            delay = min(delay * 2, MAX_DELAY)

    def connect(self, *, autocommit: bool = True) -> psycopg.Connection:
        """A new connection of the caller's own (``LISTEN``, long sessions), connected with the
        same retries; the caller closes it."""
        return self._connect(time.monotonic() + self.retry_for, autocommit=autocommit)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _borrow(self, deadline: float) -> psycopg.Connection:
        with self._lock:
            if self._closed:
                raise StateError(f"the connection to {self.redacted_dsn} was closed")
            if self._idle:
                return self._idle.pop()
        return self._connect(deadline, autocommit=True)

    def _give_back(self, conn: psycopg.Connection) -> None:
        with self._lock:
            if not self._closed and not conn.closed and not conn.broken:
                self._idle.append(conn)
                return
        conn.close()

    def _connect(self, deadline: float, *, autocommit: bool) -> psycopg.Connection:
        delay = FIRST_DELAY
        while True:
            try:
                return psycopg.connect(self.dsn, autocommit=autocommit, connect_timeout=5)
            except psycopg.OperationalError as exc:
                if time.monotonic() + delay > deadline:
                    raise self._unavailable(exc) from exc
            time.sleep(delay)
            delay = min(delay * 2, MAX_DELAY)

    def _unavailable(self, exc: Exception) -> StateUnavailable:
        cause = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return StateUnavailable(
            f"cannot reach PostgreSQL at {self.redacted_dsn} (retried for {self.retry_for:g} s):"
            f" {cause}"
        )
