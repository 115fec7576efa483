"""The ``tasks`` part of the flow schema: the keys every task has, and one definition per type.

A task is validated in two layers, the shape the YAML language server handles best: a base
schema (the common keys, and ``type`` as an enum of every id and alias, which is what completion
offers), then, for each task type, ``if`` the ``type`` is one of its names ``then`` its own
definition. That definition repeats the common keys next to the type's properties, because
``additionalProperties: false`` only sees the properties of the schema it sits in; it is what
makes completion offer exactly that type's properties and flags any other key on its line.

A flowable's child task lists (the properties its SDK declaration marks ``x-tasks``) hold tasks
again: their items refer back to the task definition, so completion and validation reach nested
children at any depth, exactly as they do for the flow's own ``tasks``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plait_sdk.flowable import TASKS_KEY, task_lists
from plait_sdk.schema import is_dynamic, outputs_schema, properties_schema
from plait_sdk.task import DYNAMIC_KEY

from plait.flows.ids import TASK_ID, IdRule
from plait.flows.loader import LOG_LEVELS, RETRY_TYPES
from plait.flows.model import COMMON_TASK_KEYS
from plait.plugins import TaskType, TriggerType
from plait.schema.describe import (
    DEFINITIONS_PREFIX,
    Definitions,
    literal,
    summary_and_details,
    type_label,
)

TASK_DEFINITION = "flow.task"
RETRY_DEFINITION = "flow.retry"

TASK_REF = {"$ref": DEFINITIONS_PREFIX + TASK_DEFINITION}

DURATION_PATTERN = (
    r"^[Pp](?=\d|[Tt]\d)(\d+[Dd])?([Tt](?=\d)(\d+[Hh])?(\d+[Mm])?(\d+([.,]\d{1,9})?[Ss])?)?$"
)
"""ISO-8601 durations as :func:`plait.durations.parse_duration` reads them (``PT5M``)."""


def anchored(pattern: str) -> str:
    """A JSON Schema pattern matching the whole value, as Python's ``fullmatch`` does."""
    return f"^(?:{pattern})$"


PATTERN_MESSAGE = "patternErrorMessage"
"""What yaml-language-server says instead of "does not match the pattern ^(?:...)$"."""

DURATION_MESSAGE = (
    "Not an ISO-8601 duration: write PT5M for 5 minutes, PT1H30M, PT30S, PT0.5S or P1D."
)


def duration(description: str) -> dict[str, Any]:
    return {
        "type": "string",
        "pattern": DURATION_PATTERN,
        PATTERN_MESSAGE: DURATION_MESSAGE,
        "description": description,
    }


def identifier(rule: IdRule, description: str) -> dict[str, Any]:
    """An identifier's schema: the kernel's own pattern, length and wording."""
    schema: dict[str, Any] = {
        "type": "string",
        "pattern": anchored(rule.pattern.pattern),
        PATTERN_MESSAGE: f"Not a valid {rule.kind}: it {rule.allowed}.",
        "description": description,
    }
    if rule.max_length is not None:
        schema["maxLength"] = rule.max_length
    return schema


