"""The execution model: states, transitions, ids and the JSON document round trip."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from plait.durations import format_duration
from plait.state.model import (
    Attempt,
    Execution,
    State,
    TaskRun,
    format_datetime,
    new_id,
    parse_datetime,
)


def test_state_categories_follow_kestra() -> None:
    terminal = {s for s in State if s.is_terminal}
    assert terminal == {"SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED", "SKIPPED"}
    assert {s for s in State if s.is_failed} == {State.FAILED, State.KILLED}
    assert {s for s in State if s.is_successful} == {State.SUCCESS, State.WARNING, State.SKIPPED}
    assert str(State.RUNNING) == "RUNNING"


def test_ids_are_short_base62_and_unique() -> None:
    ids = {new_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(re.fullmatch(r"[0-9A-Za-z]{22}", i) for i in ids)


def test_new_execution_starts_created() -> None:
    execution = Execution.new("company.team", "hello", 3, {"n": 1}, {"env": "dev"})
    assert execution.state is State.CREATED
    assert [c.state for c in execution.history] == [State.CREATED]
    assert execution.created.tzinfo is not None
    assert execution.ended is None
    assert execution.parent_id is None


def test_transitions_record_history_and_times() -> None:
    execution = Execution.new("ns", "flow", 1, {}, {})
    run = execution.add_task_run("first")
    assert run.state is State.CREATED and run.started is None
    run.transition(State.RUNNING)
    started = run.started
    assert started is not None and run.ended is None
    run.transition(State.RETRYING)
    run.transition(State.RUNNING)
    assert run.started == started, "a second RUNNING keeps the first start time"
    run.transition(State.SUCCESS)
    assert run.ended is not None and run.ended >= started
    assert [c.state for c in run.history] == [
        "CREATED",
        "RUNNING",
        "RETRYING",
        "RUNNING",
        "SUCCESS",
    ]

    execution.transition(State.RUNNING)
    assert execution.ended is None
    execution.transition(State.FAILED)
    assert execution.ended is not None
    assert execution.state.is_failed


def test_task_run_lookup_returns_latest_run() -> None:
    execution = Execution.new("ns", "flow", 1, {}, {})
    execution.add_task_run("a")
    second = execution.add_task_run("a")
    assert execution.task_run("a") is second
    assert execution.task_run("missing") is None


def test_document_uses_camel_case_and_round_trips() -> None:
    execution = Execution.new("ns.sub", "flow", 2, {"name": "x"}, {"team": "a"}, parent_id="P")
    run = execution.add_task_run("extract")
    run.transition(State.RUNNING)
    run.outputs = {"uri": "plait:///ns/sub/flow/executions/x/tasks/extract/y/a.csv"}
    first, second = Attempt.new(), Attempt.new()
    first.transition(State.FAILED)
    second.transition(State.FAILED)
    run.attempts = [first, second]
    run.transition(State.FAILED)
    child = execution.add_task_run("each_child", parent_id=run.id, value="a")
    run.error = "boom"
    execution.outputs = {"final": 1}
    execution.transition(State.FAILED)

    document = execution.to_document()
    assert set(document) == {
        "id", "namespace", "flowId", "flowRevision", "state", "inputs", "labels", "outputs",
        "parentId", "originalId", "metadata", "trigger", "taskRunList",
    }  # fmt: skip
    first_run = document["taskRunList"][0]
    assert set(first_run) == {
        "id", "taskId", "parentTaskRunId", "value", "state", "attempts", "outputs", "error",
    }  # fmt: skip
    assert set(document["state"]) == {"current", "histories", "startDate", "endDate", "duration"}
    assert document["state"]["current"] == "FAILED"
    assert [h["state"] for h in document["state"]["histories"]] == ["CREATED", "FAILED"]
    assert document["state"]["startDate"].endswith("Z")
    assert document["labels"] == [{"key": "team", "value": "a"}]
    assert first_run["taskId"] == "extract"
    assert [a["state"]["current"] for a in first_run["attempts"]] == ["FAILED", "FAILED"]
    second_run = document["taskRunList"][1]
    assert (second_run["parentTaskRunId"], second_run["value"]) == (run.id, "a")
    assert document["originalId"] == execution.id

    again = Execution.from_document(json.loads(execution.to_json()))
    assert again == execution
    assert again.task_runs[1] == child


def test_task_run_from_minimal_document() -> None:
    state = {"histories": [{"state": "SUCCESS", "date": "2024-01-01T00:00:00Z"}]}
    run = TaskRun.from_document({"id": "r", "taskId": "t", "state": state})
    assert run.state is State.SUCCESS and run.attempts == [] and run.outputs is None
    assert run.parent_id is None and run.value is None


def test_typed_values_are_stored_as_kestra_text() -> None:
    execution = Execution.new(
        "ns",
        "flow",
        1,
        {
            "when": dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC),
            "day": dt.date(2024, 5, 1),
            "at": dt.time(10, 30),
            "wait": dt.timedelta(hours=1, minutes=30),
            "tags": ("a", "b"),
        },
        {},
    )
    inputs = json.loads(execution.to_json())["inputs"]
    assert inputs == {
        "when": "2024-05-01T10:00:00Z",
        "day": "2024-05-01",
        "at": "10:30:00",
        "wait": "PT1H30M",
        "tags": ["a", "b"],
    }


def test_unstorable_values_are_named() -> None:
    execution = Execution.new("ns", "flow", 1, {"x": object()}, {})
    with pytest.raises(TypeError, match="object cannot be stored as JSON"):
        execution.to_json()


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (dt.timedelta(0), "PT0S"),
        (dt.timedelta(days=2), "PT48H"),
        (dt.timedelta(days=1, seconds=5), "PT24H5S"),
        (dt.timedelta(milliseconds=1500), "PT1.5S"),
        (-dt.timedelta(minutes=3), "PT-3M"),
    ],
)
def test_durations_are_stored_as_java_writes_them(delta: dt.timedelta, text: str) -> None:
    assert format_duration(delta) == text


def test_datetimes_are_utc_and_sortable() -> None:
    local = dt.datetime(2024, 1, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert format_datetime(local) == "2024-01-01T10:00:00.000000Z"
    assert parse_datetime("2024-01-01T10:00:00.000000Z") == local
    with pytest.raises(ValueError, match="no time zone"):
        format_datetime(dt.datetime(2024, 1, 1))
