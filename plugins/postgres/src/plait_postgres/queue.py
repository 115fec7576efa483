"""The work queue on PostgreSQL (:class:`plait_sdk.queue.WorkQueueStore`).

Workers claim items with ``SELECT ... FOR UPDATE SKIP LOCKED``: concurrent claimers skip the
rows another one is taking instead of waiting for them, so each item goes to one worker. Items
are inserted by :func:`enqueue` inside the transaction that stores the task runs RUNNING (the
state store's ``save_state(..., submit=items)``), so no item exists for a state that was rolled
back and no stored RUNNING task run lacks its item.

Waiting is woken by ``NOTIFY`` (delivered at commit) on two channels: ``plait_work`` when items
are queued, ``plait_results`` (payload: the execution id) when one is completed. One listening
connection per process serves every waiter; waiters also poll now and then, so a lost
notification (the listener reconnecting after a server restart) only delays them, and expired
leases (which nothing announces) are found.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, LiteralString

import psycopg
from plait_sdk.errors import StateError
from plait_sdk.queue import (
    ClaimedItem,
    ClaimStatus,
    InFlight,
    LostClaim,
    QueueItem,
    QueueResult,
)
from psycopg.types.json import Jsonb

from plait_postgres.connection import Database

WORK_CHANNEL = "plait_work"
RESULTS_CHANNEL = "plait_results"
CLAIM_POLL_SECONDS = 1.0
"""How often an idle claimer looks without being woken (and finds expired leases)."""
RESULTS_POLL_SECONDS = 2.0
"""How often a driver looks for results without being woken."""
LISTEN_SECONDS = 1.0

ENQUEUE = """
INSERT INTO plait_work_items (execution_id, taskrun_id, attempt)
SELECT * FROM unnest(%s::text[], %s::text[], %s::integer[])
ON CONFLICT (execution_id, taskrun_id) DO UPDATE SET
    attempt = EXCLUDED.attempt, seq = EXCLUDED.seq, state = 'queued', worker = NULL,
    token = NULL, claimed_at = NULL, lease_until = NULL, lost = '[]', cancelled = false
