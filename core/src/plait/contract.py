"""The plugin contract, checked: what ``plait plugin check`` and the SDK harness's
``check_task_type`` verify of a task type.

- its id is a dotted name, and its id and aliases are unique and resolve to it;
- its docstring gives a title, and every property and output (nested ones included) has a
  description in the generated schemas;
- it has at least one example, every example validates as a flow and uses the type;
- each example that can run here (no missing inputs, nothing unreachable) ends SUCCESS or
  WARNING, and the outputs of the type's task runs validate against its ``Outputs`` model, the
  model the output schema is generated from. An example that cannot run here is a note, or a
  problem when runs are required (the template's tests require them: its example is offline).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

import plait_sdk
from plait_sdk.schema import outputs_schema, properties_schema
from pydantic import ValidationError

from plait.errors import FlowValidationError, PlaitError
from plait.plugins import SDK_MAJOR_ATTR, TaskType

if TYPE_CHECKING:
    from plait.api import Engine

Level = Literal["ok", "note", "problem"]
_TYPE_ID = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")


@dataclass(frozen=True)
class Finding:
    subject: str
    """The task type id, or the plugin, checked."""
    check: str
    level: Level
    message: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.check}: {self.message}"


def problems(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.level == "problem"]


def check_module(module: ModuleType, name: str) -> list[Finding]:
    """The plugin module declares the SDK major it was built for, and it is this one."""
    major = getattr(module, SDK_MAJOR_ATTR, None)
    if major is None:
        message = (
            f"{module.__name__} does not declare {SDK_MAJOR_ATTR}; add "
            f"`{SDK_MAJOR_ATTR} = plait_sdk.SDK_MAJOR` so an incompatible core refuses it clearly"
        )
        return [Finding(name, "sdk", "problem", message)]
    if major != plait_sdk.SDK_MAJOR:
        message = f"built for plait-sdk {major}.x, this is plait-sdk {plait_sdk.__version__}"
        return [Finding(name, "sdk", "problem", message)]
    return [Finding(name, "sdk", "ok", f"built for plait-sdk {major}.x")]


def check_task_types(
    classes: Iterable[TaskType], engine: Engine, *, run: bool = True, must_run: bool = False
) -> list[Finding]:
    """Every check, for each of ``classes`` (the task types of one plugin)."""
    classes = list(classes)
    findings = _check_ids(classes, engine)
    for cls in classes:
        findings += check_task_type(cls, engine, run=run, must_run=must_run, ids=False)
    return findings


def check_task_type(
    cls: TaskType, engine: Engine, *, run: bool = True, must_run: bool = False, ids: bool = True
) -> list[Finding]:
    """Every check of one task type; ``engine`` must have its plugin loaded. Examples run on
    the engine's home (a temporary one, for the check command and the harness)."""
    findings = _check_ids([cls], engine) if ids else []
    findings += _check_schemas(cls)
    example_findings, valid = _check_examples(cls, engine)
    findings += example_findings
    if run:
        for index, flow in valid:
            findings.append(_run_example(cls, engine, index, flow, must_run))
    return findings


def _check_ids(classes: list[TaskType], engine: Engine) -> list[Finding]:
    findings: list[Finding] = []
    names = Counter(name for cls in classes for name in (cls.type, *cls.aliases))
    for cls in classes:
        subject = cls.type
        before = len(findings)
        if not _TYPE_ID.match(cls.type):
            message = f"the id '{cls.type}' is not a dotted name such as plait.acme.Thing"
            findings.append(Finding(subject, "ids", "problem", message))
        for name in (cls.type, *cls.aliases):
            owner = engine.registry.find_task_type(name)
            if names[name] > 1:
                message = f"'{name}' is declared more than once (ids and aliases must be unique)"
                findings.append(Finding(subject, "ids", "problem", message))
            elif owner is None:
                message = (
                    f"'{name}' is not registered: is the plugin installed (pip install -e .) "
                    "and does register_task_types return the class?"
                )
                findings.append(Finding(subject, "ids", "problem", message))
            elif owner is not cls:
                where = engine.registry.owner_of(name)
                message = f"'{name}' is taken by {owner.type}" + (
                    f" from {where.distribution}" if where else ""
                )
                findings.append(Finding(subject, "ids", "problem", message))
        if len(findings) == before:
            message = f"id and {len(cls.aliases)} alias(es) unique, registered to this type"
            findings.append(Finding(subject, "ids", "ok", message))
    return findings


