"""An execution's task runs as a compact tree: nesting shown by indentation, the runs of a loop
grouped by value (long loops summed up), each run with its state and duration. ``plait run``
redraws it live in a terminal; ``plait executions show`` prints it."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator

import click

from plait.state.model import Execution, State, TaskRun, utcnow

VALUES_SHOWN = 8
"""Loop values listed one by one; beyond, only those running or failed are, the rest summed."""
ERROR_WIDTH = 160

_COLORS = {
    State.SUCCESS: "green",
    State.WARNING: "yellow",
    State.FAILED: "red",
    State.KILLED: "red",
    State.RUNNING: "cyan",
    State.SKIPPED: "bright_black",
}


def duration(run: TaskRun, now: dt.datetime) -> str:
    if run.started is None:
        return ""
    seconds = ((run.ended or now) - run.started).total_seconds()
    return f"{seconds:.2f}s" if seconds < 60 else f"{int(seconds // 60)}m{seconds % 60:04.1f}s"


class TaskRunTree:
    """Renders the runs of one execution; ``color`` styles states for a terminal."""

    def __init__(self, execution: Execution, *, color: bool = False) -> None:
        self.execution = execution
        self.color = color
        self.now = utcnow()
        self.children: dict[str | None, list[TaskRun]] = {}
        for run in execution.task_runs:
            self.children.setdefault(run.parent_id, []).append(run)
        self.width = self._width()

    def lines(self) -> list[str]:
        return list(self._level(None, 1))

    def _width(self) -> int:
        """The column states start at: past the longest indented task id (loop values add a
        level), within reason."""
        depth: dict[str | None, int] = {None: 0}
        widest = 4
        for run in self.execution.task_runs:  # parents come first
            level = depth.get(run.parent_id, 0) + 1 + (run.value is not None)
            depth[run.id] = level
            widest = max(widest, 2 * level + len(run.task_id))
        return min(widest, 48) + 1

    def _state(self, state: State) -> str:
        text = f"{state!s:<8}"
        return click.style(text, fg=_COLORS.get(state)) if self.color else text

    def _run(self, run: TaskRun, depth: int) -> Iterator[str]:
        pad = "  " * depth
        name = run.task_id.ljust(self.width - 2 * depth)
        yield f"{pad}{name} {self._state(run.state)} {duration(run, self.now)}".rstrip()
        if run.error and run.state.is_failed:
            error = run.error.replace("\n", " ")
            cut = error if len(error) <= ERROR_WIDTH else error[: ERROR_WIDTH - 1] + "…"
            yield f"{pad}  error: {cut}"
        yield from self._level(run.id, depth + 1)

    def _level(self, parent: str | None, depth: int) -> Iterator[str]:
        runs = self.children.get(parent, [])
        if not any(run.value is not None for run in runs):
            for run in runs:
                yield from self._run(run, depth)
            return
        by_value: dict[str | None, list[TaskRun]] = {}
        for run in runs:
            by_value.setdefault(run.value, []).append(run)
        shown = 0
        hidden: Counter[str] = Counter()
        for value, group in by_value.items():
            notable = any(not r.state.is_successful for r in group)
            if shown >= VALUES_SHOWN and not notable:
                hidden[str(_group_state(group))] += 1
                continue
            shown += 1
            yield f"{'  ' * depth}[{value}]"
            for run in group:
                yield from self._run(run, depth + 1)
        if hidden:
            counts = ", ".join(f"{n} {state}" for state, n in sorted(hidden.items()))
            yield f"{'  ' * depth}… {sum(hidden.values())} more values: {counts}"


def _group_state(group: list[TaskRun]) -> State:
    states = {run.state for run in group}
    for state in (State.RUNNING, State.FAILED, State.KILLED, State.WARNING):
        if state in states:
            return state
    return group[-1].state


def tree_text(execution: Execution, *, color: bool = False) -> str:
    header = f"execution {execution.id}  {execution.namespace}.{execution.flow_id}  "
    header += click.style(str(execution.state), bold=True) if color else str(execution.state)
    return "\n".join([header, *TaskRunTree(execution, color=color).lines()])
