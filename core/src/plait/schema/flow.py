"""The JSON Schema of a whole flow, for editors.

The flow's own keys are described here by hand, for editors' sake (descriptions, per-type
input keys), reusing the loader's id rules and input types; tests hold these descriptions to
the key lists of :mod:`plait.flows.loader`, so the editor and ``plait validate`` agree. The
tasks part is assembled from every installed task type by :mod:`plait.schema.tasks`, the
triggers part from every installed trigger type by :mod:`plait.schema.triggers`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plait_sdk.schema import JSON_SCHEMA_DRAFT

from plait.flows.ids import FLOW_ID, INPUT_ID, NAMESPACE, OUTPUT_ID, IdRule
from plait.flows.input_types import INPUT_TYPES, ITEM_TYPES
from plait.flows.model import COMMON_TASK_KEYS
from plait.plugins import TaskType, TriggerType
from plait.schema.describe import DEFINITIONS_PREFIX
from plait.schema.tasks import (
    identifier,
    task_definitions,
    tasks_array,
    type_names,
)
from plait.schema.triggers import (
    TRIGGER_DEFINITION,
    concurrency_schema,
    core_trigger_types,
    trigger_definitions,
)

INPUT_DEFINITION = "flow.input"
OUTPUT_DEFINITION = "flow.output"
PLUGIN_DEFAULT_DEFINITION = "flow.pluginDefault"

INPUT_TYPE_DESCRIPTIONS = {
    "STRING": "Text; `validator` is a regular expression it must match whole.",
    "INT": "A whole number, optionally between `min` and `max`.",
    "FLOAT": "A number, optionally between `min` and `max`.",
    "BOOLEAN": "`true` or `false`.",
    "BOOL": "`true` or `false` (newer Kestra's name for `BOOLEAN`).",
    "DATETIME": "An instant, ISO-8601 (`2024-01-31T10:00:00Z`), normalized to UTC, optionally "
    "between `after` and `before`.",
    "DATE": "A date, ISO-8601 (`2024-01-31`), optionally between `after` and `before`.",
    "TIME": "A time of day, ISO-8601 (`10:30:00`), optionally between `after` and `before`.",
    "DURATION": "A duration, ISO-8601 (`PT5M`), optionally between `min` and `max`.",
    "JSON": "Any JSON value, given as JSON text.",
    "YAML": "Any value, given as YAML text.",
    "URI": "A URI such as `https://example.com/data.csv`.",
    "SELECT": "One of the choices listed in `values`.",
    "ENUM": "One of the choices listed in `values` (older Kestra's name for `SELECT`).",
    "MULTISELECT": "A list of choices listed in `values` (any text with `allowCustomValue`), "
    "given as a list or as a JSON list.",
    "ARRAY": "A list whose items are of `itemType`, given as a JSON list.",
    "FILE": "A local file, uploaded into internal storage: the input's value is its "
    "`plait:///` URI.",
    "SECRET": "Text that is masked wherever logs or outputs would show it.",
}
"""One line per input type (:data:`plait.flows.input_types.INPUT_TYPES`)."""

_TEXT_OR_NUMBER = ["string", "number"]
INPUT_DEFAULTS: dict[str, dict[str, Any]] = {
    "STRING": {"type": _TEXT_OR_NUMBER},
    "INT": {"type": ["integer", "string"]},
    "FLOAT": {"type": ["number", "string"]},
    "BOOLEAN": {"type": ["boolean", "string"]},
    "BOOL": {"type": ["boolean", "string"]},
    "SELECT": {"type": _TEXT_OR_NUMBER},
    "ENUM": {"type": _TEXT_OR_NUMBER},
    "MULTISELECT": {"type": ["array", "string"]},
    "ARRAY": {"type": ["array", "string"]},
    "JSON": {},
    "YAML": {},
}
"""What ``defaults`` may be per input type (as :func:`plait.flows.input_types.coerce` reads
it); the other types take text."""


def _identifier(rule: IdRule, description: str) -> dict[str, Any]:
    return identifier(rule, f"{description} It {rule.allowed}.")


def _type_enum(description: str) -> dict[str, Any]:
    return {
        "enum": list(INPUT_TYPES),
        "description": description,
        "markdownEnumDescriptions": [INPUT_TYPE_DESCRIPTIONS[kind] for kind in INPUT_TYPES],
    }


def _input_properties(kind: str | None) -> dict[str, Any]:
    """The keys an input of ``kind`` accepts (any kind: the keys all of them accept)."""
    properties: dict[str, Any] = {
        "id": _identifier(INPUT_ID, "Identifier of the input, read as `{{ inputs.<id> }}`."),
        "name": {"type": "string", "description": "Kestra's older spelling of `id`."},
        "type": _type_enum("Type of the value; a given value is checked and converted to it."),
        "displayName": {"type": "string", "description": "Label shown instead of the id."},
        "description": {"type": "string", "description": "What the input is for."},
        "required": {
            "type": "boolean",
            "default": True,
            "description": "Whether a value (or `defaults`) must be given.",
        },
        "defaults": {
            **INPUT_DEFAULTS.get(kind or "JSON", {"type": "string"}),
            "description": "Value used when none is given.",
        },
        "prefill": {
            **INPUT_DEFAULTS.get(kind or "JSON", {"type": "string"}),
            "description": "Value an editor offers, which the user may clear; unlike "
            "`defaults` it is not used when no value is given (not with `defaults`).",
        },
    }
    if kind is None:
        return properties
    number = {"INT": "integer", "FLOAT": "number"}.get(kind, "string")
    specific = {
        "validator": {
            "type": "string",
            "format": "regex",
            "description": "Regular expression the whole value must match.",
        },
        "min": {"type": number, "description": "Smallest value accepted."},
        "max": {"type": number, "description": "Largest value accepted."},
        "after": {"type": "string", "description": "Earliest value accepted (itself included)."},
        "before": {"type": "string", "description": "Latest value accepted (itself included)."},
        "values": {
            "type": "array",
            "minItems": 1,
            "items": {"type": ["string", "number", "boolean"]},
            "description": "The choices.",
        },
        "options": {
            "type": "array",
            "minItems": 1,
            "items": {"type": ["string", "number", "boolean"]},
            "description": "Older Kestra's name of `values` (not both).",
        },
        "allowCustomValue": {
            "type": "boolean",
            "default": False,
            "description": "Whether items outside `values` are accepted too.",
        },
        "itemType": {"enum": list(ITEM_TYPES), "description": "Type of every item."},
    }
    return {**properties, **{key: specific[key] for key in sorted(INPUT_TYPES[kind])}}


def input_definitions() -> dict[str, Any]:
    """``flow.input`` (any input) and ``flow.input.<TYPE>`` (the keys of one type), layered
    like tasks are (see :mod:`plait.schema.tasks`)."""
    required = {"SELECT": ["values"], "ENUM": ["values"], "ARRAY": ["itemType"]}
    definitions: dict[str, Any] = {
        INPUT_DEFINITION: {
            "type": "object",
            "required": ["type"],
            "anyOf": [{"required": ["id"]}, {"required": ["name"]}],
            "properties": _input_properties(None),
            "allOf": [
                {
                    "if": {
                        "type": "object",
                        "required": ["type"],
                        "properties": {"type": {"const": kind}},
                    },
                    "then": {"$ref": f"{DEFINITIONS_PREFIX}{INPUT_DEFINITION}.{kind}"},
                }
                for kind in INPUT_TYPES
            ],
        }
    }
    for kind in INPUT_TYPES:
        definitions[f"{INPUT_DEFINITION}.{kind}"] = {
            "type": "object",
            "description": INPUT_TYPE_DESCRIPTIONS[kind],
            "properties": _input_properties(kind),
            "required": ["type", *required.get(kind, [])],
            "additionalProperties": False,
        }
    definitions[f"{INPUT_DEFINITION}.MULTISELECT"]["oneOf"] = [
        {"required": ["values"]},
        {"required": ["options"]},  # older Kestra's name; not both
    ]
    return definitions


def output_definition() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["id", "type", "value"],
        "additionalProperties": False,
        "properties": {
            "id": _identifier(
                OUTPUT_ID, "Identifier of the flow output, e.g. read by a parent flow."
            ),
            "type": _type_enum("Type the rendered value must have."),
            "value": {
                "description": "The value, usually an expression such as "
                "`{{ outputs.task.value }}`, rendered when every task has run."
            },
            "description": {"type": "string", "description": "What the output is."},
            "displayName": {"type": "string", "description": "Label shown instead of the id."},
        },
    }


def plugin_default_definition(task_types: Mapping[str, TaskType]) -> dict[str, Any]:
    """A plugin default; when its ``type`` is a whole task type id, ``values`` is checked
    against that type's properties (a prefix may cover several types, so it is not)."""
    settable = sorted(COMMON_TASK_KEYS - {"id", "type"})
    names = type_names(task_types)
    return {
        "type": "object",
        "required": ["type", "values"],
        "additionalProperties": False,
        "properties": {
            "type": {
                "anyOf": [{"enum": [name for name, _ in names]}, {"type": "string"}],
                "description": "The task types the values apply to: a type id, or a prefix of "
                "type ids such as `io.kestra.plugin.scripts` (aliases count).",
            },
            "values": {
                "type": "object",
                "description": "Properties given to every matching task that does not set them "
                "itself (maps are merged key by key).",
            },
            "forced": {
                "type": "boolean",
                "default": False,
                "description": "Override the tasks' own values instead of filling the gaps.",
            },
        },
        "allOf": [
            {
                "if": {
                    "type": "object",
                    "required": ["type"],
                    "properties": {"type": {"enum": [cls.type, *cls.aliases]}},
                },
                "then": {
                    "properties": {
                        "values": {
                            "additionalProperties": False,
                            "properties": {
                                name: {"$ref": f"{DEFINITIONS_PREFIX}{type_id}/properties/{name}"}
                                for name in [*settable, *_own_properties(cls)]
                            },
                        }
                    }
                },
            }
            for type_id, cls in sorted({cls.type: cls for cls in task_types.values()}.items())
        ],
    }


