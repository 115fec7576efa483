"""Turns a task's raw properties into its validated Properties model.

Only properties declared dynamic are rendered. A whole-value expression keeps its native type,
unless the property only accepts text, in which case maps and lists become JSON text.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

from plait_sdk import TaskFailure
from plait_sdk.task import DYNAMIC_KEY, TaskProperties
from pydantic import ValidationError
from pydantic.fields import FieldInfo

from plait.expressions.text import to_text
from plait.flows.model_errors import DURATION_ERRORS, duration_message, unknown_key_message

Render = Callable[[Any], Any]


def is_dynamic(field: FieldInfo) -> bool:
    extra = field.json_schema_extra
    return bool(extra.get(DYNAMIC_KEY, False)) if isinstance(extra, dict) else False


def _accepts_only_text(annotation: Any) -> bool:
    if annotation is str:
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        return bool(options) and all(a is str for a in options)
    return False


def _as_text(value: Any) -> Any:
    """Text exactly as ``{{ }}`` prints the value inside a string (None stays unset)."""
    return value if value is None else to_text(value)


def fields_by_key(model: type[TaskProperties]) -> dict[str, FieldInfo]:
    """Fields by the key a flow writes (the alias when there is one)."""
    return {(field.alias or name): field for name, field in model.model_fields.items()}


def render_properties(
    model: type[TaskProperties], raw: Mapping[str, Any], render: Render
) -> dict[str, Any]:
    fields = fields_by_key(model)
    rendered: dict[str, Any] = {}
    for key, value in raw.items():
        field = fields.get(key)
        if field is None or not is_dynamic(field):
            rendered[key] = value
            continue
        result = render(value)
        if _accepts_only_text(field.annotation):
            result = _as_text(result)
        rendered[key] = result
    return rendered


def validate_properties(model: type[TaskProperties], values: Mapping[str, Any]) -> TaskProperties:
    """The rendered values as the task's model, or a failure phrased as ``plait validate``
    phrases the same mistake."""
    try:
        return model.model_validate(dict(values))
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = error["loc"]
            where = ".".join(str(part) for part in loc) or "(properties)"
            if error["type"] == "extra_forbidden":
                problems.append(unknown_key_message(model, loc, where))
            elif error["type"] in DURATION_ERRORS:
                problems.append(f"property '{where}': {duration_message(error['input'])}")
            else:
                problems.append(f"property '{where}': {error['msg']}")
        raise TaskFailure("invalid properties after rendering: " + "; ".join(problems)) from None
