"""Reading a flow file into the model, reporting every structural problem at once.

Structure only: the shape of the document, ids, inputs, outputs and plugin defaults. What needs
the installed plugins (task types, their properties, expressions) is checked by
:mod:`plait.flows.validate`. The reader keeps going after a problem so that one run of
``plait validate`` lists them all, each at its file, line and column.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from plait.durations import parse_duration
from plait.errors import FlowValidationError, Problem
from plait.flows import ids
from plait.flows.input_types import (
    COMMON_INPUT_KEYS,
    INPUT_TYPES,
    ITEM_TYPES,
    InputValueError,
    coerce,
)
from plait.flows.model import (
    COMMON_TASK_FIELDS,
    COMMON_TASK_KEYS,
    Flow,
    FlowOutputDef,
    InputDef,
    PluginDefault,
    TaskDef,
)
from plait.flows.yaml_positions import PathKey, SourceMap, load_yaml

FLOW_KEYS = (
    "id",
    "namespace",
    "description",
    "labels",
    "inputs",
    "variables",
    "tasks",
    "outputs",
    "pluginDefaults",
)
UNSUPPORTED_FLOW_KEYS = {
    "taskDefaults": "; rename it to 'pluginDefaults'",
    **dict.fromkeys(
        (
            "triggers",
            "errors",
            "finally",
            "afterExecution",
            "listeners",
            "concurrency",
            "retry",
            "sla",
            "disabled",
            "workerGroup",
            "checks",
            "revision",
        ),
        "",
    ),
}
"""Kestra flow properties plait does not implement (-> a hint): refused by name, not ignored."""
UNSUPPORTED_TASK_KEYS = frozenset(
    {
        "runIf",
        "allowWarning",
        "taskCache",
        "workerGroup",
        "logToFile",
        "version",
        "pluginDefaultsRef",
        "assets",
    }
)
LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR")
RETRY_TYPES = ("constant", "exponential", "random")
OUTPUT_KEYS = ("id", "type", "value", "description", "displayName")
PLUGIN_DEFAULT_KEYS = ("type", "values", "forced")

_KIND_NAMES = {str: "text", bool: "true or false", dict: "a mapping", list: "a list"}


def describe(value: Any) -> str:
    """How a value of the wrong kind is named in a message."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"'{value}'" if len(value) <= 40 else f"'{value[:37]}...'"
    return str(value)


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """In file order, so a long list reads top to bottom; problems without a line go first."""
    return sorted(problems, key=lambda p: (p.line or 0, p.column or 0))


class _Reader:
    """Collects problems, each placed at the position of a path in the document."""

    def __init__(self, file: str, source_map: SourceMap) -> None:
        self.file = file
        self.map = source_map
        self.problems: list[Problem] = []

    def problem(self, path: PathKey, message: str, *, at_key: bool = False) -> None:
        position = self.map.key(path) if at_key else self.map.value(path)
        line, column = position or (None, None)
        self.problems.append(Problem(message, self.file, line, column))

    def kind(self, value: Any, kind: type, path: PathKey, name: str, where: str = "") -> Any | None:
        """``value`` if it is of ``kind`` (None stays None, for optional keys)."""
        if value is None or isinstance(value, kind):
            return value
        if kind is str and isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)  # `description: 2024` is text to the author
        self.problem(path, f"{where}'{name}' must be {_KIND_NAMES[kind]}, got {describe(value)}")
        return None

    def identifier(
        self, value: Any, rule: ids.IdRule, path: PathKey, name: str, where: str = ""
    ) -> str | None:
        """The id as written, its problems reported (an int is read as its digits); None when
        there is none."""
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if value is None:
            self.problem(path[:-1], f"{where}missing required '{name}'")
            return None
        if not isinstance(value, str):
            self.problem(path, f"{where}'{name}' must be text, got {describe(value)}")
            return None
        if problem := rule.problem(value):
            self.problem(path, f"{where}{problem}")
        return value

    def unknown_keys(
        self,
        mapping: dict[Any, Any],
        path: PathKey,
        allowed: Iterable[str],
        what: str,
        unsupported: dict[str, str] | None = None,
    ) -> None:
        allowed = list(allowed)
        unsupported = unsupported or {}
        for key in mapping:
            if key in allowed:
                continue
            if key in unsupported:
                message = f"'{key}' is a Kestra {what} property that plait does not support"
                message += unsupported[key]
            else:
                message = f"unknown {what} property '{key}'{ids.did_you_mean(key, allowed)}"
                message += f" (allowed: {', '.join(allowed)})"
            self.problem((*path, key), message, at_key=True)

    def items(self, value: Any, path: PathKey, name: str) -> list[tuple[int, dict[str, Any]]]:
        """The mappings of a list such as ``tasks`` or ``inputs``, reporting the rest."""
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(path, f"'{name}' must be a list, got {describe(value)}")
            return []
        entries = []
        for index, item in enumerate(value):
            if isinstance(item, dict):
                entries.append((index, item))
            else:
                self.problem(
                    (*path, index),
                    f"each entry of '{name}' must be a mapping, got {describe(item)}",
                )
        return entries


