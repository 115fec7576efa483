"""Schema migrations on a real server: versioned per component, idempotent, safe when several
processes start at once, and refusing a database a newer release migrated."""

from __future__ import annotations

import subprocess
import sys
import time

import psycopg
import pytest
from plait_postgres.connection import Database
from plait_postgres.migrations import COMPONENTS, migrate
from plait_sdk.errors import StateError

LATEST = {component: len(scripts) for component, scripts in COMPONENTS.items()}
STATE_TABLES = {
    "executions",
    "task_runs",
    "logs",
    "flows",
    "triggers",
    "kv",
    "task_cache",
    "kill_requests",
    "plait_schema",
}


def tables_and_versions(dsn: str) -> tuple[set[str], dict[str, int]]:
    with psycopg.connect(dsn) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
        versions = conn.execute("SELECT component, version FROM plait_schema").fetchall()
    return {name for (name,) in tables}, dict(versions)


def test_migrating_twice_is_a_no_op(pg_dsn: str) -> None:
    db = Database(pg_dsn)
    try:
        migrate(db)
        first = tables_and_versions(pg_dsn)
        migrate(db)
        assert tables_and_versions(pg_dsn) == first
    finally:
        db.close()
    tables, versions = first
    assert tables >= STATE_TABLES
    assert versions == LATEST


def test_components_migrate_on_their_own_versions(pg_dsn: str) -> None:
    db = Database(pg_dsn)
    extra = {"extra": ["CREATE TABLE extra_one (x int)", "CREATE TABLE extra_two (x int)"]}
    try:
        migrate(db, {"extra": extra["extra"][:1]})
        assert tables_and_versions(pg_dsn)[1] == {"extra": 1}
        migrate(db, {**COMPONENTS, **extra})
        tables, versions = tables_and_versions(pg_dsn)
    finally:
        db.close()
    assert versions == {"extra": 2, **LATEST}
    assert {"extra_one", "extra_two", "executions"} <= tables


def test_processes_starting_at_once_migrate_once(pg_dsn: str) -> None:
    # Each process imports first, then waits for the same instant: the migrations overlap.
    script = (
        "import sys, time; from plait_postgres.store import open_store; "
        "time.sleep(max(0, float(sys.argv[2]) - time.time())); "
        "open_store({'dsn': sys.argv[1]}).close()"
    )
    start = str(time.time() + 3)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, pg_dsn, start], stderr=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    tables, versions = tables_and_versions(pg_dsn)
    assert versions == LATEST
    assert tables >= STATE_TABLES


def test_a_schema_from_a_newer_release_is_refused(pg_dsn: str) -> None:
    db = Database(pg_dsn)
    try:
        migrate(db)
        db.run(lambda conn: conn.execute("UPDATE plait_schema SET version = 99"))
        with pytest.raises(StateError, match=r"state schema .* version 99, newer .*upgrade"):
            migrate(db)
    finally:
        db.close()