def common_task_properties() -> dict[str, dict[str, Any]]:
    """The keys every task accepts (:data:`plait.flows.model.COMMON_TASK_KEYS`), but ``type``."""
    return {
        "id": identifier(
            TASK_ID,
            "Identifier of the task, unique in the flow. Later tasks read its outputs as "
            "`{{ outputs.<id>.<name> }}` (`{{ outputs['my-id'].<name> }}` when the id has a "
            "hyphen). Letters, digits, `_` and `-`.",
        ),
        "description": {"type": "string", "description": "What the task is for (documentation)."},
        "timeout": duration(
            "Longest time the task may run, as an ISO-8601 duration such as `PT5M`; a task "
            "running longer fails."
        ),
        "retry": {
            "allOf": [{"$ref": DEFINITIONS_PREFIX + RETRY_DEFINITION}],
            "description": "Run the task again when it fails.",
        },
        "disabled": {
            "type": "boolean",
            "default": False,
            "description": "Skip the task: it does not run and has no outputs.",
        },
        "runIf": {
            "type": ["string", "boolean"],
            "description": "Run the task only if this is true: `true`, `false` or an expression "
            "such as `{{ inputs.enabled }}`, rendered just before the task would start. It is "
            "false when it renders to `false`, `0`, `-0` or nothing; the task is then SKIPPED "
            "(it has no outputs) and the flow goes on.",
        },
        "allowFailure": {
            "type": "boolean",
            "default": False,
            "description": "A failure of this task does not stop the flow: later tasks run and "
            "the execution ends in WARNING.",
        },
        "allowWarning": {
            "type": "boolean",
            "default": False,
            "description": "The task ends in SUCCESS where it would end in WARNING (such as a "
            "flowable whose child was allowed to fail), so it does not make the execution end "
            "in WARNING.",
        },
        "logLevel": {
            "enum": list(LOG_LEVELS),
            "description": "Lowest level of this task's log lines that are kept.",
        },
        "logToFile": {
            "type": "boolean",
            "description": "Keep the task's log lines in a file of its task run (shown by "
            "`plait logs` as a `plait://` URI) rather than one by one in the logs; the flow's "
            "`logToFile` by default.",
        },
        "taskCache": {
            "type": "object",
            "required": ["enabled"],
            "additionalProperties": False,
            "description": "Reuse the outputs of an earlier successful run of this task with the "
            "same rendered properties instead of running it again.",
            "properties": {
                "enabled": {"type": "boolean", "description": "Whether the cache is used."},
                "ttl": duration(
                    "How long cached outputs are reused, as an ISO-8601 duration (`PT1H`); "
                    "forever without it."
                ),
            },
        },
    }


def retry_definition() -> dict[str, Any]:
    """Kestra's retry policies, by ``type``."""
    interval = "Wait between attempts, as an ISO-8601 duration (`PT10S`)."
    return {
        "type": "object",
        "title": "retry policy",
        "required": ["type"],
        "additionalProperties": False,
        "properties": {
            "type": {
                "enum": list(RETRY_TYPES),
                "description": "`constant`: the same wait each time; `exponential`: the wait "
                "grows by `delayFactor` up to `maxInterval`; `random`: a wait between "
                "`minInterval` and `maxInterval`.",
            },
            "maxAttempt": {
                "type": "integer",
                "minimum": 1,
                "description": "How many attempts at most, the first one included.",
            },
            "maxDuration": duration("Give up once this much time has passed since the start."),
            "interval": duration(interval),
            "maxInterval": duration("Longest wait between attempts (`exponential`, `random`)."),
            "minInterval": duration("Shortest wait between attempts (`random`)."),
            "delayFactor": {
                "type": "number",
                "description": "Factor the wait is multiplied by after each attempt "
                "(`exponential`).",
            },
            "warningOnRetry": {
                "type": "boolean",
                "default": False,
                "description": "End in WARNING rather than SUCCESS when an attempt had failed.",
            },
        },
    }


def property_markdown(
    schema: Mapping[str, Any], definitions: Definitions, *, required: bool
) -> str:
    """A property's description followed by one line of facts: type, default, and whether it is
    required and rendered. Editors show it when completing or hovering the property."""
    facts = [f"`{type_label(schema, definitions)}`"]
    if required:
        facts.append("required")
    elif "default" in schema:
        facts.append(f"default `{literal(schema['default'])}`")
    if DYNAMIC_KEY in schema:
        facts.append("dynamic: accepts `{{ ... }}`" if is_dynamic(schema) else "not dynamic")
    description = schema.get("description", "")
    return f"{description}\n\n{' · '.join(facts)}".strip()


def outputs_markdown(task: TaskType, outputs: Mapping[str, Any], definitions: Definitions) -> str:
    names = list(outputs.get("properties", {}))
    if not names:
        return "**Outputs:** none."
    required = set(outputs.get("required", []))
    lines = ["**Outputs** (`{{ outputs.<task id>.<name> }}`):", ""]
    for name in names:
        schema = outputs["properties"][name]
        optional = "" if name in required else ", may be null"
        description = schema.get("description", "")
        lines.append(f"- `{name}` ({type_label(schema, definitions)}{optional}): {description}")
    return "\n".join(lines)


