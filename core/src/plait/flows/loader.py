"""Reading a flow file into the model, reporting every structural problem at once.

Structure only: the shape of the document, ids, inputs, outputs and plugin defaults. What needs
the installed plugins (task types, their properties, expressions) is checked by
:mod:`plait.flows.validate`. The reader keeps going after a problem so that one run of
``plait validate`` lists them all, each at its file, line and column.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from plait.errors import FlowValidationError, Problem
from plait.flows import ids
from plait.flows.flow_extras_reader import (
    check_revision,
    plugin_defaults_key,
    read_concurrency,
    read_log_to_file,
    read_triggers,
)
from plait.flows.flow_file import read_flow_file
from plait.flows.input_reader import input_type, read_inputs
from plait.flows.model import COMMON_TASK_FIELDS, Flow, FlowOutputDef, PluginDefault
from plait.flows.reader import Reader, describe, sort_problems
from plait.flows.task_reader import (
    LOG_LEVELS,
    RETRY_TYPES,
    TaskListLookup,
    TaskTree,
    check_common_key,
)
from plait.flows.yaml_positions import PathKey, load_yaml

__all__ = [
    "FLOW_KEYS",
    "LOG_LEVELS",
    "OUTPUT_KEYS",
    "PLUGIN_DEFAULT_KEYS",
    "RETRY_TYPES",
    "TaskListLookup",
    "describe",
    "load_flow",
    "parse_flow",
    "sort_problems",
]

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
    "errors",
    "finally",
    "triggers",
    "concurrency",
    "disabled",
    "revision",
    "taskDefaults",
    "logToFile",
)
UNSUPPORTED_FLOW_KEYS = dict.fromkeys(
    ("afterExecution", "listeners", "retry", "sla", "workerGroup", "checks"), ""
)
"""Kestra flow properties plait does not implement (-> a hint): refused by name, not ignored."""
OUTPUT_KEYS = ("id", "type", "value", "description", "displayName")
PLUGIN_DEFAULT_KEYS = ("type", "values", "forced")


def _no_task_lists(type_name: str) -> Mapping[str, str]:
    return {}


def load_flow(
    source: str | Path, *, file: str | None = None, task_lists: TaskListLookup | None = None
) -> tuple[Flow | None, list[Problem]]:
    """The flow (as much of it as could be read) and every structural problem found.

    The flow is None only when the text is not a readable YAML mapping at all. ``task_lists``
    tells which properties of which task types hold child tasks (without it no task nests).
    """
    if isinstance(source, Path):
        file = file or str(source)
        text = read_flow_file(source, file)
        if isinstance(text, Problem):
            return None, [text]
        source = text
    file = file or "<flow>"
    document = load_yaml(source, file)
    reader = Reader(file, document.source_map)
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
    flow = _read_flow(data, source, reader, task_lists or _no_task_lists)
    return flow, sort_problems(reader.problems)


def parse_flow(
    source: str | Path, *, file: str | None = None, task_lists: TaskListLookup | None = None
) -> Flow:
    """Read a flow (YAML text, or a path to a file); raise FlowValidationError with every
    structural problem at once."""
    flow, problems = load_flow(source, file=file, task_lists=task_lists)
    if problems or flow is None:
        raise FlowValidationError(problems)
    return flow


def _read_flow(
    data: dict[Any, Any], source: str, reader: Reader, task_lists: TaskListLookup
) -> Flow:
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
    tree = TaskTree(reader, task_lists)
    lists = {key: tree.tasks(data.get(key), (key,), key) for key in ("tasks", "errors", "finally")}
    for key in ("tasks", "errors", "finally"):
        if key in data and data[key] in ([], None):
            reader.problem((key,), f"'{key}' must contain at least one task")
    variables = reader.kind(data.get("variables"), dict, ("variables",), "variables")
    check_revision(data, reader)
    return Flow(
        id=flow_id or "",
        namespace=namespace or "",
        description=reader.kind(data.get("description"), str, ("description",), "description"),
        labels=_labels(data.get("labels"), reader),
        inputs=read_inputs(data.get("inputs"), reader),
        variables=variables or {},
        tasks=lists["tasks"],
        outputs=_outputs(data.get("outputs"), reader),
        plugin_defaults=_plugin_defaults(data, plugin_defaults_key(data, reader), reader),
        errors=lists["errors"],
        finally_=lists["finally"],
        triggers=read_triggers(data.get("triggers"), reader),
        concurrency=read_concurrency(data.get("concurrency"), reader),
        disabled=bool(reader.kind(data.get("disabled"), bool, ("disabled",), "disabled")),
        log_to_file=read_log_to_file(data, reader),
        source=source,
        file=reader.file,
        source_map=reader.map,
    )


def _labels(value: Any, reader: Reader) -> dict[str, str]:
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
        if str(key).startswith("system.") and key != "system.readOnly":
            reader.problem(path, f"label '{key}': system labels are set by the engine, not a flow")
            continue
        if isinstance(label, dict | list) or label is None:
            reader.problem(path, f"label '{key}' must be text, got {describe(label)}")
            continue
        labels[str(key)] = str(label).lower() if isinstance(label, bool) else str(label)
    return labels


def _outputs(value: Any, reader: Reader) -> list[FlowOutputDef]:
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
        kind = input_type(raw, path, reader, where) if output_id else None
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


def _plugin_defaults(data: dict[Any, Any], name: str, reader: Reader) -> list[PluginDefault]:
    defaults: list[PluginDefault] = []
    for index, raw in reader.items(data.get(name), (name,), name):
        entry_path: PathKey = (name, index)
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
