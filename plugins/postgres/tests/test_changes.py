"""``changes_since``: what a worker reads to refresh the execution it holds — the task runs
stored since its last read, every one after a ``save`` replaced them, and change numbers in
the order one execution's writes commit."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from plait.errors import NotFoundError
from plait.state.documents import DocumentRepository
from plait.state.model import Execution, State, TaskRun
from plait_postgres.store import open_store
from plait_sdk.errors import StateNotFound


@pytest.fixture
def repository(pg_dsn: str) -> Iterator[DocumentRepository]:
    repository = DocumentRepository(open_store({"dsn": pg_dsn}))
    yield repository
    repository.close()


def ids(execution: Execution) -> list[str]:
    return [run.id for run in execution.task_runs]


def test_a_refresh_reads_only_the_task_runs_stored_since(
    repository: DocumentRepository,
) -> None:
    execution = Execution.new("ns", "f", 1, {}, {})
    runs = [execution.add_task_run(f"t{n}") for n in range(5)]
    repository.save(execution)

    first, change, complete = repository.changes_since(execution.id, 0)
    assert complete and ids(first) == [run.id for run in runs]

    runs[3].transition(State.RUNNING)
    repository.save_state(execution, [runs[3]])
    added = execution.add_task_run("late")
    repository.save_state(execution, [added])
    execution.transition(State.RUNNING)
    repository.save_state(execution, [])

    later, newer, complete = repository.changes_since(execution.id, change)
    assert not complete
    assert ids(later) == [runs[3].id, added.id]  # in the order first stored
    assert later.task_runs[0].state is State.RUNNING
    assert later.state is State.RUNNING  # the execution as stored now
    assert newer == change + 3

    same, unchanged, complete = repository.changes_since(execution.id, newer)
    assert (ids(same), unchanged, complete) == ([], newer, False)


def test_after_a_save_replaced_the_task_runs_a_refresh_gets_them_all(
    repository: DocumentRepository,
) -> None:
    execution = Execution.new("ns", "f", 1, {}, {})
    kept, dropped = execution.add_task_run("kept"), execution.add_task_run("dropped")
    repository.save(execution)
    _, change, _ = repository.changes_since(execution.id, 0)

    execution.task_runs.remove(dropped)  # a restart or replay removes task runs
    repository.save(execution)

    found, _, complete = repository.changes_since(execution.id, change)
    assert complete and ids(found) == [kept.id]


def test_an_unknown_execution_is_not_found(repository: DocumentRepository) -> None:
    with pytest.raises(NotFoundError):
        repository.changes_since("nope", 0)
    with pytest.raises(StateNotFound):
        repository.store.changes_since("nope", 0)  # type: ignore[attr-defined]


def test_change_numbers_follow_the_commit_order_of_concurrent_writes(
    repository: DocumentRepository,
) -> None:
    """Whatever order concurrent writers commit in, a reader that saw change n saw every
    write before it: following the numbers loses no task run."""
    execution = Execution.new("ns", "f", 1, {}, {})
    repository.save(execution)
    writers, per_writer = 4, 25
    stored: list[TaskRun] = []
    lock = threading.Lock()

    def write(name: str) -> None:
        for n in range(per_writer):
            run = TaskRun.new(f"{name}{n}")
            with lock:
                stored.append(run)
            repository.save_state(execution, [run])

    threads = [threading.Thread(target=write, args=(f"w{w}-",)) for w in range(writers)]
    for thread in threads:
        thread.start()
    seen: set[str] = set()
    change = 0
    while any(thread.is_alive() for thread in threads):
        found, change, _ = repository.changes_since(execution.id, change)
        seen.update(ids(found))
    for thread in threads:
        thread.join()
    found, change, _ = repository.changes_since(execution.id, change)
    seen.update(ids(found))
    assert seen == {run.id for run in stored}
    assert change == 1 + writers * per_writer