def task_markdown(task: TaskType, outputs: Mapping[str, Any], definitions: Definitions) -> str:
    """What a person hovering over a task's ``type`` reads: what the task does and outputs."""
    summary, details = summary_and_details(task.description())
    parts = [f"**{summary}**"]
    if details:
        parts.append(details)
    names = f"Type `{task.type}`"
    if task.aliases:
        names += ", also written " + ", ".join(f"`{alias}`" for alias in task.aliases)
    parts.append(names + ".")
    parts.append(outputs_markdown(task, outputs, definitions))
    return "\n\n".join(parts)


def _rename_refs(node: Any, renames: Mapping[str, str]) -> Any:
    if isinstance(node, list):
        return [_rename_refs(item, renames) for item in node]
    if not isinstance(node, dict):
        return node
    result = {key: _rename_refs(value, renames) for key, value in node.items()}
    ref = result.get("$ref")
    if isinstance(ref, str) and ref.removeprefix(DEFINITIONS_PREFIX) in renames:
        result["$ref"] = DEFINITIONS_PREFIX + renames[ref.removeprefix(DEFINITIONS_PREFIX)]
    return result


def merge_definitions(target: dict[str, Any], owner: str, schema: dict[str, Any]) -> dict[str, Any]:
    """Move ``schema``'s definitions into ``target`` and return ``schema`` without them.

    Task types share nested models (two HTTP tasks, one ``HttpOptions``): an identical
    definition is kept once. Two different models with one name (each plugin may have its own
    ``Options``) are told apart by prefixing the newcomer's with ``owner`` (its type id).
    """
    own = schema.pop("definitions", {})
    renames: dict[str, str] = {}
    while True:
        clashes = {
            name: f"{owner}.{name}"
            for name, definition in own.items()
            if name not in renames and name in target and target[name] != definition
        }
        if not clashes:
            break
        renames.update(clashes)
        own = _rename_refs(own, renames)
    schema = _rename_refs(schema, renames)
    for name, definition in own.items():
        target[renames.get(name, name)] = definition
    return schema


def tasks_array(description: str, **constraints: Any) -> dict[str, Any]:
    """A list of tasks, each checked like an entry of the flow's ``tasks``."""
    return {"type": "array", "items": dict(TASK_REF), "description": description, **constraints}


