"""The SQLite repository on a real database file: executions, logs, flow revisions, schema."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
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


def test_get_by_unique_prefix(repo: SqliteRepository) -> None:
    execution = make_execution()
    repo.save(execution)
    assert repo.get(execution.id[:6]).id == execution.id


def test_get_unknown_id_is_a_clear_not_found(repo: SqliteRepository, db_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"execution 'nope' not found in .*plait\.db"):
        repo.get("nope")
    with pytest.raises(NotFoundError, match="required"):
        repo.get("")


def test_ambiguous_prefix_lists_candidates(repo: SqliteRepository) -> None:
    ids = ["abc111", "abc222", "abd333"]
    for execution_id in ids:
        execution = make_execution()
        execution.id = execution_id
        repo.save(execution)
    with pytest.raises(
        NotFoundError, match=r"prefix 'abc' is ambiguous: it matches abc111, abc222;"
    ):
        repo.get("abc")
    assert repo.get("abd").id == "abd333"
    # An id that is also the prefix of a longer one still finds itself.
    exact = make_execution()
    exact.id = "abc"
    repo.save(exact)
    assert repo.get("abc").id == "abc"


def test_list_newest_first_with_filters_and_limit(repo: SqliteRepository) -> None:
    saved = []
    base = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    for index in range(6):
        execution = make_execution("a" if index % 2 else "b", f"flow{index % 3}")
        execution.history[0].date = base + dt.timedelta(minutes=index)
        repo.save(execution)
        saved.append(execution)
    newest_first = [e.id for e in reversed(saved)]
    assert [e.id for e in repo.list()] == newest_first
    assert [e.id for e in repo.list(limit=2)] == newest_first[:2]
    assert [e.id for e in repo.list(namespace="a")] == [saved[i].id for i in (5, 3, 1)]
    assert [e.id for e in repo.list(namespace="a", flow_id="flow0")] == [saved[3].id]
    assert repo.list(flow_id="missing") == []
    with pytest.raises(ValueError, match="limit"):
        repo.list(limit=0)


def test_logs_keep_order_and_filter_by_task(repo: SqliteRepository) -> None:
    stamp = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    entries = [
        LogEntry("e1", "a" if i % 2 else "b", f"r{i % 2}", "INFO", f"line {i}", stamp)
        for i in range(10)
    ]
    repo.append_logs(entries[:4])
    repo.append_logs([LogEntry("e2", None, None, "ERROR", "other execution", stamp)])
    repo.append_logs(entries[4:])
    repo.append_logs([])
    assert repo.logs("e1") == entries
    assert [e.message for e in repo.logs("e1", task_id="a")] == [
        f"line {i}" for i in (1, 3, 5, 7, 9)
    ]
    assert repo.logs("e2")[0].task_id is None
    assert repo.logs("unknown") == []


def test_flow_revisions(repo: SqliteRepository) -> None:
    assert repo.save_flow("ns", "flow", "id: flow\n") == 1
    assert repo.save_flow("ns", "flow", "id: flow\n") == 1, "same source keeps the revision"
    assert repo.save_flow("ns", "flow", "id: flow\n# changed\n") == 2
    assert repo.save_flow("ns", "other", "id: other\n") == 1
    assert repo.save_flow("ns", "flow", "id: flow\n") == 3, "going back is a new revision"
    latest = repo.get_flow("ns", "flow")
    assert (latest.revision, latest.source) == (3, "id: flow\n")
    assert repo.get_flow("ns", "flow", 2).source == "id: flow\n# changed\n"
    assert latest.created.tzinfo is not None


def test_missing_flow_messages(repo: SqliteRepository) -> None:
    with pytest.raises(NotFoundError, match=r"flow 'ns\.nope' not found"):
        repo.get_flow("ns", "nope")
    repo.save_flow("ns", "flow", "x")
    with pytest.raises(NotFoundError, match=r"'ns\.flow' has no revision 7 \(latest is 1\)"):
        repo.get_flow("ns", "flow", 7)


def test_threads_share_one_repository(repo: SqliteRepository) -> None:
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for _ in range(25):
                execution = make_execution(flow_id=f"t{worker}")
                repo.save(execution)
                repo.append_logs([LogEntry(execution.id, "hello", None, "INFO", "hi")])
                assert repo.get(execution.id).id == execution.id
        except BaseException as exc:  # collected and reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(repo.list(limit=1000)) == 100


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