def load_flow(source: str | Path, *, file: str | None = None) -> tuple[Flow | None, list[Problem]]:
    """The flow (as much of it as could be read) and every structural problem found.

    The flow is None only when the text is not a readable YAML mapping at all.
    """
    if isinstance(source, Path):
        file = file or str(source)
        try:
            source = source.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            return None, [Problem(f"cannot read the flow file: {exc}", file)]
    file = file or "<flow>"
    document = load_yaml(source, file)
    reader = _Reader(file, document.source_map)
    reader.problems.extend(document.problems)
    if not document.readable:
        return None, reader.problems
    data = document.data
    if not isinstance(data, dict):
        got = "an empty document" if data is None else describe(data)
        reader.problems.append(
            Problem(
                f"a flow must be a YAML mapping with id, namespace and tasks; got {got}", file, 1, 1
            )
        )
        return None, reader.problems
    flow = _read_flow(data, source, reader)
    return flow, sort_problems(reader.problems)


def parse_flow(source: str | Path, *, file: str | None = None) -> Flow:
    """Read a flow (YAML text, or a path to a file); raise FlowValidationError with every
    structural problem at once."""
    flow, problems = load_flow(source, file=file)
    if problems or flow is None:
        raise FlowValidationError(problems)
    return flow


def _read_flow(data: dict[Any, Any], source: str, reader: _Reader) -> Flow:
    reader.unknown_keys(data, (), FLOW_KEYS, "flow", UNSUPPORTED_FLOW_KEYS)
    for key in ("id", "namespace", "tasks"):
        if key not in data:
            reader.problems.append(
                Problem(f"missing required flow property '{key}'", reader.file, 1, 1)
            )
    flow_id = (
        reader.identifier(data.get("id"), ids.FLOW_ID, ("id",), "id") if "id" in data else None
    )
    namespace = (
        reader.identifier(data.get("namespace"), ids.NAMESPACE, ("namespace",), "namespace")
        if "namespace" in data
        else None
    )
    if "tasks" in data and data["tasks"] == []:
        reader.problem(("tasks",), "'tasks' must contain at least one task")
    variables = reader.kind(data.get("variables"), dict, ("variables",), "variables")
    return Flow(
        id=flow_id or "",
        namespace=namespace or "",
        description=reader.kind(data.get("description"), str, ("description",), "description"),
        labels=_labels(data.get("labels"), reader),
        inputs=_inputs(data.get("inputs"), reader),
        variables=variables or {},
        tasks=_tasks(data.get("tasks"), reader),
        outputs=_outputs(data.get("outputs"), reader),
        plugin_defaults=_plugin_defaults(data.get("pluginDefaults"), reader),
        source=source,
        file=reader.file,
        source_map=reader.map,
    )


