"""A home written by plait before task runs became rows (schema version 1) migrates in place:
its executions read back in the new shape, and new executions go on beside them."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from plait.state.model import Execution, State
from plait.state.sqlite import MIGRATIONS, SCHEMA_VERSION, SqliteRepository

VERSION_1_DOCUMENT = {
    "id": "0OldExecution000000001",
    "namespace": "dev",
    "flowId": "old",
    "flowRevision": 1,
    "state": "FAILED",
    "stateHistory": [
        {"state": "CREATED", "date": "2026-11-01T10:00:00.000000Z"},
        {"state": "RUNNING", "date": "2026-11-01T10:00:00.100000Z"},
        {"state": "FAILED", "date": "2026-11-01T10:00:02.000000Z"},
    ],
    "inputs": {"n": 1},
    "labels": {"team": "data"},
    "outputs": None,
    "parentId": None,
    "created": "2026-11-01T10:00:00.000000Z",
    "ended": "2026-11-01T10:00:02.000000Z",
    "taskRuns": [
        {
            "id": "0OldTaskRun00000000001",
            "taskId": "first",
            "state": "SUCCESS",
            "attempts": 1,
            "outputs": {"value": "one"},
            "error": None,
            "started": "2026-11-01T10:00:00.200000Z",
            "ended": "2026-11-01T10:00:00.300000Z",
            "stateHistory": [
                {"state": "CREATED", "date": "2026-11-01T10:00:00.150000Z"},
                {"state": "RUNNING", "date": "2026-11-01T10:00:00.200000Z"},
                {"state": "SUCCESS", "date": "2026-11-01T10:00:00.300000Z"},
            ],
        },
        {
            "id": "0OldTaskRun00000000002",
            "taskId": "second",
            "state": "FAILED",
            "attempts": 3,
            "outputs": None,
            "error": "boom",
            "started": "2026-11-01T10:00:00.400000Z",
            "ended": "2026-11-01T10:00:02.000000Z",
            "stateHistory": [
                {"state": "CREATED", "date": "2026-11-01T10:00:00.350000Z"},
                {"state": "RUNNING", "date": "2026-11-01T10:00:00.400000Z"},
                {"state": "FAILED", "date": "2026-11-01T10:00:02.000000Z"},
            ],
        },
    ],
}


def _version_1_home(path: Path) -> None:
    conn = sqlite3.connect(path)
    for statement in MIGRATIONS[0]:
        conn.execute(statement)
    conn.execute(
        "INSERT INTO executions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            VERSION_1_DOCUMENT["id"],
            "dev",
            "old",
            1,
            "FAILED",
            None,
            VERSION_1_DOCUMENT["created"],
            VERSION_1_DOCUMENT["ended"],
            json.dumps(VERSION_1_DOCUMENT),
        ),
    )
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()


def test_a_version_1_home_migrates_in_place(tmp_path: Path) -> None:
    path = tmp_path / "plait.db"
    _version_1_home(path)

    with SqliteRepository(path) as repo:
        old = repo.get("0OldExecution")
        assert old.state is State.FAILED
        assert old.labels == {"team": "data"}
        assert [r.task_id for r in old.task_runs] == ["first", "second"]
        first, second = old.task_runs
        assert first.outputs == {"value": "one"} and first.state is State.SUCCESS
        assert (second.error, len(second.attempts)) == ("boom", 3)
        document = old.to_document()
        assert document["state"]["current"] == "FAILED"
        assert document["taskRunList"][1]["state"]["current"] == "FAILED"

        fresh = Execution.new("dev", "new", 1, {}, {})
        repo.save(fresh)
        assert [e.id for e in repo.list()] == [fresh.id, old.id]

    conn = sqlite3.connect(path)
    (version,) = conn.execute("PRAGMA user_version").fetchone()
    rows = conn.execute("SELECT count(*) FROM task_runs").fetchone()[0]
    conn.close()
    assert (version, rows) == (SCHEMA_VERSION, 2)