def _with_task_items(schema: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """``schema`` (as pydantic writes a task list: an array of plain objects, maybe within an
    ``anyOf`` beside ``null``) with tasks as items; a map's lists hold at least one task and
    it has at least one name, as the loader requires."""
    result = dict(schema)
    if "anyOf" in result:
        result["anyOf"] = [_with_task_items(branch, kind) for branch in result["anyOf"]]
    elif kind == "list" and result.get("type") == "array":
        result["items"] = dict(TASK_REF)
    elif kind == "map" and result.get("type") == "object":
        lists = result.get("additionalProperties")
        lists = lists if isinstance(lists, Mapping) else {"type": "array"}
        result["additionalProperties"] = {**_with_task_items(lists, "list"), "minItems": 1}
        result["minProperties"] = 1
    return result


def task_list_schema(schema: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """The schema of a property holding child tasks (:data:`plait_sdk.flowable.TASKS_KEY`):
    ``"list"``, a list of tasks; ``"map"``, names mapped to lists of tasks."""
    return {**_with_task_items(schema, kind), TASKS_KEY: kind}


def any_task_definitions() -> dict[str, Any]:
    """What a task list's items refer to outside the flow schema (``plait schema task``): a
    task of any type, with the keys every task has; the flow schema alone knows each type."""
    properties = common_task_properties()
    return {
        TASK_DEFINITION: {
            "type": "object",
            "title": "task",
            "description": "A task of any installed type, written as an entry of a flow's "
            "`tasks`; `plait schema flow` holds the definition of each type.",
            "required": ["id", "type"],
            "properties": {
                "id": properties.pop("id"),
                "type": {"type": "string", "description": "The task type, an id or an alias."},
                **properties,
            },
        },
        RETRY_DEFINITION: retry_definition(),
    }


def with_task_lists(task: TaskType, props: dict[str, Any]) -> dict[str, Any]:
    """``props`` (the type's properties schema) with its child task lists holding tasks."""
    for name, kind in task_lists(task).items():
        if name in props.get("properties", {}):
            props["properties"][name] = task_list_schema(props["properties"][name], kind)
    return props


def task_definition(task: TaskType, definitions: dict[str, Any]) -> dict[str, Any]:
    """The definition a task of this type must match: common keys, then the type's own."""
    props = with_task_lists(
        task, merge_definitions(definitions, task.type, properties_schema(task))
    )
    outputs = merge_definitions(definitions, task.type, outputs_schema(task))
    markdown = task_markdown(task, outputs, definitions)
    required = [name for name in props.get("required", []) if name not in COMMON_TASK_KEYS]
    own = {k: v for k, v in props.get("properties", {}).items() if k not in COMMON_TASK_KEYS}
    return typed_definition(task, markdown, common_task_properties(), own, required, definitions)


def typed_definition(
    cls: Any,
    markdown: str,
    common: Mapping[str, dict[str, Any]],
    own: Mapping[str, dict[str, Any]],
    required: list[str],
    definitions: dict[str, Any],
) -> dict[str, Any]:
    """The definition an item of one type (a task, a trigger) must match: the keys every item
    has, ``type`` fixed to the type's names, then the type's own properties, nothing else
    (``additionalProperties`` only sees the properties listed beside it)."""
    properties: dict[str, Any] = {}
    for name, schema in common.items():
        properties[name] = {
            **schema,
            "markdownDescription": property_markdown(schema, definitions, required=name == "id"),
        }
    properties["type"] = {
        "enum": [cls.type, *cls.aliases],
        "title": cls.type,
        "markdownDescription": markdown,
    }
    for name, schema in own.items():
        properties[name] = {
            **schema,
            "markdownDescription": property_markdown(
                schema, definitions, required=name in required
            ),
        }
    return {
        "type": "object",
        "title": cls.type,
        "description": cls.description(),
        "markdownDescription": markdown,
        "properties": properties,
        "required": ["id", "type", *required],
        "additionalProperties": False,
    }


def type_names(task_types: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Every id and alias with its class, canonical ids first, each group sorted."""
    canonical = sorted((name, cls) for name, cls in task_types.items() if name == cls.type)
    aliases = sorted((name, cls) for name, cls in task_types.items() if name != cls.type)
    return [*canonical, *aliases]


def _enum_description(name: str, declared: TaskType | TriggerType) -> str:
    """A task or trigger type's summary, for the name it is listed under (id or alias)."""
    summary, _ = summary_and_details(declared.description())
    if name == declared.type:
        return summary
    return f"{summary} (another name of `{declared.type}`)"


def task_item_schema(task_types: Mapping[str, TaskType]) -> dict[str, Any]:
    """The schema of one entry of ``tasks``: the base layer and one ``if``/``then`` per type.

    The base ``type`` has no title or description of its own, so that hovering over a task's
    type shows its type's definition (what the task does and outputs) rather than a generic text.
    """
    return layered_item_schema(task_types, common_task_properties())


def layered_item_schema(
    types: Mapping[str, Any],
    base: dict[str, Any],
) -> dict[str, Any]:
    """One entry of a list of typed items (tasks, triggers): ``base`` (the keys every item
    has), ``type`` an enum of every id and alias, then ``if`` the type is one of a class's names
    ``then`` that class's definition (named by its canonical id)."""
    names = type_names(types)
    classes = sorted({cls.type: cls for cls in types.values()}.items())
    base = dict(base)
    return {
        "type": "object",
        "required": ["id", "type"],
        "properties": {
            "id": base.pop("id"),
            "type": {
                "type": "string",
                "enum": [name for name, _ in names],
                "markdownEnumDescriptions": [_enum_description(n, cls) for n, cls in names],
            },
            **base,
        },
        "allOf": [
            {
                "if": {
                    "type": "object",
                    "required": ["type"],
                    "properties": {"type": {"enum": [cls.type, *cls.aliases]}},
                },
                "then": {"$ref": DEFINITIONS_PREFIX + type_id},
            }
            for type_id, cls in classes
        ],
    }


def task_definitions(task_types: Mapping[str, TaskType]) -> dict[str, Any]:
    """Every definition the ``tasks`` part needs, by name (the task item under
    :data:`TASK_DEFINITION`)."""
    definitions: dict[str, Any] = {}
    for type_id, cls in sorted({cls.type: cls for cls in task_types.values()}.items()):
        definitions[type_id] = task_definition(cls, definitions)
    definitions[TASK_DEFINITION] = task_item_schema(task_types)
    definitions[RETRY_DEFINITION] = retry_definition()
    return definitions
