"""Helpers shared by the flow-control tests: test task types and a way to run flow text."""

from __future__ import annotations

import datetime as dt
import time
import types
from pathlib import Path
from textwrap import dedent
from typing import Any

from plait.api import Engine
from plait.state.model import Execution, TaskRun
from plait_sdk import Task, TaskFailure, TaskOutputs, TaskProperties, hookimpl, prop


class GateProperties(TaskProperties):
    path: str = prop(description="Fails unless this file exists.")


class Gate(Task[GateProperties, TaskOutputs]):
    """Fails while a file is missing: the cause a test fixes before restarting (test task)."""

    type = "test.Gate"
    Properties = GateProperties

    def run(self, props: GateProperties, ctx) -> TaskOutputs:
        if not Path(props.path).exists():
            raise TaskFailure(f"{props.path} is missing")
        return TaskOutputs()


class CountProperties(TaskProperties):
    path: str = prop(description="A file that gets one line per run.")
    label: str = prop("", description="Written on the line.")


class Count(Task[CountProperties, TaskOutputs]):
    """Appends a line to a file, so a test can count how often a task really ran (test task)."""

    type = "test.Count"
    Properties = CountProperties

    def run(self, props: CountProperties, ctx) -> TaskOutputs:
        with open(props.path, "a", encoding="utf-8") as file:
            file.write(f"{props.label}\n")
        return TaskOutputs()


class Hang(Task[TaskProperties, TaskOutputs]):
    """Waits until cancelled (test task)."""

    type = "test.Hang"

    def run(self, props: TaskProperties, ctx) -> TaskOutputs:
        while not ctx.cancelled():
            time.sleep(0.01)
        raise TaskFailure("cancelled")


def test_plugin(*extra: type[Task[Any, Any]]) -> types.ModuleType:
    """A plugin registering the test tasks above and ``extra`` (a test module's own)."""
    module = types.ModuleType("flow_control_test_plugin")

    @hookimpl
    def register_task_types() -> list[type[Task[Any, Any]]]:
        return [Gate, Count, Hang, *extra]

    module.register_task_types = register_task_types  # type: ignore[attr-defined]
    return module


def make_engine(home: Path, *extra: type[Task[Any, Any]]) -> Engine:
    """An engine on ``home`` with the kernel's plugins and the test tasks (and ``extra``)."""
    return Engine.create(home=home, load_plugins=[], extra_plugins=[test_plugin(*extra)])


def run_text(engine: Engine, text: str, inputs: dict | None = None) -> Execution:
    return engine.run(dedent(text), inputs)


def runs_of(execution: Execution, task_id: str) -> list[TaskRun]:
    return [run for run in execution.task_runs if run.task_id == task_id]


def run_of(execution: Execution, task_id: str) -> TaskRun:
    """The one run of a task outside any loop."""
    [run] = runs_of(execution, task_id)
    return run


def states(execution: Execution) -> dict[str, str]:
    """Task id (with the loop value, when there is one) -> final state."""
    return {
        run.task_id + (f"[{run.value}]" if run.value is not None else ""): str(run.state)
        for run in execution.task_runs
    }


def max_overlap(runs: list[TaskRun]) -> int:
    """The most runs that were RUNNING at the same instant (from their recorded attempts)."""
    events: list[tuple[dt.datetime, int]] = []
    for run in runs:
        attempt = run.attempts[-1]
        start = attempt.history[0].date
        end = attempt.history[-1].date
        events += [(start, 1), (end, -1)]
    events.sort(key=lambda e: (e[0], e[1]))
    current = best = 0
    for _, change in events:
        current += change
        best = max(best, current)
    return best
