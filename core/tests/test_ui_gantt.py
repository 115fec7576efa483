"""The Gantt's items (plait.server.ui.gantt) and the execution search's time-range and label
filters (plait.server.execution_search), on real executions in a real SQLite store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from plait.api import Engine
from plait.server.execution_search import ExecutionQuery, search_executions
from plait.server.ui.gantt import GroupEnd, GroupStart, Row, Timeline, gantt, group_state
from plait.state.model import Attempt, Execution, State, StateChange
from plait.state.sqlite import SqliteRepository

NESTED = """\
id: nested
namespace: ui.gantt
tasks:
  - id: outer
    type: io.kestra.plugin.core.flow.ForEach
    values: ["a", "b"]
    tasks:
      - id: inner
        type: io.kestra.plugin.core.flow.ForEach
        values: [1, 2, 3]
        tasks:
          - id: leaf
            type: plait.core.Return
            format: "{{ taskrun.value }}"
      - id: seq
        type: io.kestra.plugin.core.flow.Sequential
        tasks:
          - id: step
            type: plait.core.Return
            format: step
  - id: last
    type: plait.core.Return
    format: done
"""

ONE_TASK = """\
id: one
namespace: ui.gantt
tasks:
  - id: t
    type: plait.core.Return
    format: x
"""


def outline(items: list[Row | GroupStart | GroupEnd]) -> list[str]:
    """The items as indented text: ``[value]`` for a group, the task id for a row."""
    lines = []
    for item in items:
        if isinstance(item, GroupStart):
            lines.append("  " * item.depth + f"[{item.value}]")
        elif isinstance(item, Row):
            lines.append("  " * item.depth + item.run.task_id)
    return lines


def test_loops_are_grouped_by_value_and_nested(engine: Engine, tmp_path: Path) -> None:
    flow = tmp_path / "nested.yml"
    flow.write_text(NESTED)
    execution = engine.run(flow)
    assert execution.state is State.SUCCESS

    items = gantt(execution)

    branch = [
        "inner",
        "  [1]",
        "    leaf",
        "  [2]",
        "    leaf",
        "  [3]",
        "    leaf",
        "seq",
        "  step",
    ]
    expected = ["outer"]
    for value in ("a", "b"):
        expected += ["  [" + value + "]", *("    " + line for line in branch)]
    assert outline(items) == [*expected, "last"]
    opened = sum(isinstance(i, GroupStart) for i in items)
    assert opened == sum(isinstance(i, GroupEnd) for i in items) == 2 + 2 * 3
    rows = [i for i in items if isinstance(i, Row)]
    assert len(rows) == len(execution.task_runs)  # every task run once
    for row in rows:
        assert 0 <= row.left <= 100 and 0 < row.width <= 100 - row.left + 0.01
    leaf = next(r for r in rows if r.run.task_id == "leaf")
    assert len(leaf.segments) == 1 and leaf.segments[0].state == "SUCCESS"
    assert leaf.attempts.startswith("attempt 1: SUCCESS, ")


def test_attempts_are_segments_and_listed(engine: Engine, tmp_path: Path) -> None:
    flow = tmp_path / "one.yml"
    flow.write_text(ONE_TASK)
    execution = engine.run(flow)
    run = execution.task_runs[0]
    start = execution.created
    first = Attempt(
        State.FAILED,
        [
            StateChange(State.RUNNING, start),
            StateChange(State.FAILED, start + dt.timedelta(seconds=1)),
        ],
    )
    run.attempts.insert(0, first)

    (row,) = gantt(execution)

    assert isinstance(row, Row)
    assert [s.state for s in row.segments] == ["FAILED", "SUCCESS"]
    assert row.attempts.splitlines()[0] == "attempt 1: FAILED, 1.0s"
    assert row.attempts.splitlines()[1].startswith("attempt 2: SUCCESS")


def test_timeline_clamps_to_the_execution() -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    timeline = Timeline(start, 10.0)
    assert timeline.place(start + dt.timedelta(seconds=5), start + dt.timedelta(seconds=6)) == (
        50.0,
        10.0,
    )
    assert timeline.place(start + dt.timedelta(seconds=9), start + dt.timedelta(seconds=30)) == (
        90.0,
        10.0,
    )
    left, width = timeline.place(start, start)
    assert (left, width) == (0.0, 0.4)  # an instant stays visible


def test_a_group_shows_work_in_progress_then_the_worst_outcome() -> None:
    assert group_state([State.SUCCESS, State.RUNNING, State.FAILED]) is State.RUNNING
    assert group_state([State.SUCCESS, State.FAILED, State.WARNING]) is State.FAILED
    assert group_state([State.SUCCESS, State.SKIPPED]) is State.SUCCESS


@pytest.fixture
def repository(tmp_path: Path) -> SqliteRepository:
    """Twelve executions a minute apart, newest last; every third labelled ``team:data``."""
    store = SqliteRepository(tmp_path / "state.db")
    base = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
    for number in range(12):
        execution = Execution.new("ui.search", "flow", 1, {}, {"n": str(number)})
        execution.history[0].date = base + dt.timedelta(minutes=number)
        if number % 3 == 0:
            execution.labels["team"] = "data"
        store.save(execution)
    return store


def numbers(executions: list[Execution]) -> list[int]:
    return [int(e.labels["n"]) for e in executions]


def test_label_filter_pages_exactly(repository: SqliteRepository) -> None:
    query = ExecutionQuery(labels={"team": "data"})
    first = search_executions(repository, query, page=1, size=3)
    second = search_executions(repository, query, page=2, size=3)
    assert numbers(first.executions) == [9, 6, 3] and first.has_more and first.total == 4
    assert numbers(second.executions) == [0] and not second.has_more


def test_time_range_is_inclusive(repository: SqliteRepository) -> None:
    base = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
    query = ExecutionQuery(
        started_from=base + dt.timedelta(minutes=4), started_to=base + dt.timedelta(minutes=7)
    )
    found = search_executions(repository, query, page=1, size=10)
    assert numbers(found.executions) == [7, 6, 5, 4] and not found.has_more
    both = ExecutionQuery(started_to=base + dt.timedelta(minutes=7), labels={"team": "data"})
    assert numbers(search_executions(repository, both).executions) == [6, 3, 0]


def test_without_scanned_filters_the_total_is_the_repositorys(repository: SqliteRepository) -> None:
    found = search_executions(repository, ExecutionQuery(namespace="ui"), page=2, size=5)
    assert numbers(found.executions) == [6, 5, 4, 3, 2]
    assert found.total == 12 and found.has_more
