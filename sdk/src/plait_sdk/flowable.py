"""Flowable task types: tasks whose work is to run other tasks (loops, branches, blocks).

A flowable declares its child task lists as properties (:func:`tasks_prop`), so the kernel can
read them as tasks (with ids, positions and validation) and the flow schema can describe them.
When it starts, the kernel renders its properties and calls :meth:`FlowableTask.plan`, which
says which child lists run, for which loop values, and how many at once. The kernel then runs
the children itself: a flowable never runs a child, waits or polls, so an execution's progress
lives in the stored task runs and any process can take it over.

    class Twice(FlowableTask[TwiceProperties, TaskOutputs]):
        type = "acme.flow.Twice"

        def plan(self, props, ctx):
            return Plan([Branch("tasks", value="first"), Branch("tasks", value="second")])
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

from pydantic import Field

from plait_sdk.errors import TaskFailure
from plait_sdk.task import DYNAMIC_KEY, Task, TaskOutputs, TaskProperties

if TYPE_CHECKING:
    from plait_sdk.context import RunContext

TASKS_KEY = "x-tasks"
"""JSON Schema extension keyword marking a property that holds child tasks: ``"list"`` (a list
of tasks) or ``"map"`` (a mapping of names to lists of tasks, like Switch's ``cases``)."""

TaskListKind = Literal["list", "map"]

TaskList = list[dict[str, Any]]
"""The annotation of a property holding a list of child tasks."""

TaskListMap = dict[str, list[dict[str, Any]]]
"""The annotation of a property holding named lists of child tasks."""


def tasks_prop(
    default: Any = ...,
    *,
    description: str,
    kind: TaskListKind = "list",
    alias: str | None = None,
    min_length: int | None = 1,
) -> Any:
    """Declare a property holding child tasks (never rendered: the children render their own
    properties when they run). An empty list is refused unless ``min_length=0``."""
    constraints: dict[str, Any] = {}
    if min_length is not None and kind == "list":
        constraints["min_length"] = min_length
    return Field(
        default,
        description=description,
        alias=alias,
        json_schema_extra={DYNAMIC_KEY: False, TASKS_KEY: kind},
        **constraints,
    )


@dataclass(frozen=True)
class Branch:
    """One sequence of child tasks to run: a child list of the flowable, named by its property
    (``"then"``) or, for a map of lists, by property and key (``("cases", "a")``).

    ``value`` is the loop value the children see as ``taskrun.value`` (None outside loops);
    ``index`` restricts the branch to one task of the list (Parallel runs each child task as
    its own branch)."""

    tasks: str | tuple[str, str]
    value: str | None = None
    index: int | None = None

    @property
    def key(self) -> tuple[str, ...]:
        return (self.tasks,) if isinstance(self.tasks, str) else tuple(self.tasks)


@dataclass(frozen=True)
class Plan:
    """What a flowable runs: its branches, in order, ``concurrency`` of them at a time (0: all
    at once). Tasks inside one branch run one after the other. When a child fails no further
    branch starts and the flowable fails, or ends WARNING with ``allow_failure``."""

    branches: Sequence[Branch] = ()
    concurrency: int = 1
    allow_failure: bool = False
    outputs: TaskOutputs | None = None
    notes: Sequence[str] = field(default_factory=tuple)
    """Lines the kernel logs at INFO for the flowable's run (e.g. "no case matched")."""


class FlowableProperties(TaskProperties):
    """Base of a flowable's properties: every flowable accepts ``errors`` and ``finally``,
    run by the kernel when its children fail, and after them whatever happened."""

    errors: TaskList | None = tasks_prop(
        None, description="Tasks run when a child task fails (the flowable still fails)."
    )
    finally_: TaskList | None = tasks_prop(
        None,
        alias="finally",
        description="Tasks run after the children (and `errors`), whatever their outcome.",
    )


P = TypeVar("P", bound=FlowableProperties)
O = TypeVar("O", bound=TaskOutputs)  # noqa: E741


class FlowableTask(Task[P, O]):
    """Base class of flowable task types. Subclasses implement :meth:`plan`, never ``run``.

    ``loops = True`` tells the kernel that the branches carry loop values, so that outputs of
    the children are keyed by value (``outputs.child[taskrun.value].name``) and validation can
    say so when a flow forgets the key."""

    flowable: ClassVar[bool] = True
    loops: ClassVar[bool] = False

    @abstractmethod
    def plan(self, props: P, ctx: RunContext) -> Plan:
        """Decide the branches from the rendered properties. Raise :class:`TaskFailure` for a
        mistake the flow's author must fix (it fails the flowable's task run)."""

    def run(self, props: P, ctx: RunContext) -> O:
        raise TaskFailure(f"{self.type} is a flowable task: the kernel plans it, it never runs")


def is_true(value: Any) -> bool:
    """Kestra's truth of a rendered condition (If, runIf, Fail): false only for ``false``,
    ``0``, ``-0`` and nothing; anything else is true."""
    if isinstance(value, bool):
        return value
    text = "" if value is None else str(value).strip()
    return text.lower() not in ("false", "0", "-0", "")


def task_lists(task: type[Task[Any, Any]]) -> dict[str, TaskListKind]:
    """The properties of a task type that hold child tasks, by the key a flow writes."""
    found: dict[str, TaskListKind] = {}
    for name, info in task.Properties.model_fields.items():
        extra = info.json_schema_extra
        if isinstance(extra, dict) and extra.get(TASKS_KEY) in ("list", "map"):
            found[info.alias or name] = extra[TASKS_KEY]  # type: ignore[assignment]
    return found


def is_flowable(task: type[Task[Any, Any]]) -> bool:
    return bool(getattr(task, "flowable", False))
