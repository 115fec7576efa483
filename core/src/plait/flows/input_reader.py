"""Reading a flow's inputs: ids, types, per-type keys and constraints, checked defaults."""

from __future__ import annotations

import re
from typing import Any

from plait.flows import ids
from plait.flows.input_types import (
    CHOICE_TYPES,
    COMMON_INPUT_KEYS,
    INPUT_TYPES,
    ITEM_TYPES,
    ORDERED_TYPES,
    InputValueError,
    coerce,
)
from plait.flows.model import InputDef
from plait.flows.reader import Reader, describe
from plait.flows.yaml_positions import PathKey


def read_inputs(value: Any, reader: Reader) -> list[InputDef]:
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


def input_type(raw: dict[str, Any], path: PathKey, reader: Reader, where: str) -> str | None:
    kind = raw.get("type")
    if kind in INPUT_TYPES:
        return str(kind)
    if kind is None:
        reader.problem(path, f"{where}missing required 'type' (one of {', '.join(INPUT_TYPES)})")
        return None
    reader.problem(
        (*path, "type"),
        f"{where}unknown type {describe(kind)}{ids.did_you_mean(kind, INPUT_TYPES)}"
        f" (types: {', '.join(INPUT_TYPES)})",
    )
    return None


def _input(input_id: str, raw: dict[str, Any], path: PathKey, reader: Reader) -> InputDef | None:
    where = f"input '{input_id}': "
    kind = input_type(raw, path, reader, where)
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
    if "prefill" in raw and "defaults" in raw:
        reader.problem(
            (*path, "prefill"),
            f"{where}'prefill' and 'defaults' cannot both be set: 'defaults' is used when no "
            "value is given, 'prefill' only suggests one",
            at_key=True,
        )
        ok = False
    for key in ("defaults", "prefill"):
        if ok and raw.get(key) is not None:
            setattr(definition, key, raw[key])
            _check_value(definition, raw[key], (*path, key), reader, f"{where}invalid '{key}': ")
    return definition


def _check_value(
    definition: InputDef, value: Any, path: PathKey, reader: Reader, where: str
) -> None:
    """A value written in the flow for the input must fit its type (a FILE's is a path)."""
    if definition.type == "FILE":
        return
    try:
        coerce(definition, value)
    except InputValueError as exc:
        reader.problem(path, f"{where}{exc}")


def _input_constraints(
    definition: InputDef, raw: dict[str, Any], path: PathKey, reader: Reader, where: str
) -> bool:
    """Read ``validator``, bounds, ``values`` and ``itemType``; False if any is bad."""
    before = len(reader.problems)
    validator = reader.kind(raw.get("validator"), str, (*path, "validator"), "validator", where)
    if validator is not None:
        try:
            re.compile(validator)
            definition.validator = validator
        except re.error as exc:
            reader.problem((*path, "validator"), f"{where}invalid 'validator' regex: {exc}")
    if definition.type in ORDERED_TYPES:
        _ordered_bounds(definition, raw, path, reader, where)
    else:
        _numeric_bounds(definition, raw, path, reader, where)
    if definition.type in CHOICE_TYPES:
        _choices(definition, raw, path, reader, where)
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


def _choices(
    definition: InputDef, raw: dict[str, Any], path: PathKey, reader: Reader, where: str
) -> None:
    """Read ``values`` (a MULTISELECT's may be spelled ``options``, older Kestra's name, not
    both) and a MULTISELECT's ``allowCustomValue``."""
    older = definition.type == "MULTISELECT" and "options" in raw and "values" not in raw
    key = "options" if older else "values"
    if "options" in raw and "values" in raw:
        reader.problem(
            (*path, "options"), f"{where}'values' and 'options' cannot both be set", at_key=True
        )
    values = raw.get(key)
    if (
        not isinstance(values, list)
        or not values
        or any(isinstance(v, dict | list) or v is None for v in values)
    ):
        reader.problem(
            (*path, key) if key in raw else path,
            f"{where}{'an' if definition.type == 'ENUM' else 'a'} {definition.type} input "
            "needs 'values': a non-empty list of choices",
        )
    else:
        definition.values = [str(v).lower() if isinstance(v, bool) else str(v) for v in values]
    custom = reader.kind(
        raw.get("allowCustomValue"), bool, (*path, "allowCustomValue"), "allowCustomValue", where
    )
    definition.allow_custom_value = bool(custom)


def _ordered_bounds(
    definition: InputDef, raw: dict[str, Any], path: PathKey, reader: Reader, where: str
) -> None:
    """Read the bounds of a DATE, DATETIME, TIME or DURATION input, each a value of its type,
    into ``after``/``before`` (normalized, so messages show them as values are shown)."""
    bounds = ORDERED_TYPES[definition.type]
    low, high = bounds.low, bounds.high
    unbounded = InputDef(id=definition.id, type=definition.type)
    for key, attribute in ((low, "after"), (high, "before")):
        if raw.get(key) is None:
            continue
        try:
            setattr(definition, attribute, coerce(unbounded, raw[key]))
        except InputValueError as exc:
            reader.problem((*path, key), f"{where}invalid '{key}': {exc}")
    if definition.after is None or definition.before is None:
        return
    try:
        coerce(
            InputDef(id=definition.id, type=definition.type, before=definition.before),
            definition.after,
        )
    except InputValueError:
        reader.problem(
            (*path, low),
            f"{where}'{low}' ({definition.after}) is past '{high}' ({definition.before})",
        )


def _numeric_bounds(
    definition: InputDef, raw: dict[str, Any], path: PathKey, reader: Reader, where: str
) -> None:
    """Read ``min``/``max`` of an INT or FLOAT input."""
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
