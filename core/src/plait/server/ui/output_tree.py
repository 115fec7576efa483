"""The Outputs tab's tree: task -> iteration value -> task run -> output properties.

Kestra lists one row per task run labelled by its task id, so the runs of a ForEach all look the
same (kestra-io/kestra#14071, #7629). Here the runs under a loop are grouped by their iteration
value, nested loops nest, and a value that is JSON text (a loop over objects) is shown as what
it stands for (``k: 1``), never as the raw key (#13837).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from plait.state.model import Execution, TaskRun


@dataclass
class RunNode:
    """One task run: its loop keys (outermost first, what ``outputs.<task>[k1][k2]`` takes)
    and what ran inside it, if it is a flowable."""

    run: TaskRun
    keys: list[str]
    tasks: list[TaskNode] = field(default_factory=list)
    iterations: list[IterationNode] = field(default_factory=list)

    @property
    def size(self) -> int:
        """Task runs in this subtree, itself included (to say how much a group holds)."""
        inner = sum(t.size for t in self.tasks) + sum(i.size for i in self.iterations)
        return 1 + inner


@dataclass
class TaskNode:
    """The runs of one task at one place in the tree (usually one run)."""

    task_id: str
    task_type: str
    runs: list[RunNode] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(r.size for r in self.runs)


@dataclass
class IterationNode:
    """The runs of one loop value, numbered from 1 in the loop's order."""

    number: int
    value: str
    tasks: list[TaskNode] = field(default_factory=list)

    @property
    def label(self) -> str:
        return readable_value(self.value)

    @property
    def size(self) -> int:
        return sum(t.size for t in self.tasks)


def build_tree(execution: Execution, task_types: Mapping[str, str]) -> list[TaskNode]:
    """The execution's task runs as a tree, in the order they were created; ``task_types``
    names each task's type (by task id) for the labels."""
    children: dict[str | None, list[TaskRun]] = {}
    known = {run.id for run in execution.task_runs}
    for run in execution.task_runs:
        parent = run.parent_id if run.parent_id in known else None
        children.setdefault(parent, []).append(run)

    def level(runs: Iterable[TaskRun], keys: list[str]) -> list[TaskNode]:
        nodes: dict[str, TaskNode] = {}
        for run in runs:
            node = nodes.get(run.task_id)
            if node is None:
                node = TaskNode(run.task_id, task_types.get(run.task_id, ""))
                nodes[run.task_id] = node
            node.runs.append(place(run, keys))
        return list(nodes.values())

    def place(run: TaskRun, outer: list[str]) -> RunNode:
        node = RunNode(run, [*outer, run.value] if run.value is not None else list(outer))
        inside = children.get(run.id, [])
        plain = [child for child in inside if child.value is None]
        node.tasks = level(plain, node.keys)
        by_value: dict[str, list[TaskRun]] = {}
        for child in inside:
            if child.value is not None:
                by_value.setdefault(child.value, []).append(child)
        node.iterations = [
            IterationNode(number, value, level(runs, node.keys))
            for number, (value, runs) in enumerate(by_value.items(), start=1)
        ]
        return node

    return level(children.get(None, []), [])


Found = tuple[RunNode, list[str]]
"""A run's node and the ids of the tree nodes on the way to it."""


def find_run(tree: list[TaskNode], taskrun_id: str) -> Found | None:
    """The node of task run ``taskrun_id`` and the ids of the tree's nodes on the way to it
    (task ``t:<parent run>:<task>``, iteration ``i:<run>:<number>``), to unfold them."""

    def search(tasks: list[TaskNode], owner: str, path: list[str]) -> Found | None:
        for task in tasks:
            here = [*path, f"t:{owner}:{task.task_id}"]
            for node in task.runs:
                if node.run.id == taskrun_id:
                    return node, here
                groups = [(node.tasks, here)] + [
                    (i.tasks, [*here, f"i:{node.run.id}:{i.number}"]) for i in node.iterations
                ]
                for inner, inner_path in groups:
                    if found := search(inner, node.run.id, inner_path):
                        return found
        return None

    return search(tree, "", [])


def readable_value(value: str) -> str:
    """A loop value as a person reads it: text as is; JSON text of an object or a list (how
    non-text loop values are keyed) as ``k: 1, name: x`` or ``1, 2, 3``."""
    if value[:1] not in ("{", "["):
        return value
    try:
        decoded = json.loads(value)
    except json.JSONDecodeError:
        return value
    return _inline(decoded)


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_inline(v)}" for k, v in value.items()) or "{}"
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def output_expression(task_id: str, keys: list[str], path: Iterable[str | int] = ()) -> str:
    """The expression that reads a run's output (``outputs.t['a'].value``,
    ``outputs['task-id'].body``): what the Render expression box starts with, and what the
    tree shows for a property, so it can be copied into a flow."""
    text = "outputs" + _member(task_id)
    for key in keys:
        text += f"[{_literal(key)}]"
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else _member(part)
    return text


def _member(name: str) -> str:
    return f".{name}" if name.isidentifier() else f"[{_literal(name)}]"


def _literal(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"
