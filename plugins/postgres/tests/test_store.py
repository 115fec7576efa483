"""What the PostgreSQL store does beyond the shared contract suite (tests/contract): the cost of
a state change, values PostgreSQL's types would refuse, the plugin's registration."""

from __future__ import annotations

from pathlib import Path

import psycopg
from plait.state.documents import DocumentRepository
from plait.state.model import Execution, LogEntry, State
from plait_postgres.plugin import register_repositories
from plait_postgres.store import PostgresStore, open_store
from plait_sdk.state import StateStore


def test_the_plugin_registers_a_state_store(pg_dsn: str, tmp_path: Path) -> None:
    store = register_repositories()["postgres"](tmp_path, {"dsn": pg_dsn})
    assert isinstance(store, PostgresStore) and isinstance(store, StateStore)
    store.close()


def test_a_state_change_rewrites_only_the_changed_task_runs(pg_dsn: str) -> None:
    repository = DocumentRepository(open_store({"dsn": pg_dsn}))
    execution = Execution.new("ns", "f", 1, {}, {})
    runs = [execution.add_task_run(f"t{n}") for n in range(20)]
    repository.save(execution)

    def row_versions() -> dict[str, str]:
        with psycopg.connect(pg_dsn) as conn:
            rows = conn.execute("SELECT id, xmin::text FROM task_runs").fetchall()
        return dict(rows)

    before = row_versions()
    runs[3].transition(State.RUNNING)
    repository.save_state(execution, [runs[3]])
    after = row_versions()
    repository.close()
    changed = {run_id for run_id in before if before[run_id] != after[run_id]}
    assert changed == {runs[3].id}


def test_nul_characters_survive_in_documents_and_are_replaced_in_logs(pg_dsn: str) -> None:
    repository = DocumentRepository(open_store({"dsn": pg_dsn}))
    execution = Execution.new("ns", "f", 1, {"raw": "a\x00b"}, {})
    repository.save(execution)
    repository.append_logs([LogEntry(execution.id, None, None, "INFO", "bin\x00ary")])
    assert repository.get(execution.id).inputs == {"raw": "a\x00b"}
    assert [entry.message for entry in repository.logs(execution.id)] == ["bin\ufffdary"]
    repository.close()
