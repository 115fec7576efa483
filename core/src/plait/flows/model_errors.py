"""Pydantic validation errors phrased for flow authors: where the error is in the written value,
which keys a nested model accepts (for "did you mean"), durations named as ISO-8601. Shared by
validation before a run and by the executor after rendering, so both say the same thing."""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from plait.flows.ids import did_you_mean
from plait.flows.reader import describe
from plait.flows.yaml_positions import PathKey


def walk(value: Any, loc: Sequence[Any]) -> tuple[PathKey, list[Any]]:
    """Follow a pydantic error location into the written value, skipping the parts that name
    union members rather than keys (``('message', 'str')``); returns the real path and every
    value met on the way."""
    path: PathKey = ()
    chain = [value]
    for part in loc:
        current = chain[-1]
        in_dict = isinstance(current, dict) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if in_dict or in_list:
            chain.append(current[part])
            path = (*path, part)
    return path, chain


def dotted(key: str, path: PathKey) -> str:
    return key + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


# pydantic's own wording ("'day' identifier in duration not correctly formatted") says nothing
# about the format a flow has to use.
DURATION_ERRORS = frozenset({"time_delta_parsing", "time_delta_type"})
DURATION_HINT = "expected an ISO-8601 duration such as PT5S"


def duration_message(value: Any) -> str:
    return f"{DURATION_HINT} (got {describe(value)})"


def _members(annotation: Any) -> list[Any]:
    """The types a value of ``annotation`` may have (union members, ``Annotated`` unwrapped)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _members(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in _members(arg)]
    return [annotation]


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _model_keys(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def _step(annotation: Any, part: Any) -> list[Any]:
    """The annotations reached from one member type by one location part (none: no way in)."""
    if _is_model(annotation):
        for name, info in annotation.model_fields.items():
            if part in (name, info.alias):
                return [info.annotation]
        return []
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if isinstance(part, int) and origin in (list, tuple, set, frozenset, Sequence) and args:
        return [args[0]]
    if isinstance(part, str) and origin in (dict, Mapping) and len(args) == 2:
        return [args[1]]
    return []


def nested_keys(model: type[BaseModel], loc: Sequence[Any]) -> list[str] | None:
    """The keys accepted by the model found at a pydantic error location inside ``model``,
    following fields, list items, map values and tagged union members; None when the location
    does not lead to exactly one model."""
    current: list[Any] = [model]
    for part in loc:
        members = [m for a in current for m in _members(a)]
        tagged = [m for m in members if getattr(m, "__name__", None) == part]
        reached = tagged or [a for m in members for a in _step(m, part)]
        current = reached or current  # a union tag such as 'list[str]' names no key
    models = {m for a in current for m in _members(a) if _is_model(m)}
    return _model_keys(models.pop()) if len(models) == 1 else None


def unknown_key_message(
    model: type[BaseModel], loc: Sequence[Any], dotted: str, owner: str = ""
) -> str:
    """``unknown property 'docker.imag'{owner}; did you mean 'image'? (...)`` for an extra key,
    phrased like an unknown top-level property."""
    keys = nested_keys(model, loc[:-1])
    if keys is None:
        return f"unknown property '{dotted}'{owner}"
    where = f"properties of '{dotted.rsplit('.', 1)[0]}'" if len(loc) > 1 else "its properties"
    hint = did_you_mean(loc[-1], keys)
    return f"unknown property '{dotted}'{owner}{hint} ({where}: {', '.join(keys)})"
