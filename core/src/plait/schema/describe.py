"""Schemas put into words, the same way in editor tooltips and in the reference docs."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from plait_sdk.flowable import TASKS_KEY
from plait_sdk.schema import EXPRESSION_REF

DEFINITIONS_PREFIX = "#/definitions/"

Definitions = Mapping[str, Any]

TASK_LIST_LABELS = {"list": "list of tasks", "map": "map of task lists"}
"""What a property holding child tasks (``x-tasks``) is called, whatever its JSON shape."""


def definition_name(ref: str) -> str:
    return ref.removeprefix(DEFINITIONS_PREFIX)


def literal(value: Any) -> str:
    """A value as a flow author would write it (JSON spelling: ``true``, ``null``, ``"x"``)."""
    if isinstance(value, str) and value.strip() == value and value:
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def type_label(schema: Mapping[str, Any], definitions: Definitions) -> str:
    """A short name for what a schema accepts: ``string``, ``list of integer``, ``HttpOptions``,
    ``GET | POST``. Expressions and ``null`` are left out: the columns "dynamic" and "default"
    say those."""
    if schema.get(TASKS_KEY) in TASK_LIST_LABELS:
        return TASK_LIST_LABELS[schema[TASKS_KEY]]
    ref = schema.get("$ref")
    if ref is not None:
        target = definitions.get(definition_name(ref), {})
        if "enum" in target:
            return type_label(target, definitions)
        return str(target.get("title", definition_name(ref)))
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            labels = [
                type_label(branch, definitions)
                for branch in schema[key]
                if branch.get("$ref") != EXPRESSION_REF and branch.get("type") != "null"
            ]
            return " | ".join(dict.fromkeys(labels)) or "null"
    if "const" in schema:
        return literal(schema["const"])
    if "enum" in schema:
        return " | ".join(literal(value) for value in schema["enum"])
    kind = schema.get("type")
    if kind == "array":
        items = schema.get("items")
        return f"list of {type_label(items, definitions)}" if items else "list"
    if kind == "object":
        values = schema.get("additionalProperties")
        if isinstance(values, Mapping) and values:
            return f"map of {type_label(values, definitions)}"
        return "map"
    if isinstance(kind, list):
        return " | ".join(kind)
    if kind == "string" and "format" in schema:
        return f"string ({schema['format']})"
    return str(kind) if kind else "any"


def referenced_definitions(schema: Any, definitions: Definitions) -> list[str]:
    """Names of the object definitions ``schema`` uses, directly or through each other, in
    the order they are first met (the docs describe each after the property using it)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, Mapping):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref != EXPRESSION_REF:
                name = definition_name(ref)
                target = definitions.get(name, {})
                if name not in found and "properties" in target:
                    found.append(name)
                    walk(target)
            for key, value in node.items():
                if key not in ("default", "examples", "enum", "const"):
                    walk(value)

    walk(schema)
    return found


def summary_and_details(docstring: str) -> tuple[str, str]:
    """The first paragraph on one line, and the rest as written."""
    first, _, rest = docstring.strip().partition("\n\n")
    return " ".join(first.split()), rest.strip()