"""

CLAIM = """
WITH picked AS (
    SELECT execution_id, taskrun_id FROM plait_work_items
    WHERE state = 'queued' OR lease_until < now()
    ORDER BY seq LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE plait_work_items AS w SET
    lost = CASE WHEN w.state = 'claimed' THEN w.lost || jsonb_build_array(jsonb_build_object(
        'worker', w.worker, 'claimed', w.claimed_at, 'expired', w.lease_until)) ELSE w.lost END,
    state = 'claimed', worker = %(worker)s, token = gen_random_uuid(), claimed_at = now(),
    lease_until = now() + make_interval(secs => %(lease)s)
FROM picked
WHERE w.execution_id = picked.execution_id AND w.taskrun_id = picked.taskrun_id
RETURNING w.execution_id, w.taskrun_id, w.attempt, w.token::text, w.lost, w.cancelled
"""

COMPLETE = """
WITH done AS (
    DELETE FROM plait_work_items WHERE token = %(token)s::uuid
    RETURNING execution_id, taskrun_id, attempt
)
INSERT INTO plait_work_results (execution_id, taskrun_id, attempt, document)
SELECT execution_id, taskrun_id, attempt, %(document)s FROM done
RETURNING execution_id
"""

ACQUIRE_DRIVER = """
INSERT INTO plait_drivers AS d (execution_id, driver, lease_until)
VALUES (%(id)s, %(driver)s, now() + make_interval(secs => %(lease)s))
ON CONFLICT (execution_id) DO UPDATE SET
    driver = EXCLUDED.driver, lease_until = EXCLUDED.lease_until
WHERE d.lease_until < now() OR d.driver = EXCLUDED.driver OR d.driver = %(dead)s
RETURNING execution_id
"""


def enqueue(conn: psycopg.Connection, items: Sequence[QueueItem]) -> None:
    """Queue ``items`` in the caller's open transaction (workers are notified at commit)."""
    if not items:
        return
    conn.execute(
        ENQUEUE,
        (
            [item.execution_id for item in items],
            [item.taskrun_id for item in items],
            [item.attempt for item in items],
        ),
    )
    conn.execute("SELECT pg_notify(%s, '')", (WORK_CHANNEL,))


def _lost_claims(documents: list[dict[str, Any]]) -> tuple[LostClaim, ...]:
    return tuple(
        LostClaim(
            doc["worker"],
            datetime.fromisoformat(doc["claimed"]),
            datetime.fromisoformat(doc["expired"]),
        )
        for doc in documents
    )


class _Listener:
    """One ``LISTEN`` connection for the process: it sets the events waiters wait on."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.work = threading.Event()
        self._results: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    def ensure_started(self) -> None:
        with self._lock:
            if self._thread is None and not self._closed.is_set():
                self._thread = threading.Thread(
                    target=self._loop, name="plait-pg-listener", daemon=True
                )
                self._thread.start()

    def results_event(self, execution_id: str) -> threading.Event:
        with self._lock:
            return self._results.setdefault(execution_id, threading.Event())

    def discard(self, execution_id: str) -> None:
        with self._lock:
            self._results.pop(execution_id, None)

    def _wake_all(self) -> None:
        """After (re)connecting: what was sent meanwhile is lost, so everyone looks."""
        self.work.set()
        with self._lock:
            events = list(self._results.values())
        for event in events:
            event.set()

    def _loop(self) -> None:
        while not self._closed.is_set():
            try:
                conn = self._db.connect(autocommit=True)
            except StateError:
                self._closed.wait(LISTEN_SECONDS)
                continue
            try:
                conn.execute(f"LISTEN {WORK_CHANNEL}")
                conn.execute(f"LISTEN {RESULTS_CHANNEL}")
                self._wake_all()
                while not self._closed.is_set():
                    for note in conn.notifies(timeout=LISTEN_SECONDS):
                        self._dispatch(note.channel, note.payload)
            except psycopg.Error:
                pass  # the server went away: connect again (waiters poll meanwhile)
            finally:
                conn.close()

    def _dispatch(self, channel: str, payload: str) -> None:
        if channel == WORK_CHANNEL:
            self.work.set()
            return
        with self._lock:
            event = self._results.get(payload)
        if event is not None:
            event.set()

    def close(self) -> None:
        """Stop listening (the thread ends within ``LISTEN_SECONDS``, closing its connection)."""
        self._closed.set()


class PostgresWorkQueue:
    """The queue tables of one database, shared by the threads of one process."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._listener = _Listener(db)
        self._polled: dict[str, float] = {}
        self._lock = threading.Lock()

    # -- workers -----------------------------------------------------------------------------

    def submit(self, items: Sequence[QueueItem]) -> None:
        self._db.run(lambda conn: enqueue(conn, items))

    def claim(
        self, worker: str, limit: int, lease_seconds: float, wait: float
    ) -> list[ClaimedItem]:
        self._listener.ensure_started()
        deadline = time.monotonic() + wait
        while True:
            self._listener.work.clear()
            claimed = self._claim(worker, limit, lease_seconds)
            left = deadline - time.monotonic()
            if claimed or left <= 0:
                return claimed
            self._listener.work.wait(min(left, CLAIM_POLL_SECONDS))

    def _claim(self, worker: str, limit: int, lease_seconds: float) -> list[ClaimedItem]:
        rows = self._fetch(CLAIM, {"limit": limit, "worker": worker, "lease": lease_seconds})
        return [
            ClaimedItem(
                QueueItem(execution_id, taskrun_id, attempt), token, _lost_claims(lost), cancelled
            )
            for execution_id, taskrun_id, attempt, token, lost, cancelled in rows
        ]

    def renew(
        self, worker: str, tokens: Sequence[str], lease_seconds: float
    ) -> dict[str, ClaimStatus]:
        if not tokens:
            return {}
        rows = self._fetch(
            "UPDATE plait_work_items SET lease_until = now() + make_interval(secs => %s)"
            " WHERE token = ANY(%s::uuid[]) AND worker = %s RETURNING token::text, cancelled",
            (lease_seconds, list(tokens), worker),
        )
        return {token: "cancelled" if cancelled else "held" for token, cancelled in rows}

    def complete(self, claim: ClaimedItem, result: Mapping[str, Any]) -> bool:
        def work(conn: psycopg.Connection) -> bool:
            params = {"token": claim.token, "document": Jsonb(dict(result))}
            if conn.execute(COMPLETE, params).fetchone() is None:
                return False
            conn.execute("SELECT pg_notify(%s, %s)", (RESULTS_CHANNEL, claim.item.execution_id))
            return True

        return self._db.run(work)

    def drop(self, claim: ClaimedItem) -> None:
        self._write("DELETE FROM plait_work_items WHERE token = %s::uuid", (claim.token,))

    # -- drivers -----------------------------------------------------------------------------

    def results(self, execution_id: str, timeout: float) -> list[QueueResult]:
        self._listener.ensure_started()
        event = self._listener.results_event(execution_id)
        with self._lock:
            due = self._polled.get(execution_id, 0.0) + RESULTS_POLL_SECONDS
        if not event.is_set():
            event.wait(max(0.0, min(timeout, due - time.monotonic())))
            if not event.is_set() and time.monotonic() < due:
                return []
        event.clear()
        with self._lock:
            self._polled[execution_id] = time.monotonic()
        rows = self._fetch(
            "UPDATE plait_work_results SET taken = true WHERE execution_id = %s AND NOT taken"
            " RETURNING seq, taskrun_id, attempt, document",
            (execution_id,),
        )
        return [
            QueueResult(QueueItem(execution_id, taskrun_id, attempt), document, seq)
            for seq, taskrun_id, attempt, document in sorted(rows)
        ]

    def in_flight(self, execution_id: str) -> InFlight:
        def work(conn: psycopg.Connection) -> InFlight:
            items = conn.execute(
                "SELECT taskrun_id, attempt FROM plait_work_items WHERE execution_id = %s",
                (execution_id,),
            ).fetchall()
            results = conn.execute(
                "SELECT seq, taskrun_id, attempt, document FROM plait_work_results"
                " WHERE execution_id = %s ORDER BY seq",
                (execution_id,),
            ).fetchall()
            return InFlight(
                tuple(QueueItem(execution_id, t, a) for t, a in items),
                tuple(QueueResult(QueueItem(execution_id, t, a), d, s) for s, t, a, d in results),
            )

        return self._db.run(work)

    def cancel(self, execution_id: str) -> None:
        self._write(
            "UPDATE plait_work_items SET cancelled = true WHERE execution_id = %s", (execution_id,)
        )

    def forget(self, execution_id: str) -> None:
        def work(conn: psycopg.Connection) -> None:
            conn.execute("DELETE FROM plait_work_items WHERE execution_id = %s", (execution_id,))
            conn.execute("DELETE FROM plait_work_results WHERE execution_id = %s", (execution_id,))

        self._db.run(work)
        self._discard(execution_id)

    def acquire_driver(
        self, execution_id: str, driver: str, lease_seconds: float, *, dead: str | None = None
    ) -> bool:
        params = {"id": execution_id, "driver": driver, "lease": lease_seconds, "dead": dead}

        def work(conn: psycopg.Connection) -> bool:
            if conn.execute(ACQUIRE_DRIVER, params).fetchone() is None:
                return False
            conn.execute(
                "UPDATE plait_work_results SET taken = false WHERE execution_id = %s AND taken",
                (execution_id,),
            )
            return True

        return self._db.run(work)

    def renew_drivers(
        self, driver: str, execution_ids: Sequence[str], lease_seconds: float
    ) -> set[str]:
        if not execution_ids:
            return set()
        rows = self._fetch(
            "UPDATE plait_drivers SET lease_until = now() + make_interval(secs => %s)"
            " WHERE driver = %s AND execution_id = ANY(%s) RETURNING execution_id",
            (lease_seconds, driver, list(execution_ids)),
        )
        return {row[0] for row in rows}

    def release_driver(self, execution_id: str, driver: str) -> None:
        self._write(
            "DELETE FROM plait_drivers WHERE execution_id = %s AND driver = %s",
            (execution_id, driver),
        )
        self._discard(execution_id)

    def drivers(self, execution_ids: Sequence[str]) -> dict[str, str]:
        if not execution_ids:
            return {}
        rows = self._fetch(
            "SELECT execution_id, driver FROM plait_drivers"
            " WHERE execution_id = ANY(%s) AND lease_until >= now()",
            (list(execution_ids),),
        )
        return {execution_id: driver for execution_id, driver in rows}

    def _fetch(self, sql: LiteralString, params: Sequence[Any] | Mapping[str, Any]) -> list[Any]:
        """The rows of one statement run in a transaction of its own."""
        return self._db.run(lambda conn: conn.execute(sql, params).fetchall())

    def _write(self, sql: LiteralString, params: Sequence[Any]) -> None:
        self._db.run(lambda conn: conn.execute(sql, params))

    def _discard(self, execution_id: str) -> None:
        self._listener.discard(execution_id)
        with self._lock:
            self._polled.pop(execution_id, None)

    def close(self) -> None:
        self._listener.close()
