"""What a worker knows of an execution between its task runs (plait.executor.execution_views):
read once, then refreshed with the task runs stored since (PostgreSQL's ``changes_since``) —
outputs stored later are seen, task runs a restart removed are forgotten — or read whole from
a repository without change numbers (SQLite). Each task run runs in a view of its own that
stops alone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from plait.api import Engine
from plait.executor.execution_views import ExecutionViews
from plait.executor.flow_cache import FlowCache
from plait.state.model import Execution, State, TaskRun
from support.scale_out import postgres_env

FLOW = """
id: views
namespace: tests.views
tasks:
  - id: a
    type: io.kestra.plugin.core.debug.Return
    format: one
  - id: b
    type: io.kestra.plugin.core.debug.Return
    format: two
"""


@pytest.fixture
def pg_engine(tmp_path: Path, pg_dsn: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    for name, value in postgres_env(pg_dsn).items():
        monkeypatch.setenv(name, value)
    engine = Engine.create(home=tmp_path / "home")
    engine.task_workers = False  # nothing runs here but what the test calls
    yield engine
    engine.close()


def stored(engine: Engine) -> Execution:
    execution = engine.prepare(engine.load(FLOW)).execution
    execution.transition(State.RUNNING)
    engine.repository.save(execution)
    return execution


def ended(execution: Execution, task_id: str, value: str) -> TaskRun:
    run = execution.add_task_run(task_id)
    run.transition(State.SUCCESS)
    run.outputs = {"value": value}
    return run


def test_a_worker_refreshes_the_execution_with_what_was_stored_since(pg_engine: Engine) -> None:
    repository = pg_engine.repository
    execution = stored(pg_engine)
    first = ended(execution, "a", "one")
    repository.save_state(execution, [first])
    views = ExecutionViews(pg_engine, FlowCache(pg_engine))

    job = views.current(execution.id)
    assert job is not None and job.outputs == {"a": {"value": "one"}}

    second = ended(execution, "b", "two")
    repository.save_state(execution, [second])
    refreshed = views.current(execution.id)
    assert refreshed is job  # refreshed in place, not read again
    assert [run.id for run in job.execution.task_runs] == [first.id, second.id]
    variables = job.variables_for(job.index.runs[second.id])
    rendered = job.render("{{ outputs.a.value }}-{{ outputs.b.value }}", variables, task_id="b")
    assert rendered == "one-two"

    execution.task_runs.remove(second)  # a restart removed it: start over from the store
    repository.save(execution)
    again = views.current(execution.id)
    assert again is not None and again is not job
    assert again.outputs == {"a": {"value": "one"}}


def test_an_ended_or_missing_execution_is_not_kept(pg_engine: Engine) -> None:
    execution = stored(pg_engine)
    views = ExecutionViews(pg_engine, FlowCache(pg_engine))
    job = views.current(execution.id)
    execution.transition(State.SUCCESS)
    pg_engine.repository.save_state(execution, [])

    done = views.current(execution.id)
    assert done is job and done.execution.state is State.SUCCESS
    assert views.current(execution.id) is not job  # forgotten once ended: read whole again
    assert views.current("no-such-execution") is None


def test_each_task_run_stops_alone(pg_engine: Engine) -> None:
    execution = stored(pg_engine)
    job = ExecutionViews(pg_engine, FlowCache(pg_engine)).current(execution.id)
    assert job is not None
    lost, other = job.for_task_run(), job.for_task_run()
    lost.cancel_tasks()  # its claim was lost
    assert lost.cancelled and not other.cancelled and not job.cancelled
    assert other.outputs is job.outputs and other.index is job.index


def test_without_change_numbers_the_execution_is_read_whole(tmp_path: Path) -> None:
    engine = Engine.create(home=tmp_path / "home")  # SQLite
    try:
        execution = stored(engine)
        views = ExecutionViews(engine, FlowCache(engine))
        job = views.current(execution.id)
        engine.repository.save_state(execution, [ended(execution, "a", "one")])
        again = views.current(execution.id)
        assert job is not None and again is not None and again is not job
        assert again.outputs == {"a": {"value": "one"}}
    finally:
        engine.close()
