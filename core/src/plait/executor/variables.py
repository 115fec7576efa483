"""The expression variables of a task run, built as Kestra builds them.

Outputs are addressed by task id, then by the loop values of the run and its ancestors,
outermost first: ``outputs.t.key`` outside loops, ``outputs.t[v].key`` for a child of a loop,
``outputs.t[v1][v2].key`` in nested loops. ``taskrun.value`` is the run's own loop value;
``parents`` lists the ancestors that have a value or outputs, innermost first, and ``parent`` is
the first of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from plait.flows.model import Flow, ListKey, TaskDef
from plait.state.model import Execution, TaskRun

MissingReason = Callable[[str], str | None]


class OutputsMap(dict[str, Any]):
    """The ``outputs`` variable. A key that is missing can say why (its branch did not run, it
    has not run yet), which the expression error then shows."""

    def __init__(self, explain: MissingReason | None = None) -> None:
        super().__init__()
        self._explain = explain

    def explain_missing(self, name: object) -> str | None:
        return self._explain(str(name)) if self._explain is not None else None


class RunIndex:
    """Task runs by id, and where each task sits in the flow: what variables and the state
    machine look up on every step, in constant time."""

    def __init__(
        self, flow: Flow, execution: Execution, effective: Callable[[TaskDef], TaskDef]
    ) -> None:
        self.flow = flow
        self.execution = execution
        self.runs: dict[str, TaskRun] = {run.id: run for run in execution.task_runs}
        self.places: dict[str, TaskPlace] = dict(_places(flow, effective))

    def add(self, run: TaskRun) -> None:
        self.execution.task_runs.append(run)
        self.runs[run.id] = run

    def chain(self, run: TaskRun) -> list[TaskRun]:
        """The run's ancestors, outermost first, then the run."""
        return chain_of(self.runs, run)

    def task(self, task_id: str) -> TaskDef:
        return self.places[task_id].task


def chain_of(runs: Mapping[str, TaskRun], run: TaskRun) -> list[TaskRun]:
    """The run's ancestors found in ``runs`` (by id), outermost first, then the run."""
    chain = [run]
    while chain[-1].parent_id is not None and chain[-1].parent_id in runs:
        chain.append(runs[chain[-1].parent_id])
    chain.reverse()
    return chain


class TaskPlace:
    """Where a task is: its definition as it runs (plugin defaults applied), its parent task
    (None at the top), its list and its position there."""

    __slots__ = ("key", "parent", "position", "task")

    def __init__(self, task: TaskDef, parent: TaskDef | None, key: ListKey, position: int) -> None:
        self.task = task
        self.parent = parent
        self.key = key
        self.position = position


def _places(flow: Flow, effective: Callable[[TaskDef], TaskDef]) -> Iterator[tuple[str, TaskPlace]]:
    def visit(tasks: list[TaskDef], parent: TaskDef | None, key: ListKey) -> Iterator[Any]:
        for position, task in enumerate(tasks):
            yield task.id, TaskPlace(effective(task), parent, key, position)
            for child_key, children in task.children.items():
                yield from visit(children, task, child_key)

    for key, tasks in flow.children.items():
        yield from visit(tasks, None, key)


def output_keys(chain: list[TaskRun]) -> list[str]:
    """The loop values addressing a run's outputs: those of its chain, outermost first."""
    return [run.value for run in chain if run.value is not None]


def store_output(outputs: dict[str, Any], task_id: str, keys: list[str], value: Any) -> None:
    """Put one run's outputs at ``outputs[task_id][k1]...[kn]``."""
    if not keys:
        outputs[task_id] = value
        return
    node = outputs.setdefault(task_id, {})
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = value


def attempts_before(run: TaskRun) -> int:
    """Kestra's ``taskrun.attemptsCount``: the attempts made before the current one (0 on the
    first try, 1 after a restart). The worker counts its own retries (they are not yet in
    ``run.attempts``) and overrides this."""
    return sum(1 for attempt in run.attempts if attempt.state.is_terminal)


def in_millis(date: dt.datetime | None) -> dt.datetime | None:
    """A date as the expressions see it: to the millisecond, as Kestra's dates are
    (``2024-03-05T14:07:09.123Z``); the store keeps the microseconds."""
    return None if date is None else date.replace(microsecond=date.microsecond // 1000 * 1000)


def taskrun_variable(run: TaskRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "startDate": in_millis(run.started),
        "attemptsCount": attempts_before(run),
        "value": run.value,
        "parentId": run.parent_id,
    }


def parents_variable(chain: list[TaskRun]) -> list[dict[str, Any]]:
    """Ancestors with a value or outputs, innermost first (Kestra's ``parents``)."""
    found = []
    for ancestor in reversed(chain[:-1]):
        if ancestor.value is None and not ancestor.outputs:
            continue
        found.append(
            {"taskrun": {"value": ancestor.value, "id": ancestor.id}, "outputs": ancestor.outputs}
        )
    return found


def run_variables(index: RunIndex, run: TaskRun) -> dict[str, Any]:
    """``task``, ``taskrun``, ``parent`` and ``parents`` for one task run."""
    task = index.task(run.task_id)
    chain = index.chain(run)
    variables: dict[str, Any] = {
        "task": {"id": task.id, "type": task.type},
        "taskrun": taskrun_variable(run),
    }
    parents = parents_variable(chain)
    if parents:
        variables["parents"] = parents
        variables["parent"] = parents[0]
    return variables


def branch_of(place: TaskPlace) -> str:
    """How a message names the list a task belongs to: "the 'else' branch of 'check'"."""
    if place.parent is None:
        return f"the flow's '{place.key[0]}'"
    name = ".".join(place.key)
    return f"'{name}' of '{place.parent.id}'"


def missing_output_reason(index: RunIndex, done: Mapping[str, Any]) -> MissingReason:
    """Explains ``outputs.<task id>`` that is not there: unknown task, a branch not taken, not
    run yet, or no outputs."""

    def explain(task_id: str) -> str | None:
        place = index.places.get(task_id)
        if place is None:
            return f"no task '{task_id}' in the flow"
        if task_id in done:
            return None
        ran = any(run.task_id == task_id for run in index.runs.values())
        if ran:
            return f"task '{task_id}' has no outputs (yet)"
        return (
            f"task '{task_id}' did not run: it is in {branch_of(place)}, which did not run "
            "(or has not reached it yet)"
        )

    return explain