def _own_properties(task: TaskType) -> list[str]:
    names = [field.alias or name for name, field in task.Properties.model_fields.items()]
    return [name for name in names if name not in COMMON_TASK_KEYS]


def _labels() -> dict[str, Any]:
    scalar = {"type": ["string", "number", "boolean"]}
    return {
        "description": "Labels of the flow's executions, as `key: value` pairs (or Kestra's "
        "list of `{key, value}`), read as `{{ labels.<key> }}`.",
        "anyOf": [
            {"type": "object", "additionalProperties": scalar},
            {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["key", "value"],
                    "additionalProperties": False,
                    "properties": {"key": {"type": "string"}, "value": scalar},
                },
            },
        ],
    }


def _list_of(definition: str, description: str, **constraints: Any) -> dict[str, Any]:
    return {
        "type": "array",
        "items": {"$ref": DEFINITIONS_PREFIX + definition},
        "description": description,
        **constraints,
    }


def flow_properties() -> dict[str, Any]:
    """The flow's top-level keys (:data:`plait.flows.loader.FLOW_KEYS`)."""
    return {
        "id": _identifier(FLOW_ID, "Identifier of the flow in its namespace."),
        "namespace": _identifier(NAMESPACE, "Namespace of the flow, such as `company.team`."),
        "description": {"type": "string", "description": "What the flow does (documentation)."},
        "labels": _labels(),
        "inputs": _list_of(
            INPUT_DEFINITION, "Values given when the flow is run, read as `{{ inputs.<id> }}`."
        ),
        "variables": {
            "type": "object",
            "description": "Constants of the flow, read as `{{ vars.<name> }}`.",
        },
        "tasks": tasks_array(
            "The tasks, run in order; each reads earlier tasks' outputs as "
            "`{{ outputs.<task id>.<name> }}`.",
            minItems=1,
        ),
        "outputs": _list_of(
            OUTPUT_DEFINITION, "Values the flow outputs, rendered once every task has run."
        ),
        "pluginDefaults": _list_of(
            PLUGIN_DEFAULT_DEFINITION,
            "Default property values for every task of the given type (or type prefix).",
        ),
        "errors": tasks_array(
            "Tasks run when a task fails (one that is not allowed to fail), once the running "
            "tasks have ended; the execution still ends FAILED.",
            minItems=1,
        ),
        "finally": tasks_array(
            "Tasks run at the end of the execution whatever happened: after `tasks`, and after "
            "`errors` when they ran.",
            minItems=1,
        ),
        "triggers": _list_of(
            TRIGGER_DEFINITION,
            "What starts the flow's executions while `plait server` runs: a schedule, the end "
            "of another flow's execution, a webhook... Executions read what fired them as "
            "`{{ trigger.* }}`.",
        ),
        "concurrency": concurrency_schema(),
        "disabled": {
            "type": "boolean",
            "default": False,
            "description": "A disabled flow is kept but cannot be executed (`plait run` and the "
            "server refuse) and its triggers do not fire.",
        },
        "revision": {
            "type": "integer",
            "minimum": 1,
            "description": "Ignored: the revision is set when the flow is stored (`flow.revision` "
            "reads the stored one).",
        },
        "taskDefaults": _list_of(
            PLUGIN_DEFAULT_DEFINITION, "Kestra's older name of `pluginDefaults` (not both)."
        ),
        "logToFile": {
            "type": "boolean",
            "default": False,
            "description": "Every task keeps its log lines in a file unless it sets `logToFile` "
            "itself.",
        },
    }


def flow_schema(
    task_types: Mapping[str, TaskType], trigger_types: Mapping[str, TriggerType] | None = None
) -> dict[str, Any]:
    """The schema of a flow that may use the given task and trigger types (every id and
    alias -> class, as :attr:`plait.plugins.Registry.task_types` and ``trigger_types`` hold
    them; without trigger types, the kernel's)."""
    if trigger_types is None:
        trigger_types = core_trigger_types()
    definitions = {
        **trigger_definitions(trigger_types, task_definitions(task_types)),
        **input_definitions(),
        OUTPUT_DEFINITION: output_definition(),
        PLUGIN_DEFAULT_DEFINITION: plugin_default_definition(task_types),
    }
    return {
        "$schema": JSON_SCHEMA_DRAFT,
        "description": "A plait flow (Kestra's flow language).",
        "type": "object",
        "required": ["id", "namespace", "tasks"],
        "additionalProperties": False,
        "properties": flow_properties(),
        "definitions": dict(sorted(definitions.items())),
    }
