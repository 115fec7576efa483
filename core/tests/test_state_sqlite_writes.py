"""How the SQLite repository writes an execution's row on each save: the document alone while
the indexed columns keep their values (one page written instead of one per index), the whole
row otherwise. Either way the row must be exactly what the full upsert writes."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from plait.state import Execution, SqliteRepository, State, model
from plait.state.sqlite_schema import UPSERT, execution_row

NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """A running execution's document holds its duration so far: one clock for every write."""
    monkeypatch.setattr(model, "utcnow", lambda: NOW)


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[SqliteRepository]:
    repository = SqliteRepository(tmp_path / "plait.db")
    yield repository
    repository.close()


def stored_row(repo: SqliteRepository, execution_id: str) -> tuple[object, ...]:
    conn = repo._connection()
    return tuple(conn.execute("SELECT * FROM executions WHERE id = ?", (execution_id,)).fetchone())


def upserted_row(tmp_path: Path, execution: Execution) -> tuple[object, ...]:
    """The row the full upsert alone writes, in a database of its own."""
    with SqliteRepository(tmp_path / "reference.db") as reference:
        conn = reference._connection()
        conn.execute(UPSERT, execution_row(execution))
        return stored_row(reference, execution.id)


def running_execution() -> Execution:
    execution = Execution.new("ns", "flow", 3, {"a": 1}, {"team": "x"})
    execution.transition(State.RUNNING)
    return execution


def wal_frames_of(repo: SqliteRepository, save: object) -> int:
    """WAL frames (pages) one call of ``save`` writes."""
    conn = repo._connection()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert callable(save)
    save()
    return int(conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1])


def test_each_save_of_a_running_execution_leaves_the_full_upserts_row(
    repo: SqliteRepository, tmp_path: Path
) -> None:
    execution = Execution.new("ns", "flow", 3, {"a": 1}, {"team": "x"})
    repo.save_state(execution, [])
    execution.transition(State.RUNNING)  # a new state, still no end
    repo.save_state(execution, [])
    assert stored_row(repo, execution.id)[4] == "RUNNING"
    run = execution.add_task_run("t")
    run.transition(State.RUNNING)
    repo.save_state(execution, [run])
    assert stored_row(repo, execution.id) == upserted_row(tmp_path, execution)
    execution.transition(State.SUCCESS)
    repo.save_state(execution, [run])
    row = stored_row(repo, execution.id)
    assert row == upserted_row(tmp_path / "after", execution)
    assert row[4] == "SUCCESS" and row[7] is not None  # state and ended: indexed columns


def test_a_row_another_writer_changed_is_written_whole(
    repo: SqliteRepository, tmp_path: Path
) -> None:
    execution = running_execution()
    repo.save_state(execution, [])
    conn = repo._connection()
    conn.execute(
        "UPDATE executions SET state = 'KILLING', flow_id = 'other' WHERE id = ?", (execution.id,)
    )
    repo.save_state(execution, [])
    assert stored_row(repo, execution.id) == upserted_row(tmp_path, execution)


def test_saving_a_running_execution_writes_fewer_pages_than_the_full_upsert(
    repo: SqliteRepository,
) -> None:
    execution = running_execution()
    repo.save_state(execution, [])
    conn = repo._connection()

    def full_upsert() -> None:
        with repo._write() as transaction:
            transaction.execute(UPSERT, execution_row(execution))

    execution.inputs["grows"] = "x"  # the document changes, as its duration does while it runs
    narrow = wal_frames_of(repo, lambda: repo.save_state(execution, []))
    execution.inputs["grows"] = "xy"
    full = wal_frames_of(repo, full_upsert)
    assert conn.execute("SELECT count(*) FROM executions").fetchone()[0] == 1
    assert narrow < full, (narrow, full)


def test_a_database_without_the_row_gets_it(tmp_path: Path) -> None:
    execution = running_execution()
    with SqliteRepository(tmp_path / "plait.db") as repo:
        repo.save_state(execution, [])
        assert stored_row(repo, execution.id) == upserted_row(tmp_path, execution)
    with sqlite3.connect(tmp_path / "plait.db") as raw:
        assert raw.execute("SELECT state FROM executions").fetchall() == [("RUNNING",)]