def _labels(value: Any, reader: _Reader) -> dict[str, str]:
    """Kestra accepts a mapping or a list of ``{key, value}``; values are text."""
    pairs: list[tuple[Any, Any, PathKey]] = []
    if isinstance(value, dict):
        pairs = [(k, v, ("labels", k)) for k, v in value.items()]
    elif isinstance(value, list):
        for index, item in reader.items(value, ("labels",), "labels"):
            path: PathKey = ("labels", index)
            reader.unknown_keys(item, path, ("key", "value"), "label")
            if "key" not in item or "value" not in item:
                reader.problem(path, "a label in a list needs a 'key' and a 'value'")
                continue
            pairs.append((item["key"], item["value"], (*path, "value")))
    elif value is not None:
        reader.problem(("labels",), f"'labels' must be a mapping, got {describe(value)}")
    labels = {}
    for key, label, path in pairs:
        if isinstance(label, dict | list) or label is None:
            reader.problem(path, f"label '{key}' must be text, got {describe(label)}")
            continue
        labels[str(key)] = str(label).lower() if isinstance(label, bool) else str(label)
    return labels


def check_common_key(key: str, value: Any, path: PathKey, reader: _Reader, where: str) -> Any:
    """Check a key every task accepts (in a task or in a plugin default); None if invalid."""
    if key in ("disabled", "allowFailure"):
        return reader.kind(value, bool, path, key, where)
    if key == "retry":
        retry = reader.kind(value, dict, path, key, where)
        kind = retry.get("type") if retry else None
        if retry is not None and kind not in RETRY_TYPES:
            reader.problem(
                (*path, "type") if "type" in retry else path,
                f"{where}retry 'type' must be one of {', '.join(RETRY_TYPES)}, "
                f"got {describe(kind)}",
            )
            return None
        return retry
    text = reader.kind(value, str, path, key, where)
    if text is None or key == "description":
        return text
    if key == "timeout" and parse_duration(text) is None:
        reader.problem(
            path,
            f"{where}'timeout' must be an ISO-8601 duration such as PT5M, got {describe(text)}",
        )
        return None
    if key == "logLevel" and text not in LOG_LEVELS:
        reader.problem(
            path,
            f"{where}'logLevel' must be one of {', '.join(LOG_LEVELS)}, got {describe(text)}"
            + ids.did_you_mean(text, LOG_LEVELS),
        )
        return None
    return text


def _tasks(value: Any, reader: _Reader) -> list[TaskDef]:
    tasks: list[TaskDef] = []
    first_seen: dict[str, int] = {}
    for index, raw in reader.items(value, ("tasks",), "tasks"):
        path: PathKey = ("tasks", index)
        task_id = reader.identifier(
            raw.get("id"), ids.TASK_ID, (*path, "id"), "id", f"task #{index + 1}: "
        )
        where = f"task '{task_id}': " if task_id else f"task #{index + 1}: "
        if task_id is not None and task_id in first_seen:
            reader.problem(
                (*path, "id"),
                f"duplicate task id '{task_id}' (first used at line {first_seen[task_id]}); "
                "task ids must be unique in a flow",
            )
        elif task_id is not None:
            first_seen[task_id] = (reader.map.value((*path, "id")) or (0, 0))[0]
        task_type = raw.get("type")
        if task_type is None:
            reader.problem(path, f"{where}missing required 'type'")
        elif not isinstance(task_type, str) or not task_type.strip():
            reader.problem(
                (*path, "type"), f"{where}'type' must be a task type id, got {describe(task_type)}"
            )
            task_type = None
        for key in raw:
            if key in UNSUPPORTED_TASK_KEYS:
                reader.problem(
                    (*path, key),
                    f"{where}'{key}' is a Kestra task property that plait does not support",
                    at_key=True,
                )
        common = {
            COMMON_TASK_FIELDS[key]: check_common_key(key, raw[key], (*path, key), reader, where)
            for key in COMMON_TASK_FIELDS
            if key in raw
        }
        line, column = reader.map.value(path) or (0, 0)
        tasks.append(
            TaskDef(
                id=task_id or "",
                type=task_type or "",
                properties={
                    k: v
                    for k, v in raw.items()
                    if k not in COMMON_TASK_KEYS and k not in UNSUPPORTED_TASK_KEYS
                },
                line=line,
                column=column,
                property_positions={
                    key: pos for key in raw if (pos := reader.map.key((*path, key)))
                },
                raw=raw,
                path=path,
                **{k: v for k, v in common.items() if v is not None},
            )
        )
    return tasks


