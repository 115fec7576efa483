"""The Execute form: a field per flow input, its widget chosen by the input's type, and the
way back from the submitted form to the inputs the API's create takes.

The form checks nothing itself (it is sent with ``novalidate``): every value goes through the
same validation as the API's, and each message comes back next to the field it is about,
matched by where the input is declared in the flow (the position every problem carries)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from plait.errors import Problem
from plait.flows.input_types import InputValueError, coerce
from plait.flows.model import Flow, InputDef

LABELS_FIELD = "_labels"
"""The labels textarea: input ids start with a letter or digit, so it cannot be an input's."""

MULTI_CHOICE = "MULTISELECT"

WIDGETS: dict[str, str] = {
    "STRING": "text",
    "INT": "number",
    "FLOAT": "number",
    "BOOLEAN": "select",
    "BOOL": "select",
    "DATETIME": "datetime-local",
    "DATE": "date",
    "TIME": "time",
    "DURATION": "text",
    "JSON": "textarea",
    "YAML": "textarea",
    "ARRAY": "textarea",
    "URI": "url",
    "SELECT": "select",
    "ENUM": "select",
    "MULTISELECT": "multiselect",
    "FILE": "file",
    "SECRET": "password",
}
"""Input type -> widget: an ``<input type>`` name, or ``select``/``multiselect``/``textarea``
which the template draws as such (a boolean is a select: true, false, or no value)."""

HINTS: dict[str, str] = {
    "DATETIME": "Date and time in UTC.",
    "DURATION": "ISO-8601 duration, e.g. PT5M, PT1H30M or P1DT2H.",
    "JSON": 'JSON, e.g. {"key": [1, 2]}.',
    "YAML": "YAML, e.g. key: [1, 2].",
    "URI": "A URI, e.g. https://example.com/data.csv.",
    "SECRET": "Masked in logs and outputs.",
    "MULTISELECT": "Ctrl-click (⌘-click) chooses several.",
}


@dataclass
class InputField:
    """One input as the form draws it."""

    input: InputDef
    widget: str
    value: str = ""
    """What the field shows: the default, or what was submitted."""
    chosen: list[str] = field(default_factory=list)
    """The options selected in a multi-select."""
    error: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    """Extra ``<input>`` attributes: ``min``, ``max``, ``step``, ``placeholder``."""
    hint: str = ""

    @property
    def name(self) -> str:
        return self.input.id

    @property
    def has_default(self) -> bool:
        return self.input.defaults is not None

    @property
    def options(self) -> list[str]:
        """A select's choices: the input's ``values``, or a boolean's two."""
        if self.input.type in ("BOOLEAN", "BOOL"):
            return ["true", "false"]
        return list(self.input.values or [])


def _widget(definition: InputDef) -> str:
    if definition.type == MULTI_CHOICE and definition.allow_custom_value:
        return "textarea"  # any item goes: a JSON list, the values suggested in the hint
    return WIDGETS.get(definition.type, "text")


def _shown(definition: InputDef, value: Any) -> str:
    """A default (or prefill) as the widget expects it: a DATETIME in UTC without its zone
    (``datetime-local``), booleans ``true``/``false``, lists and maps as JSON."""
    if value is None:
        return ""
    if definition.type == "DATETIME":
        try:  # normalized to UTC; bounds are not this function's business
            return str(coerce(InputDef(definition.id, "DATETIME"), value)).removesuffix("Z")
        except InputValueError:
            return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _bound(definition: InputDef, value: Any) -> str:
    return _shown(definition, value) if definition.type == "DATETIME" else str(value)


def _attributes(definition: InputDef) -> dict[str, str]:
    found: dict[str, str] = {}
    if definition.type in ("INT", "FLOAT"):
        found["step"] = "1" if definition.type == "INT" else "any"
        low, high = definition.min, definition.max
    elif definition.type in ("DATETIME", "DATE", "TIME"):
        if definition.type != "DATE":
            found["step"] = "1"
        low, high = definition.after, definition.before
    else:
        low = high = None
    if low is not None:
        found["min"] = _bound(definition, low)
    if high is not None:
        found["max"] = _bound(definition, high)
    if definition.type == "DURATION":
        found["placeholder"] = "PT5M"
    return found


def _hint(definition: InputDef) -> str:
    if definition.type == MULTI_CHOICE and definition.allow_custom_value:
        values = ", ".join(definition.values or [])
        parts = [f'A JSON list, e.g. ["a", "b"]; suggested: {values}.']
    else:
        parts = [HINTS.get(definition.type, "")]
    if definition.type == "ARRAY":
        parts.append(f"A JSON list of {definition.item_type or 'STRING'}, e.g. [1, 2].")
    if definition.validator:
        parts.append(f"Must match {definition.validator}.")
    if definition.type == "DURATION" and (definition.after or definition.before):
        parts.append(f"Between {definition.after or '…'} and {definition.before or '…'}.")
    if definition.type == "FILE" and definition.defaults is not None:
        parts.append(f"Default: {definition.defaults}.")
    return " ".join(part for part in parts if part)


def _initial(definition: InputDef) -> Any:
    return definition.defaults if definition.defaults is not None else definition.prefill


def blank_fields(flow: Flow) -> list[InputField]:
    """The form as first shown: defaults (or prefills) filled in."""
    fields = []
    for definition in flow.inputs:
        one = InputField(
            definition,
            _widget(definition),
            attributes=_attributes(definition),
            hint=_hint(definition),
        )
        initial = _initial(definition)
        if one.widget == "multiselect":
            one.chosen = [str(v) for v in initial] if isinstance(initial, list) else []
        elif definition.type != "FILE":
            one.value = _shown(definition, initial)
        fields.append(one)
    return fields


def submitted_fields(flow: Flow, items: Sequence[tuple[str, str]]) -> list[InputField]:
    """The form as submitted, to show it again with its messages (files must be chosen again:
    a browser never lets a page set a file field)."""
    fields = blank_fields(flow)
    for one in fields:
        values = [value for name, value in items if name == one.name]
        if one.widget == "multiselect":
            one.chosen = values
        elif one.input.type != "FILE":
            one.value = values[-1] if values else ""
    return fields


def form_inputs(flow: Flow, items: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The inputs the submitted form gives, as the API's create takes them: an empty field is
    no value (the default applies, or it is reported missing); a multi-select's options are a
    list; uploaded files are local paths."""
    inputs: dict[str, Any] = {}
    for definition in flow.inputs:
        values = [value for name, value in items if name == definition.id]
        if _widget(definition) == "multiselect":
            if values:
                inputs[definition.id] = values
            continue
        if values and values[-1] != "":
            inputs[definition.id] = values[-1]
    return inputs


def label_lines(items: Sequence[tuple[str, str]]) -> list[str]:
    """The labels field's non-empty lines (``key:value`` each)."""
    text = next((value for name, value in reversed(items) if name == LABELS_FIELD), "")
    return [line.strip() for line in text.splitlines() if line.strip()]


def place_problems(fields: list[InputField], problems: Sequence[Problem]) -> list[str]:
    """Put each problem on the field of the input it is about (found by the input's position
    in the flow); return those about no one field (an unknown input...)."""
    by_position = {(one.input.line, one.input.column): one for one in fields if one.input.line}
    general = []
    for problem in problems:
        one = by_position.get((problem.line, problem.column))
        if one is None:
            general.append(problem.message)
        else:
            one.error = problem.message if one.error is None else f"{one.error}\n{problem.message}"
    return general
