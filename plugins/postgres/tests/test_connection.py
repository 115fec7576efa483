"""Connections survive a PostgreSQL restart, and a server that stays down is one clear error
naming the database without its password."""

from __future__ import annotations

import threading
import time

import pytest
from plait.errors import PlaitError
from plait.state.documents import DocumentRepository
from plait.state.model import LogEntry
from plait_postgres.connection import Database, redact
from plait_postgres.store import open_store
from plait_postgres.testing import Cluster
from plait_sdk.errors import StateError, StateUnavailable


def with_password(dsn: str) -> str:
    """The DSN with a password (trust authentication ignores it; the messages must not show it)."""
    return dsn.replace("postgresql://postgres@", "postgresql://postgres:s3cret-pw@")


def test_redact_drops_the_password_in_both_dsn_forms() -> None:
    assert (
        redact("postgresql://u:pw@db.example:5433/plait") == "postgresql://u@db.example:5433/plait"
    )
    assert redact("host=db user=u password=pw dbname=plait") == "postgresql://u@db/plait"
    with pytest.raises(StateError, match="invalid PostgreSQL DSN"):
        redact("nonsense here")


def test_the_pool_reconnects_after_a_restart(pg_cluster: Cluster, pg_dsn: str) -> None:
    db = Database(pg_dsn, pool_size=2)
    try:
        backend = db.run(lambda conn: conn.execute("SELECT pg_backend_pid()").fetchone())
        pg_cluster.restart()
        again = db.run(lambda conn: conn.execute("SELECT pg_backend_pid()").fetchone())
    finally:
        db.close()
    assert again != backend, "a new connection"


def test_writes_carry_on_across_a_restart(pg_cluster: Cluster, pg_dsn: str) -> None:
    """A process logging continuously while PostgreSQL restarts loses no line and fails none."""
    repository = DocumentRepository(open_store({"dsn": pg_dsn}))
    written: list[int] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def write() -> None:
        try:
            while not stop.is_set() or len(written) < 50:
                n = len(written)
                repository.append_logs([LogEntry("e", None, None, "INFO", f"line {n}")])
                written.append(n)
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    time.sleep(0.2)
    pg_cluster.restart()
    time.sleep(0.2)
    stop.set()
    writer.join(timeout=60)
    repository.close()
    assert errors == []
    lines = [entry.message for entry in DocumentRepository(open_store({"dsn": pg_dsn})).logs("e")]
    assert lines[: len(written)] == [f"line {n}" for n in written]


def test_a_server_that_stays_down_is_a_clear_error(pg_cluster: Cluster, pg_dsn: str) -> None:
    store = open_store({"dsn": with_password(pg_dsn), "retrySeconds": 1})
    pg_cluster.stop()
    started = time.monotonic()
    with pytest.raises(StateUnavailable) as raised:
        store.kill_requested("x")
    assert 0.5 < time.monotonic() - started < 30, "retried, then gave up"
    message = str(raised.value)
    assert (
        f"cannot reach PostgreSQL at postgresql://postgres@127.0.0.1:{pg_cluster.port}/" in message
    )
    assert "retried for 1 s" in message and "s3cret-pw" not in message
    with pytest.raises(PlaitError, match="cannot reach PostgreSQL") as wrapped:
        DocumentRepository(store).get("x")
    assert "s3cret-pw" not in str(wrapped.value)
    store.close()


def test_opening_without_a_server_is_a_clear_error(pg_cluster: Cluster, pg_dsn: str) -> None:
    pg_cluster.stop()
    with pytest.raises(StateUnavailable, match="cannot reach PostgreSQL") as raised:
        open_store({"dsn": with_password(pg_dsn), "retrySeconds": 0.5})
    assert "s3cret-pw" not in str(raised.value)


def test_options_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLAIT_POSTGRES_DSN", raising=False)
    with pytest.raises(StateError, match="needs a database: set PLAIT_POSTGRES_DSN"):
        open_store({})
    with pytest.raises(StateError, match=r"unknown option 'dns' for postgres \(known: dsn,"):
        open_store({"dns": "x"})
