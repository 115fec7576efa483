"""Checks that need the installed plugins: task types, their properties, and the static check of
``outputs.X.Y`` references, all before anything runs.

Properties are checked against each task type's ``Properties`` model once plugin defaults are
applied. A dynamic property holding an expression is accepted whatever its declared type: it is
validated again after rendering. Every problem points at the key or value at fault, or at the
plugin default that supplied the value.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from plait_sdk.flowable import task_lists
from plait_sdk.schema import output_names
from plait_sdk.task import DYNAMIC_KEY
from pydantic import ValidationError
from pydantic.fields import FieldInfo

from plait.errors import ExpressionError, FlowValidationError, Problem
from plait.flows.defaults import value_source, with_plugin_defaults
from plait.flows.ids import did_you_mean, quoted_list
from plait.flows.loader import describe, load_flow, sort_problems
from plait.flows.model import COMMON_TASK_KEYS, Flow, PluginDefault, TaskDef, TriggerDef
from plait.flows.model_errors import (
    DURATION_ERRORS,
    DURATION_HINT,
    dotted,
    unknown_key_message,
    walk,
)
from plait.flows.yaml_positions import PathKey

if TYPE_CHECKING:
    from plait.plugins import Registry, TaskType


class OutputReferenceLike(Protocol):
    task_id: str | None
    output: str | None
    keyed: bool
    expression: str
    offset: int | None


class UnknownNameLike(Protocol):
    kind: str
    name: str
    known: tuple[str, ...]
    expression: str
    offset: int


class ReferenceFinder(Protocol):
    """What validation needs from the expression engine."""

    def output_references(self, template: str) -> Iterable[OutputReferenceLike]: ...

    def unknown_names(self, template: str) -> Iterable[UnknownNameLike]: ...


SUBFLOW_TYPES = frozenset({"plait.core.Subflow"})
"""Task types that start an execution of the flow their ``namespace`` and ``flowId`` name
(Kestra's executable tasks)."""


def has_expression(value: Any) -> bool:
    """Whether a value holds an expression anywhere (in a string, a list or a map's values)."""
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, dict):
        return any(has_expression(v) for v in value.values())
    if isinstance(value, list):
        return any(has_expression(v) for v in value)
    return False


def _strings(value: Any, path: PathKey = ()) -> Iterator[tuple[str, PathKey]]:
    if isinstance(value, str):
        yield value, path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))


@cache
def _fields(task_cls: TaskType) -> dict[str, FieldInfo]:
    """A task type's properties by the key a flow writes (alias or name)."""
    fields: dict[str, FieldInfo] = {}
    for name, info in task_cls.Properties.model_fields.items():
        fields[info.alias or name] = info
        fields.setdefault(name, info)
    return fields


def _is_dynamic(info: FieldInfo) -> bool:
    extra = info.json_schema_extra
    return isinstance(extra, dict) and bool(extra.get(DYNAMIC_KEY))


