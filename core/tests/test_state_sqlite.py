"""The SQLite repository on a real database file: executions, logs, flow revisions, schema."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from plait.errors import NotFoundError, PlaitError
from plait.state import Execution, ExecutionRepository, LogEntry, SqliteRepository, State
from plait.state.sqlite import SCHEMA_VERSION


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "home" / "nested" / "plait.db"


@pytest.fixture
def repo(db_path: Path) -> Iterator[SqliteRepository]:
    repository = SqliteRepository(db_path)
    yield repository
    repository.close()


def make_execution(namespace: str = "company.team", flow_id: str = "flow") -> Execution:
    execution = Execution.new(namespace, flow_id, 1, {"who": "world"}, {"env": "test"})
    run = execution.add_task_run("hello")
    run.transition(State.RUNNING)
    run.outputs = {"value": "hi"}
    run.transition(State.SUCCESS)
    execution.transition(State.SUCCESS)
    return execution


def test_implements_the_protocol(repo: SqliteRepository) -> None:
    assert isinstance(repo, ExecutionRepository)


def test_creates_parent_dirs_wal_and_schema_version(repo: SqliteRepository, db_path: Path) -> None:
    assert db_path.is_file()
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_save_and_get_round_trip_across_connections(repo: SqliteRepository, db_path: Path) -> None:
    execution = make_execution()
    repo.save(execution)
    with SqliteRepository(db_path) as other:
        assert other.get(execution.id) == execution


def test_save_is_an_upsert(repo: SqliteRepository, db_path: Path) -> None:
    execution = Execution.new("ns", "flow", 1, {}, {})
    repo.save(execution)
    execution.transition(State.RUNNING)
    execution.add_task_run("t").transition(State.RUNNING)
    repo.save(execution)
    assert repo.get(execution.id).state is State.RUNNING
    assert repo.get(execution.id).task_runs[0].task_id == "t"
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("SELECT count(*), max(state) FROM executions").fetchone() == (
            1,
            "RUNNING",
        )


def test_get_unknown_id_is_a_clear_not_found(repo: SqliteRepository, db_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"execution 'nope' not found in .*plait\.db"):
        repo.get("nope")
    with pytest.raises(NotFoundError, match="required"):
        repo.get("")


def test_newer_schema_is_refused(db_path: Path) -> None:
    SqliteRepository(db_path).close()
    with sqlite3.connect(db_path) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(PlaitError, match="written by a newer plait"):
        SqliteRepository(db_path)


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "plait.db"
    path.write_text("this is not sqlite " * 100)
    with pytest.raises(PlaitError, match=r"state database .*plait\.db: file is not a database"):
        SqliteRepository(path)


def test_failed_transaction_leaves_nothing(repo: SqliteRepository, db_path: Path) -> None:
    good = LogEntry("e", None, None, "INFO", "ok")
    bad = LogEntry("e", None, None, "INFO", None)  # type: ignore[arg-type]  # NOT NULL
    with pytest.raises(sqlite3.IntegrityError):
        repo.append_logs([good, bad])
    assert repo.logs("e") == []
    repo.append_logs([good])
    assert [e.message for e in repo.logs("e")] == ["ok"]


def test_close_is_idempotent_and_final(db_path: Path) -> None:
    repository = SqliteRepository(db_path)
    repository.close()
    repository.close()
    with pytest.raises(RuntimeError, match="closed"):
        repository.list()