def _inputs(value: Any, reader: _Reader) -> list[InputDef]:
    inputs: list[InputDef] = []
    first_seen: dict[str, int] = {}
    for index, raw in reader.items(value, ("inputs",), "inputs"):
        path: PathKey = ("inputs", index)
        id_key = "id" if "id" in raw or "name" not in raw else "name"
        input_id = reader.identifier(
            raw.get(id_key), ids.INPUT_ID, (*path, id_key), "id", f"input #{index + 1}: "
        )
        if input_id is None:
            continue
        if input_id in first_seen:
            reader.problem(
                (*path, id_key),
                f"duplicate input id '{input_id}' (first declared at line {first_seen[input_id]})",
            )
            continue
        line, column = reader.map.value(path) or (None, None)
        first_seen[input_id] = line or 0
        definition = _input(input_id, raw, path, reader)
        if definition is not None:
            definition.line, definition.column = line, column
            inputs.append(definition)
    return inputs


def _input_type(raw: dict[str, Any], path: PathKey, reader: _Reader, where: str) -> str | None:
    kind = raw.get("type")
    if kind in INPUT_TYPES:
        return str(kind)
    if kind is None:
        reader.problem(path, f"{where}missing required 'type' (one of {', '.join(INPUT_TYPES)})")
        return None
    hint = " (Kestra's ENUM is SELECT here)" if kind == "ENUM" else ""
    reader.problem(
        (*path, "type"),
        f"{where}unknown type {describe(kind)}{ids.did_you_mean(kind, INPUT_TYPES)}{hint}"
        f" (types: {', '.join(INPUT_TYPES)})",
    )
    return None


def _input(input_id: str, raw: dict[str, Any], path: PathKey, reader: _Reader) -> InputDef | None:
    where = f"input '{input_id}': "
    kind = _input_type(raw, path, reader, where)
    if kind is None:
        return None
    allowed = COMMON_INPUT_KEYS | INPUT_TYPES[kind]
    for key in raw:
        if key in allowed:
            continue
        owners = [t for t, keys in INPUT_TYPES.items() if key in keys]
        if owners:
            message = (
                f"{where}'{key}' does not apply to {kind} inputs (only to {', '.join(owners)})"
            )
        else:
            message = f"{where}unknown input property '{key}'{ids.did_you_mean(key, allowed)}"
        reader.problem((*path, key), message, at_key=True)
    required = reader.kind(raw.get("required"), bool, (*path, "required"), "required", where)
    definition = InputDef(
        id=input_id,
        type=kind,
        description=reader.kind(
            raw.get("description"), str, (*path, "description"), "description", where
        ),
        required=True if required is None else required,
    )
    ok = _input_constraints(definition, raw, path, reader, where)
    if ok and raw.get("defaults") is not None:
        definition.defaults = raw["defaults"]
        if kind != "FILE":
            try:
                coerce(definition, raw["defaults"])
            except InputValueError as exc:
                reader.problem((*path, "defaults"), f"{where}invalid 'defaults': {exc}")
    return definition


def _input_constraints(
    definition: InputDef, raw: dict[str, Any], path: PathKey, reader: _Reader, where: str
) -> bool:
    """Read ``validator``, ``min``/``max``, ``values`` and ``itemType``; False if any is bad."""
    before = len(reader.problems)
    validator = reader.kind(raw.get("validator"), str, (*path, "validator"), "validator", where)
    if validator is not None:
        try:
            re.compile(validator)
            definition.validator = validator
        except re.error as exc:
            reader.problem((*path, "validator"), f"{where}invalid 'validator' regex: {exc}")
    number = int if definition.type == "INT" else (int, float)
    for key in ("min", "max"):
        bound = raw.get(key)
        if bound is not None and (not isinstance(bound, number) or isinstance(bound, bool)):
            reader.problem(
                (*path, key),
                f"{where}'{key}' must be a number valid for "
                f"{definition.type}, got {describe(bound)}",
            )
            continue
        setattr(definition, key, bound)
    if (
        definition.min is not None
        and definition.max is not None
        and definition.min > definition.max
    ):
        reader.problem(
            (*path, "min"),
            f"{where}'min' ({definition.min}) is greater than 'max' ({definition.max})",
        )
    if definition.type == "SELECT":
        values = raw.get("values")
        if (
            not isinstance(values, list)
            or not values
            or any(isinstance(v, dict | list) or v is None for v in values)
        ):
            reader.problem(
                (*path, "values") if "values" in raw else path,
                f"{where}a SELECT input needs 'values': a non-empty list of choices",
            )
        else:
            definition.values = [str(v).lower() if isinstance(v, bool) else str(v) for v in values]
    if definition.type == "ARRAY":
        item_type = raw.get("itemType")
        if item_type in ITEM_TYPES:
            definition.item_type = item_type
        else:
            reader.problem(
                (*path, "itemType") if "itemType" in raw else path,
                f"{where}an ARRAY input needs 'itemType', one of {', '.join(ITEM_TYPES)}; got "
                f"{describe(item_type)}{ids.did_you_mean(item_type, ITEM_TYPES)}",
            )
    return len(reader.problems) == before