class _Validator:
    def __init__(
        self,
        flow: Flow,
        registry: Registry,
        engine: ReferenceFinder,
        global_defaults: Sequence[PluginDefault],
    ) -> None:
        self.flow = flow
        self.registry = registry
        self.engine = engine
        self.global_defaults = global_defaults
        self.problems: list[Problem] = []
        self.classes: dict[str, TaskType | None] = {}

    def problem(self, message: str, position: tuple[int, int] | None) -> None:
        line, column = position or (None, None)
        self.problems.append(Problem(message, self.flow.file, line, column))

    def run(self) -> list[Problem]:
        tasks = list(self.flow.walk())
        checked = [self._task(task) for task in tasks]
        self._check_default_values()
        self.loops = self._loop_ancestors()
        all_ids = [t.id for t in tasks]
        for index, (task, (effective, cls)) in enumerate(zip(tasks, checked, strict=True)):
            # Earlier in document order: earlier siblings, their children, the ancestors and
            # for errors/finally handlers every main task. A task of a branch that did not
            # run is reported when the expression is rendered.
            self._check_task_references(task, cls, effective, all_ids[:index])
        for output in self.flow.outputs:
            for text, sub in _strings(output.value):
                path = (*output.path, "value", *sub)
                self._check_text(text, path, f"flow output '{output.id}'", all_ids, None)
        for trigger in self.flow.triggers:
            self._trigger(trigger)
        return self.problems

    def _trigger(self, trigger: TriggerDef) -> None:
        """A trigger's type, its properties against its model, and its own check."""
        smap = self.flow.source_map
        where = f"trigger '{trigger.id}'"
        cls = self.registry.trigger_types.get(trigger.type) if trigger.type else None
        if cls is None:
            excluded = self.registry.excluded_type_message(trigger.type, "trigger")
            if excluded is not None:
                self.problem(f"{where}: {excluded}", smap.value((*trigger.path, "type")))
            elif trigger.type:
                known = sorted({c.type for c in self.registry.trigger_types.values()})
                self.problem(
                    f"{where}: unknown trigger type '{trigger.type}'"
                    f"{did_you_mean(trigger.type, self.registry.trigger_types)} "
                    f"(installed: {', '.join(known) or 'none'})",
                    smap.value((*trigger.path, "type")),
                )
            return
        try:
            props = cls.Properties.model_validate(trigger.properties)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                loc = [str(part) for part in error["loc"]]
                key = loc[0] if loc else ""
                if error["type"] == "extra_forbidden":
                    message = unknown_key_message(cls.Properties, error["loc"], ".".join(loc))
                elif error["type"] == "missing":
                    message = f"missing required property '{'.'.join(loc)}'"
                else:
                    message = f"property '{'.'.join(loc)}': {error['msg']}"
                path = (*trigger.path, key) if key in trigger.properties else trigger.path
                self.problem(f"{where} ({cls.type}): {message}", smap.value(path))
            return
        if problem := cls().check(props):
            self.problem(f"{where} ({cls.type}): {problem}", (trigger.line, trigger.column))
        for text, sub in _strings(trigger.properties.get("inputs") or {}):
            path = (*trigger.path, "inputs", *sub)
            self._check_text(text, path, where, [], None)

    def _loop_ancestors(self) -> dict[str, str]:
        """Task id -> id of the innermost looping flowable it runs in (outputs keyed by value)."""
        found: dict[str, str] = {}

        def visit(task: TaskDef, loop: str | None) -> None:
            if loop is not None:
                found[task.id] = loop
            cls = self.classes.get(task.id)
            inner = task.id if cls is not None and getattr(cls, "loops", False) else loop
            for children in task.children.values():
                for child in children:
                    visit(child, inner)

        for top in self.flow.walk_top():
            visit(top, None)
        return found

    # -- task types and properties ---------------------------------------------------------

    def _task(self, task: TaskDef) -> tuple[TaskDef, TaskType | None]:
        """The task with its plugin defaults applied, and its type (None when unknown)."""
        cls = self.registry.find_task_type(task.type) if task.type else None
        self.classes.setdefault(task.id, cls)
        if task.type and cls is None:
            self.problem(
                f"task '{task.id}': {self.registry.unknown_task_type_message(task.type)}",
                self.flow.source_map.value((*task.path, "type")),
            )
        effective = with_plugin_defaults(task, **self._defaults_of(cls, task))
        if cls is not None:
            self._check_properties(task, effective, cls)
            self._check_recursion(task, effective, cls)
        return effective, cls

    def _check_recursion(self, task: TaskDef, effective: TaskDef, cls: TaskType) -> None:
        """A Subflow naming its own flow (as written, Kestra's FlowValidator) would start
        itself without end. A cycle through other flows is caught at run time (the runner's
        limit on nested executions)."""
        if cls.type not in SUBFLOW_TYPES:
            return
        props = effective.properties
        flow = self.flow
        if (props.get("namespace"), props.get("flowId")) == (flow.namespace, flow.id):
            self.problem(
                f"task '{task.id}': recursive call to flow [{flow.namespace}.{flow.id}]: a flow "
                "cannot run itself as a subflow (it would start itself without end)",
                (task.line, task.column),
            )

    def _defaults_of(self, cls: TaskType | None, task: TaskDef) -> dict[str, Any]:
        """What selects a task's plugin defaults: its types and the defaults in force."""
        return {
            "canonical_type": cls.type if cls else task.type,
            "defaults": self.flow.plugin_defaults,
            "aliases": cls.aliases if cls else (),
            "global_defaults": self.global_defaults,
        }

    def _origin(
        self, task: TaskDef, cls: TaskType | None, key: str
    ) -> tuple[PathKey, PluginDefault | None]:
        """Where the value of property ``key`` was written: in the task or a plugin default."""
        source = value_source(key, task, **self._defaults_of(cls, task))
        if source is None:
            return (*task.path, key), None
        return (*source.path, "values", key), source

    def _type_label(self, task: TaskDef, cls: TaskType) -> str:
        return task.type if task.type == cls.type else f"{task.type} ({cls.type})"

    def _check_properties(self, task: TaskDef, effective: TaskDef, cls: TaskType) -> None:
        fields = _fields(cls)
        label = self._type_label(task, cls)
        names = [info.alias or name for name, info in cls.Properties.model_fields.items()]
        known: dict[str, Any] = {}
        smap = self.flow.source_map
        lists = task_lists(cls)
        for key, value in effective.properties.items():
            path, source = self._origin(task, cls, key)
            if key in lists:
                known[key] = value  # read and checked as tasks by the loader
                continue
            if key not in fields:
                if source is not None and self.registry.find_task_type(source.type):
                    continue  # reported once, at the default (see _check_default_values)
                self.problem(
                    f"task '{task.id}': unknown property '{key}' for task type {label}"
                    f"{did_you_mean(key, names)} (its properties: {', '.join(names)})",
                    smap.key(path),
                )
                continue
            known[key] = value
            if not _is_dynamic(fields[key]) and has_expression(value):
                self.problem(
                    f"task '{task.id}': property '{key}' of task type {label} is not dynamic: "
                    "expressions are not rendered there; write its value literally",
                    smap.value(path),
                )
        try:
            cls.Properties.model_validate(known)
        except ValidationError as exc:
            self._report_errors(task, cls, known, exc)

    def _report_errors(
        self,
        task: TaskDef,
        cls: TaskType,
        known: dict[str, Any],
        exc: ValidationError,
    ) -> None:
        label = self._type_label(task, cls)
        grouped: dict[tuple[str, PathKey], tuple[list[str], Any]] = {}
        task_at = (task.line, task.column)
        for error in exc.errors(include_url=False):
            loc = error["loc"]
            if not loc:  # a model-level rule: meaningless while expressions are unrendered
                if not has_expression(known):
                    self.problem(f"task '{task.id}' ({label}): {error['msg']}", task_at)
                continue
            key = str(loc[0])
            if key in task_lists(cls) and error["type"] != "missing":
                continue  # the loader reported the shape of child task lists
            if error["type"] == "missing" and key in task.raw and key in task_lists(cls):
                self.problem(  # written as null (`then:` with nothing under it)
                    f"task '{task.id}': '{key}' must contain at least one task",
                    self.flow.source_map.value((*task.path, key)),
                )
                continue
            if error["type"] == "missing" and len(loc) == 1:
                self.problem(
                    f"task '{task.id}': missing required property '{key}' for task type {label}",
                    task_at,
                )
                continue
            sub, chain = walk(known.get(key), loc[1:])
            # Only an expression at (or above) the faulty spot excuses it: it is rendered, then
            # validated, at run time. A container merely holding one is still checked.
            if any(isinstance(v, str) and has_expression(v) for v in chain):
                continue
            if error["type"] == "extra_forbidden":
                message = unknown_key_message(
                    cls.Properties, loc, dotted(key, sub), f" for task type {label}"
                )
                self.problem(
                    f"task '{task.id}': {message}",
                    self.flow.source_map.key((*self._origin(task, cls, key)[0], *sub)),
                )
                continue
            message = error["msg"][0].lower() + error["msg"][1:]
            if error["type"] in DURATION_ERRORS:
                message = DURATION_HINT
            if error["type"] == "missing":
                message = f"missing required '{loc[-1]}'"
            messages, _ = grouped.setdefault((key, sub), ([], chain[-1]))
            if message not in messages:
                messages.append(message)
        for (key, sub), (messages, value) in grouped.items():
            got = (
                f" (got {describe(value)})"
                if messages == [DURATION_HINT]
                else f"; got {describe(value)}"
            )
            self.problem(
                f"task '{task.id}': property '{dotted(key, sub)}' of task type {label}: "
                f"{' or '.join(messages)}{got}",
                self.flow.source_map.value((*self._origin(task, cls, key)[0], *sub)),
            )

    def _check_default_values(self) -> None:
        """A default naming one task type exactly can be checked against its properties."""
        for default in self.flow.plugin_defaults:
            cls = self.registry.find_task_type(default.type)
            if cls is None:
                continue
            fields = _fields(cls)
            for key in default.values:
                if key in COMMON_TASK_KEYS or key in fields:
                    continue
                self.problem(
                    f"plugin default '{default.type}': unknown property '{key}' for task type "
                    f"{cls.type}{did_you_mean(key, fields)}",
                    self.flow.source_map.key((*default.path, "values", key)),
                )

    # -- static expression check -----------------------------------------------------------

    def _check_task_references(
        self, task: TaskDef, cls: TaskType | None, effective: TaskDef, earlier: list[str]
    ) -> None:
        fields = _fields(cls) if cls else {}
        if task.run_if is not None:
            path = (*task.path, "runIf")
            self._check_text(task.run_if, path, f"task '{task.id}'", earlier, task.id)
        for key, value in effective.properties.items():
            if cls is not None and (key not in fields or not _is_dynamic(fields[key])):
                continue  # already reported: unknown or not dynamic
            for text, sub in _strings(value):
                path = (*self._origin(task, cls, key)[0], *sub)
                self._check_text(text, path, f"task '{task.id}'", earlier, task.id)

    def _check_text(
        self, text: str, path: PathKey, owner: str, allowed: list[str], current: str | None
    ) -> None:
        """Check the ``outputs.X.Y`` references of one string against the tasks ``allowed``,
        and that the filters, tests and functions it uses exist."""
        if not has_expression(text):
            return
        smap = self.flow.source_map
        try:
            references = list(self.engine.output_references(text))
            unknown = list(self.engine.unknown_names(text))
        except ExpressionError as exc:
            found = text.find(exc.expression) if exc.expression else -1
            self.problem(f"{owner}: {exc}", smap.text(path, text, found if found >= 0 else 0))
            return
        for name in unknown:
            self.problem(
                f"{owner}: expression `{name.expression}` uses unknown {name.kind} "
                f"'{name.name}'{did_you_mean(name.name, name.known)}",
                smap.text(path, text, name.offset),
            )
        for ref in references:
            if ref.task_id is None:
                continue
            target = ref.task_id
            where = f"{owner}: expression `{ref.expression}`"
            position = smap.text(path, text, ref.offset)
            rule = "a task can only use the outputs of tasks that run before it"
            if target not in self.classes:
                message = f"{where} references unknown task '{target}'"
                message += did_you_mean(target, allowed) or f" (known: {quoted_list(allowed)})"
            elif target == current:
                message = f"{where} references the outputs of task '{target}' itself; {rule}"
            elif target not in allowed:
                message = (
                    f"{where} references task '{target}', which runs after '{current}'; {rule} "
                    f"({quoted_list(allowed)})"
                )
            elif target in self.loops:
                message = self._loop_problem(where, target, ref)
            else:
                message = self._output_problem(where, target, ref.output)
            if message:
                self.problem(message, position)

    def _loop_problem(self, where: str, target: str, ref: OutputReferenceLike) -> str | None:
        """A loop child's outputs are keyed by loop value: ``outputs.child.value`` misses it."""
        cls = self.classes.get(target)
        if cls is None or ref.output is None or ref.keyed or ref.output not in output_names(cls):
            return None
        loop = self.loops[target]
        return (
            f"{where}: task '{target}' runs inside the loop '{loop}', so its outputs are keyed "
            f"by loop value: write outputs.{target}[taskrun.value].{ref.output} in the same "
            f"iteration, or outputs.{target}['<value>'].{ref.output} for one value"
        )

    def _output_problem(self, where: str, target: str, output: str | None) -> str | None:
        cls = self.classes.get(target)
        if cls is None or output is None:
            return None
        names = output_names(cls)
        if output in names:
            return None
        task = self.flow.task(target)
        label = self._type_label(task, cls) if task else cls.type
        return (
            f"{where}: task '{target}' ({label}) has no output '{output}'"
            f"{did_you_mean(output, names)} (its outputs: {quoted_list(names)})"
        )


def validate_flow(
    flow: Flow,
    registry: Registry,
    engine: ReferenceFinder,
    *,
    global_defaults: Sequence[PluginDefault] = (),
) -> list[Problem]:
    """Every problem that needs the installed plugins, in file order (empty: the flow can run)."""
    return sort_problems(_Validator(flow, registry, engine, global_defaults).run())


def check_flow(
    source: str | Path,
    registry: Registry,
    engine: ReferenceFinder,
    *,
    file: str | None = None,
    global_defaults: Sequence[PluginDefault] = (),
) -> Flow:
    """Read and validate a flow; raise FlowValidationError with every problem, structural or
    not, at once. What ``plait run`` and ``plait validate`` call."""
    flow, problems = load_flow(source, file=file, task_lists=registry.task_lists)
    if flow is not None:
        problems = [
            *problems,
            *validate_flow(flow, registry, engine, global_defaults=global_defaults),
        ]
    if problems or flow is None:
        raise FlowValidationError(sort_problems(problems))
    return flow
