"""The repository contract, executions and logs: every backend behaves as the protocol's
docstrings say (ExecutionRepository, plait_sdk.state.StateStore)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from plait.errors import NotFoundError
from plait.state import Execution, ExecutionRepository, LogEntry, State
from plait.state.model import format_datetime
from support.race import race

Opener = Callable[[], ExecutionRepository]
BASE = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def make_execution(
    namespace: str = "company.team", flow_id: str = "flow", *, minute: int = 0
) -> Execution:
    execution = Execution.new(namespace, flow_id, 1, {"who": "world"}, {"env": "test"})
    execution.history[0].date = BASE + dt.timedelta(minutes=minute)
    return execution


def finished(execution: Execution, state: State = State.SUCCESS) -> Execution:
    run = execution.add_task_run("hello")
    run.transition(State.RUNNING)
    run.outputs = {"value": "hi ✓", "nul": "a\x00b", "nested": [1, 2.5, {"x": None}]}
    run.transition(State.SUCCESS)
    execution.transition(state)
    return execution


def test_save_and_get_round_trip_from_another_connection(
    repository: ExecutionRepository, open_repository: Opener
) -> None:
    execution = finished(make_execution())
    execution.outputs = {"total": 3, "text": "héllo"}
    execution.driver = "host:123"
    repository.save(execution)
    assert open_repository().get(execution.id) == execution


def test_save_stores_exactly_the_listed_task_runs_in_order(repository: ExecutionRepository) -> None:
    execution = make_execution()
    first, second, third = (execution.add_task_run(name) for name in ("a", "b", "c"))
    repository.save(execution)
    execution.task_runs.remove(second)
    fourth = execution.add_task_run("d")
    execution.transition(State.RUNNING)
    repository.save(execution)
    stored = repository.get(execution.id)
    assert [run.id for run in stored.task_runs] == [first.id, third.id, fourth.id]
    assert stored.state is State.RUNNING
    assert len(repository.list()) == 1, "save is an upsert"


def test_save_state_replaces_changed_runs_in_place_and_keeps_the_others(
    repository: ExecutionRepository,
) -> None:
    execution = make_execution()
    first, second = execution.add_task_run("a"), execution.add_task_run("b")
    repository.save(execution)
    first.transition(State.RUNNING)
    third = execution.add_task_run("c")
    execution.transition(State.RUNNING)
    repository.save_state(execution, [third, first])
    stored = repository.get(execution.id)
    assert [run.id for run in stored.task_runs] == [first.id, second.id, third.id]
    assert stored.task_runs[0].state is State.RUNNING
    assert stored.state is State.RUNNING
    repository.save_state(execution, [])  # the execution alone
    assert len(repository.get(execution.id).task_runs) == 3


def test_get_by_prefix_exact_id_wins_and_ambiguity_is_named(
    repository: ExecutionRepository,
) -> None:
    for execution_id in ["abc111", "abc222", "abd333"]:
        execution = make_execution()
        execution.id = execution_id
        repository.save(execution)
    with pytest.raises(
        NotFoundError, match=r"prefix 'abc' is ambiguous: it matches abc111, abc222;"
    ):
        repository.get("abc")
    assert repository.get("abd").id == "abd333"
    exact = make_execution()
    exact.id = "abc"
    repository.save(exact)
    assert repository.get("abc").id == "abc"
    with pytest.raises(NotFoundError, match=r"execution 'nope' not found in "):
        repository.get("nope")
    with pytest.raises(NotFoundError, match="required"):
        repository.get("")


def test_list_is_newest_first_with_exact_namespace_and_limit(
    repository: ExecutionRepository,
) -> None:
    saved = []
    for index in range(6):
        namespace = "a" if index % 2 else "b"
        saved.append(make_execution(namespace, f"flow{index % 3}", minute=index))
        repository.save(saved[-1])
    repository.save(make_execution("a.child", "flow1", minute=30))
    newest_first = [e.id for e in reversed(saved)]
    assert [e.id for e in repository.list()][1:] == newest_first
    assert [e.id for e in repository.list(limit=3)][1:] == newest_first[:2]
    assert [e.id for e in repository.list(namespace="a")] == [saved[i].id for i in (5, 3, 1)]
    assert [e.id for e in repository.list(namespace="a", flow_id="flow0")] == [saved[3].id]
    assert repository.list(flow_id="missing") == []
    with pytest.raises(ValueError, match="limit"):
        repository.list(limit=0)


def test_same_created_instant_orders_by_insertion(repository: ExecutionRepository) -> None:
    executions = [make_execution(minute=0) for _ in range(3)]
    for execution in executions:
        repository.save(execution)
    assert [e.id for e in repository.list()] == [e.id for e in reversed(executions)]


def test_search_matches_child_namespaces_states_and_pages(repository: ExecutionRepository) -> None:
    names = ["dev", "dev.team", "dev.team.sub", "devops", "prod"]
    by_namespace = {}
    for minute, namespace in enumerate(names):
        execution = make_execution(namespace, "f", minute=minute)
        if namespace == "dev.team":
            finished(execution, State.FAILED)
        repository.save(execution)
        by_namespace[namespace] = execution.id
    found, total = repository.search(namespace="dev")
    assert total == 3
    assert [e.id for e in found] == [by_namespace[n] for n in ("dev.team.sub", "dev.team", "dev")]
    found, total = repository.search(namespace="dev", states=["FAILED", "KILLED"])
    assert (total, [e.id for e in found]) == (1, [by_namespace["dev.team"]])
    pages = [repository.search(page=page, size=2) for page in (1, 2, 3, 4)]
    assert [total for _, total in pages] == [5, 5, 5, 5]
    assert [len(found) for found, _ in pages] == [2, 2, 1, 0]
    assert [e.id for found, _ in pages for e in found] == [by_namespace[n] for n in reversed(names)]
    assert repository.search(flow_id="other") == ([], 0)
    with pytest.raises(ValueError, match="page and size"):
        repository.search(page=0)


def test_search_by_start_time_range_and_labels(repository: ExecutionRepository) -> None:
    ids = {}
    for minute, team in enumerate(["a", "b", "a", "a"]):
        execution = make_execution(minute=minute)
        execution.labels.update({"team": team, "tier": "gold" if minute % 2 else "bronze"})
        repository.save(execution)
        ids[minute] = execution.id

    def search(**filters: object) -> tuple[list[str], int]:
        found, total = repository.search(**filters)  # type: ignore[arg-type]
        return [e.id for e in found], total

    minute = dt.timedelta(minutes=1)
    window = {"started_from": BASE + minute, "started_to": BASE + 2 * minute}
    assert search(**window) == ([ids[2], ids[1]], 2), "both bounds are inclusive"
    assert search(started_from=BASE + 3 * minute) == ([ids[3]], 1)
    assert search(labels={"team": "a"}) == ([ids[3], ids[2], ids[0]], 3)
    assert search(labels={"team": "a", "tier": "gold"}) == ([ids[3]], 1), "every label must match"
    assert search(labels={"team": "a"}, **window) == ([ids[2]], 1)
    assert search(labels={"team": "c"}) == ([], 0)
    assert search(labels={"env": "test"}, size=2, page=2) == ([ids[1], ids[0]], 4)


def test_ended_since_is_oldest_end_first_after_the_date(repository: ExecutionRepository) -> None:
    ends = {}
    for minute in (3, 1, 2):
        execution = make_execution(minute=minute)
        execution.transition(State.SUCCESS, BASE + dt.timedelta(hours=1, minutes=minute))
        repository.save(execution)
        ends[minute] = execution.id
    repository.save(make_execution(minute=9))  # still running: never listed
    after = format_datetime(BASE + dt.timedelta(hours=1, minutes=1))
    assert [e.id for e in repository.ended_since(after)] == [ends[2], ends[3]]
    assert [e.id for e in repository.ended_since(format_datetime(BASE), limit=2)] == [
        ends[1],
        ends[2],
    ]
    assert repository.ended_since(after)[0].task_runs == []


def test_kill_requests_are_forgotten_when_the_execution_is_saved_ended(
    repository: ExecutionRepository, open_repository: Opener
) -> None:
    execution, other = make_execution(), make_execution()
    execution.transition(State.RUNNING)
    repository.save(execution)
    assert not repository.kill_requested(execution.id)
    repository.request_kill(execution.id)
    repository.request_kill(execution.id)  # idempotent
    assert open_repository().kill_requested(execution.id), "seen by other processes"
    assert not repository.kill_requested(other.id)
    repository.save_state(execution, [])
    assert repository.kill_requested(execution.id), "still running: still requested"
    execution.transition(State.KILLED)
    repository.save_state(execution, [])
    assert not repository.kill_requested(execution.id)
    repository.request_kill(other.id)
    repository.save(finished(other))
    assert not repository.kill_requested(other.id)


def running(namespace: str = "ns", flow_id: str = "limited") -> Execution:
    execution = make_execution(namespace, flow_id)
    execution.transition(State.RUNNING)
    return execution


def test_acquire_slot_counts_the_other_running_executions_of_the_flow(
    repository: ExecutionRepository,
) -> None:
    holder, waiter = running(), running()
    assert repository.acquire_slot(holder, 1)
    assert repository.acquire_slot(holder, 1), "an execution does not count against itself"
    assert repository.acquire_slot(running(flow_id="other"), 1), "other flows do not count"
    assert repository.acquire_slot(running(namespace="ns2"), 1), "nor other namespaces"
    assert not repository.acquire_slot(waiter, 1)
    with pytest.raises(NotFoundError):
        repository.get(waiter.id)  # refused: nothing stored
    holder.transition(State.SUCCESS)
    repository.save(holder)
    assert repository.acquire_slot(waiter, 1)
    assert repository.get(waiter.id).state is State.RUNNING


def test_acquire_slot_never_gives_out_more_than_the_limit_concurrently(
    open_repository: Opener,
) -> None:
    repositories = [open_repository() for _ in range(6)]
    executions = [running() for _ in range(6)]
    won = race(repositories, lambda repo, index: repo.acquire_slot(executions[index], 2))
    assert sum(won) == 2
    assert len(repositories[0].search(states=["RUNNING"])[0]) == 2


def test_logs_keep_append_order_and_filter_by_task(repository: ExecutionRepository) -> None:
    stamp = dt.datetime(2024, 1, 1, 12, 0, 0, 123456, tzinfo=dt.UTC)
    entries = [
        LogEntry("e1", "a" if i % 2 else "b", f"r{i % 2}", "INFO", f"line {i}", stamp)
        for i in range(10)
    ]
    repository.append_logs(entries[:4])
    repository.append_logs([LogEntry("e2", None, None, "ERROR", "other execution", stamp)])
    repository.append_logs(entries[4:])
    repository.append_logs([])
    assert repository.logs("e1") == entries
    assert [e.message for e in repository.logs("e1", task_id="a")] == [
        f"line {i}" for i in (1, 3, 5, 7, 9)
    ]
    assert repository.logs("e2")[0].task_id is None
    assert repository.logs("unknown") == []
    assert repository.logs("e1", after=7) == entries[7:]
    assert [e.message for e in repository.logs("e1", task_id="a", after=3)] == [
        "line 7",
        "line 9",
    ]
    assert repository.logs("e1", after=10) == []


def test_threads_share_one_repository(repository: ExecutionRepository) -> None:
    def work(worker: int) -> None:
        for _ in range(10):
            execution = finished(make_execution(flow_id=f"t{worker}"))
            repository.save(execution)
            repository.append_logs([LogEntry(execution.id, "hello", None, "INFO", "hi")])
            assert repository.get(execution.id).id == execution.id

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(work, range(4)))
    assert len(repository.list(limit=1000)) == 40
