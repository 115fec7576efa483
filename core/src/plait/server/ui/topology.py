"""A flow's shape for the flow page: its task lists (tasks, errors, finally), each flowable's
child lists (``then``/``else``, each ``cases`` key, its own ``errors``...) nested inside it,
and a short line for every setting, trigger and input.

The nesting is the flow model's own (:attr:`TaskDef.children`, the lists the loader read as
tasks), so the page shows exactly what the executor runs."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from plait.flows.model import InputDef, ListKey, TaskDef
from plait.plugins import Registry

SHORT_VALUE = 80
"""Characters of a setting shown inline; longer values (scripts, queries) are cut."""


def short(value: Any) -> str:
    """A value on one line, as a flow author would recognize it: text as is, the rest JSON."""
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= SHORT_VALUE else text[: SHORT_VALUE - 1] + "…"


def settings(properties: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(name, short(value)) for name, value in properties.items()]


def list_label(key: ListKey) -> str:
    """``("then",)`` -> ``then``; ``("cases", "a")`` -> ``cases: a``."""
    return key[0] if len(key) == 1 else f"{key[0]}: {key[1]}"


@dataclass
class Branch:
    """One list of tasks: the flow's ``tasks``, or a flowable's ``then``, ``cases: a``..."""

    label: str
    tasks: list[TaskNode]


@dataclass
class TaskNode:
    task: TaskDef
    canonical: str
    """The type id the written type (maybe an alias) resolves to."""
    settings: list[tuple[str, str]]
    """The task's own properties, child lists excepted, each on one line."""
    source: str
    """The same properties as YAML, whole (shown on demand for a task that is not a flowable)."""
    marks: list[tuple[str, str]] = field(default_factory=list)
    """Common keys that change how it runs: (``runIf``, its expression)..."""
    branches: list[Branch] = field(default_factory=list)

    @property
    def kind(self) -> str:
        """The type's last part (``ForEach``, ``Query``): what the box is titled with."""
        return self.canonical.rsplit(".", 1)[-1]


def _marks(task: TaskDef) -> list[tuple[str, str]]:
    marks = [
        (name, "")
        for name, on in (
            ("disabled", task.disabled),
            ("allowFailure", task.allow_failure),
            ("allowWarning", task.allow_warning),
        )
        if on
    ]
    for name, value in (("runIf", task.run_if), ("timeout", task.timeout)):
        if value:
            marks.append((name, short(value)))
    if task.retry:
        marks.append(("retry", short(task.retry)))
    if task.cache is not None:
        marks.append(("taskCache", task.cache.ttl or "forever"))
    return marks


def task_node(task: TaskDef, registry: Registry) -> TaskNode:
    declared = registry.task_types.get(task.type)
    lists = {key[0] for key in task.children}
    own = {name: value for name, value in task.properties.items() if name not in lists}
    return TaskNode(
        task=task,
        canonical=declared.type if declared is not None else task.type,
        settings=settings(own),
        source=yaml.safe_dump(own, sort_keys=False, allow_unicode=True) if own else "",
        marks=_marks(task),
        branches=branches(task.children, registry),
    )


def branches(children: Mapping[ListKey, list[TaskDef]], registry: Registry) -> list[Branch]:
    """The non-empty task lists, in the order they were written."""
    return [
        Branch(list_label(key), [task_node(task, registry) for task in tasks])
        for key, tasks in children.items()
        if tasks
    ]


INPUT_CONSTRAINTS = (
    ("values", "values"),
    ("allow_custom_value", "allowCustomValue"),
    ("item_type", "itemType"),
    ("validator", "validator"),
    ("min", "min"),
    ("max", "max"),
    ("after", "after"),
    ("before", "before"),
    ("prefill", "prefill"),
)
"""Fields of an input definition -> how the flow writes them."""


def input_constraints(definition: InputDef) -> list[tuple[str, str]]:
    """What limits an input's values, as written (``min``, ``values``...)."""
    found = []
    for attribute, key in INPUT_CONSTRAINTS:
        value = getattr(definition, attribute)
        if value not in (None, False):
            found.append((key, short(value)))
    return found
