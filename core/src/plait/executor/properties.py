"""Turns a task's raw properties into its validated Properties model.

Only properties declared dynamic are rendered. A whole-value expression keeps its native type,
unless the property only accepts text, in which case maps and lists become JSON text.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping, Sequence
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


def _options(annotation: Any) -> list[Any]:
    """The types a property accepts (a union's members, without None)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [a for a in typing.get_args(annotation) if a is not type(None)]
    return [annotation]


def _as_text_for(annotation: Any, value: Any) -> bool:
    """Whether a rendered value goes to the property as text: when the property takes text and
    the value is of no other kind it takes (a Log's ``message: "{{ inputs.count }}"`` prints the
    number, ``"{{ map }}"`` the map's JSON, as in Kestra; a list stays a list where lists are
    taken)."""
    options = _options(annotation)
    if str not in options or isinstance(value, str) or value is None:
        return False
    origins = {typing.get_origin(a) or a for a in options}
    if Any in origins:
        return False
    if isinstance(value, Mapping):
        return not origins & {dict, Mapping}
    if isinstance(value, list | tuple):
        return not origins & {list, tuple, Sequence}
    return not any(isinstance(value, a) for a in origins if isinstance(a, type))


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
        if _as_text_for(field.annotation, result):
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