def _check_schemas(cls: TaskType) -> list[Finding]:
    subject = cls.type
    findings = []
    if cls.description() == cls.__name__:
        message = f"{cls.__name__} has no docstring: its first line is the type's title"
        findings.append(Finding(subject, "schema", "problem", message))
    try:
        schemas = {"properties": properties_schema(cls), "outputs": outputs_schema(cls)}
    except Exception as exc:  # a model pydantic cannot describe: the author's to fix
        message = f"the schemas cannot be generated: {type(exc).__name__}: {exc}"
        return [*findings, Finding(subject, "schema", "problem", message)]
    counts = []
    for kind, schema in schemas.items():
        missing = sorted(_undescribed(schema))
        if missing:
            message = (
                f"{kind} schema: no description for {', '.join(missing)} (give one with "
                f"{'prop' if kind == 'properties' else 'output'}(description=...))"
            )
            findings.append(Finding(subject, "schema", "problem", message))
        counts.append(f"{len(schema.get('properties', {}))} {kind}")
    if not findings:
        message = f"{' and '.join(counts)}, every field described"
        findings.append(Finding(subject, "schema", "ok", message))
    return findings


def _undescribed(schema: dict[str, Any]) -> Iterator[str]:
    """Dotted paths of fields without a description, in the schema and its definitions."""
    yield from _fields_without_description(schema, "")
    for name, definition in schema.get("definitions", {}).items():
        yield from _fields_without_description(definition, f"{name}.")


def _fields_without_description(node: Any, prefix: str) -> Iterator[str]:
    if not isinstance(node, dict):
        return
    for name, spec in (node.get("properties") or {}).items():
        if isinstance(spec, dict) and not spec.get("description"):
            yield prefix + name
        yield from _fields_without_description(spec, f"{prefix}{name}.")
    for key in ("items", "additionalProperties"):
        yield from _fields_without_description(node.get(key), prefix)
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in node.get(key) or ():
            yield from _fields_without_description(branch, prefix)


def _check_examples(cls: TaskType, engine: Engine) -> tuple[list[Finding], list[Any]]:
    """The examples' findings, and ``(index, flow)`` of each valid example."""
    subject = cls.type
    findings: list[Finding] = []
    valid: list[tuple[int, Any]] = []
    if not cls.examples:
        message = "no example: add one (plait_sdk.Example) to the class's `examples`"
        return [Finding(subject, "examples", "problem", message)], valid
    names = {cls.type, *cls.aliases}
    for index, example in enumerate(cls.examples, start=1):
        label = f"example {index} ({example.title})"
        try:
            flow = engine.load(example.flow, file=f"{cls.type} {label}")
        except FlowValidationError as exc:
            message = f"{label} is invalid: " + "; ".join(str(p) for p in exc.problems)
            findings.append(Finding(subject, "examples", "problem", message))
            continue
        if not any(task.type in names for task in flow.tasks):
            message = f"{label} does not use {cls.type}"
            findings.append(Finding(subject, "examples", "problem", message))
            continue
        findings.append(Finding(subject, "examples", "ok", f"{label} validates"))
        valid.append((index, flow))
    return findings, valid


def _run_example(cls: TaskType, engine: Engine, index: int, flow: Any, must_run: bool) -> Finding:
    subject = cls.type
    label = f"example {index}"
    not_run: Level = "problem" if must_run else "note"
    try:
        execution = engine.run(flow)
    except PlaitError as exc:  # e.g. an input without default
        return Finding(subject, "run", not_run, f"{label} could not start here: {exc}")
    if execution.state.is_failed:
        errors = "; ".join(f"{r.task_id}: {r.error}" for r in execution.task_runs if r.error)
        message = f"{label} ended {execution.state} here ({errors or 'no error recorded'})"
        return Finding(subject, "run", not_run, message)
    names = {cls.type, *cls.aliases}
    own = {task.id for task in flow.tasks if task.type in names}
    checked = 0
    for task_run in execution.task_runs:
        if task_run.task_id not in own:
            continue
        try:
            cls.Outputs.model_validate(task_run.outputs or {})
        except ValidationError as exc:
            errors = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']} (got {e['input']!r})"
                for e in exc.errors(include_url=False)
            )
            message = (
                f"{label}: the outputs of task '{task_run.task_id}' do not match the output "
                f"schema: {errors}"
            )
            return Finding(subject, "run", "problem", message)
        checked += 1
    message = f"{label} ran {execution.state}; outputs of {checked} task run(s) match the schema"
    return Finding(subject, "run", "ok", message)
