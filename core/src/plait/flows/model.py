"""A flow as the engine sees it: plain dataclasses built by :mod:`plait.flows.loader`.

Every definition keeps where it was written, so any later check (validation, input resolution,
the executor) can name the file, line and column at fault.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from plait.durations import parse_duration
from plait.flows.yaml_positions import PathKey, SourceMap

ListKey = tuple[str, ...]
"""Names a child task list: ``("tasks",)``, ``("cases", "a")``; the flow's own lists are
``("tasks",)``, ``("errors",)`` and ``("finally",)``."""

COMMON_TASK_KEYS = frozenset(
    {
        "id",
        "type",
        "description",
        "timeout",
        "retry",
        "disabled",
        "allowFailure",
        "allowWarning",
        "logLevel",
        "runIf",
        "logToFile",
        "taskCache",
    }
)
"""Keys every task accepts; all the others are the task type's properties."""

COMMON_TASK_FIELDS = {
    "description": "description",
    "timeout": "timeout",
    "retry": "retry",
    "disabled": "disabled",
    "allowFailure": "allow_failure",
    "allowWarning": "allow_warning",
    "logLevel": "log_level",
    "runIf": "run_if",
    "logToFile": "log_to_file",
    "taskCache": "task_cache",
}
"""Common keys a plugin default may set -> the :class:`TaskDef` field holding them."""


@dataclass
class InputDef:
    id: str
    type: str
    description: str | None = None
    required: bool = True
    defaults: Any = None
    values: list[str] | None = None
    """Allowed values of a SELECT input, or of each item of a MULTISELECT input."""
    allow_custom_value: bool = False
    """A MULTISELECT input also accepts items outside ``values`` (``allowCustomValue``)."""
    item_type: str | None = None
    """Type of the items of an ARRAY input (``itemType``)."""
    validator: str | None = None
    """Regular expression a STRING input must match whole."""
    min: int | float | None = None
    max: int | float | None = None
    after: str | None = None
    """Lowest value a DATE, DATETIME or TIME input (Kestra's ``after``) or a DURATION input
    (its ``min``) accepts, normalized as values are; the bound itself is accepted."""
    before: str | None = None
    """Highest value such an input accepts (``before``, or a DURATION's ``max``)."""
    prefill: Any = None
    """A value an editor offers before the user types one; unlike ``defaults`` it is not used
    when no value is given (Kestra's ``prefill``)."""
    line: int | None = None
    column: int | None = None


@dataclass
class TaskCache:
    """Kestra's ``taskCache``: reuse the outputs of an earlier successful run of the task with
    the same rendered properties, for ``ttl`` (forever without it)."""

    enabled: bool
    ttl: str | None = None
    """ISO-8601 duration such as ``PT1H``."""

    @property
    def ttl_delta(self) -> timedelta | None:
        return parse_duration(self.ttl) if self.ttl else None


@dataclass
class TaskDef:
    id: str
    type: str
    """The type as written (a canonical id or an alias)."""
    properties: dict[str, Any]
    """Every key except the common ones, as written (expressions unrendered)."""
    description: str | None = None
    timeout: str | None = None
    """ISO-8601 duration such as ``PT5M``."""
    retry: dict[str, Any] | None = None
    disabled: bool = False
    allow_failure: bool = False
    allow_warning: bool = False
    log_level: str | None = None
    run_if: str | None = None
    """Rendered before the task runs; false (as If reads it) skips the task (SKIPPED)."""
    log_to_file: bool | None = None
    """Keep the task's log lines in a file of its task run rather than in the logs; None
    follows the flow's ``logToFile``."""
    task_cache: dict[str, Any] | None = None
    """``taskCache`` as written (checked when read); see :attr:`cache`."""
    children: dict[ListKey, list[TaskDef]] = field(default_factory=dict)
    """A flowable's child task lists, by property (``("then",)``) or property and map key
    (``("cases", "a")``), read as tasks with positions and ids."""
    line: int = 0
    column: int = 0
    property_positions: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Every key written in the task (common ones too) -> (line, column) of the key."""
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    """The task mapping as written, which plugin defaults are merged into."""
    path: PathKey = ()
    """Where the task sits in the flow document (``("tasks", 2)``), for the source map."""

    @property
    def timeout_delta(self) -> timedelta | None:
        return parse_duration(self.timeout) if self.timeout else None

    @property
    def cache(self) -> TaskCache | None:
        """The task's cache policy when ``taskCache`` enables one."""
        if not self.task_cache or self.task_cache.get("enabled") is not True:
            return None
        return TaskCache(True, self.task_cache.get("ttl"))

    def walk(self) -> Iterator[TaskDef]:
        """This task and every task nested in it, in document order."""
        yield self
        for tasks in self.children.values():
            for task in tasks:
                yield from task.walk()