def _outputs(value: Any, reader: _Reader) -> list[FlowOutputDef]:
    outputs: list[FlowOutputDef] = []
    seen: set[str] = set()
    for index, raw in reader.items(value, ("outputs",), "outputs"):
        path: PathKey = ("outputs", index)
        output_id = reader.identifier(
            raw.get("id"), ids.OUTPUT_ID, (*path, "id"), "id", f"flow output #{index + 1}: "
        )
        where = f"flow output '{output_id}': " if output_id else f"flow output #{index + 1}: "
        reader.unknown_keys(raw, path, OUTPUT_KEYS, "flow output")
        if output_id in seen:
            reader.problem((*path, "id"), f"duplicate flow output id '{output_id}'")
        kind = _input_type(raw, path, reader, where) if output_id else None
        if "value" not in raw:
            reader.problem(path, f"{where}missing required 'value' (usually an expression)")
        if output_id is None or output_id in seen or kind is None:
            continue
        seen.add(output_id)
        line, column = reader.map.value(path) or (None, None)
        outputs.append(
            FlowOutputDef(
                id=output_id,
                type=kind,
                value=raw.get("value"),
                description=reader.kind(
                    raw.get("description"), str, (*path, "description"), "description", where
                ),
                line=line,
                column=column,
                path=path,
            )
        )
    return outputs


def _plugin_defaults(value: Any, reader: _Reader) -> list[PluginDefault]:
    defaults: list[PluginDefault] = []
    for index, raw in reader.items(value, ("pluginDefaults",), "pluginDefaults"):
        entry_path: PathKey = ("pluginDefaults", index)
        reader.unknown_keys(raw, entry_path, PLUGIN_DEFAULT_KEYS, "plugin default")
        prefix = raw.get("type")
        where = f"plugin default '{prefix}': " if isinstance(prefix, str) else ""
        if not isinstance(prefix, str) or not prefix.strip():
            reader.problem(
                (*entry_path, "type") if "type" in raw else entry_path,
                f"a plugin default needs a 'type' (a task type or a prefix of task types), "
                f"got {describe(prefix)}",
            )
        values = raw.get("values")
        if not isinstance(values, dict):
            reader.problem(
                (*entry_path, "values") if "values" in raw else entry_path,
                f"{where}'values' must be a mapping of task properties, got {describe(values)}",
            )
        forced = reader.kind(raw.get("forced"), bool, (*entry_path, "forced"), "forced", where)
        if not isinstance(prefix, str) or not prefix.strip() or not isinstance(values, dict):
            continue
        valid = {}
        for key, item in values.items():
            key_path: PathKey = (*entry_path, "values", key)
            if key in ("id", "type"):
                reader.problem(
                    key_path, f"{where}a plugin default cannot set a task's '{key}'", at_key=True
                )
            elif key in COMMON_TASK_FIELDS:
                if check_common_key(key, item, key_path, reader, where) is not None:
                    valid[key] = item
            else:
                valid[key] = item
        line, column = reader.map.value(entry_path) or (None, None)
        defaults.append(
            PluginDefault(
                type=prefix,
                values=valid,
                forced=bool(forced),
                line=line,
                column=column,
                path=entry_path,
            )
        )
    return defaults