@dataclass
class FlowOutputDef:
    id: str
    type: str
    value: Any
    """Usually an expression such as ``{{ outputs.task.value }}``, rendered at the end."""
    description: str | None = None
    line: int | None = None
    column: int | None = None
    path: PathKey = ()


@dataclass
class PluginDefault:
    type: str
    """A prefix of the task types it applies to (a whole type id is a prefix too)."""
    values: dict[str, Any]
    forced: bool = False
    """Forced values override the task's own; the others only fill what the task leaves out."""
    line: int | None = None
    column: int | None = None
    path: PathKey = ()


@dataclass
class TriggerDef:
    """A trigger as written: what starts the flow's executions under ``plait server``."""

    id: str
    type: str
    properties: dict[str, Any]
    """Every key except the common ones (id, type, description, disabled)."""
    description: str | None = None
    disabled: bool = False
    line: int = 0
    column: int = 0
    path: PathKey = ()


CONCURRENCY_BEHAVIORS = ("QUEUE", "CANCEL", "FAIL")


@dataclass
class Concurrency:
    """At most ``limit`` executions of the flow run at once; the others wait (QUEUE), or end
    CANCELLED or FAILED without running."""

    limit: int
    behavior: str = "QUEUE"


@dataclass
class Flow:
    id: str
    namespace: str
    tasks: list[TaskDef]
    description: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    inputs: list[InputDef] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)
    outputs: list[FlowOutputDef] = field(default_factory=list)
    plugin_defaults: list[PluginDefault] = field(default_factory=list)
    errors: list[TaskDef] = field(default_factory=list)
    """Tasks run when the execution fails."""
    finally_: list[TaskDef] = field(default_factory=list)
    """Tasks run at the end, whatever the outcome."""
    triggers: list[TriggerDef] = field(default_factory=list)
    concurrency: Concurrency | None = None
    disabled: bool = False
    """A disabled flow is stored and validated but never executed, and its triggers do not
    fire (Kestra's flow-level ``disabled``)."""
    log_to_file: bool = False
    """The default of every task's ``logToFile``."""
    source: str = ""
    file: str = "<flow>"
    source_map: SourceMap = field(default_factory=SourceMap, repr=False)

    @property
    def children(self) -> dict[ListKey, list[TaskDef]]:
        """The flow's own task lists, keyed like a flowable's children."""
        return {("tasks",): self.tasks, ("errors",): self.errors, ("finally",): self.finally_}

    def walk_top(self) -> Iterator[TaskDef]:
        """The tasks of the flow's own lists (tasks, errors, finally), not nested ones."""
        for tasks in self.children.values():
            yield from tasks

    def walk(self) -> Iterator[TaskDef]:
        """Every task of the flow, nested ones included, in document order."""
        for tasks in self.children.values():
            for task in tasks:
                yield from task.walk()

    def task(self, task_id: str) -> TaskDef | None:
        return next((t for t in self.walk() if t.id == task_id), None)

    def input(self, input_id: str) -> InputDef | None:
        return next((i for i in self.inputs if i.id == input_id), None)
