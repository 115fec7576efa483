"""Turning the inputs given to a run into the typed values its expressions see.

Every bad, missing or unknown input is reported at once, before anything runs; files are only
uploaded once every input is valid, so a refused run leaves nothing in the storage.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from plait.errors import FlowValidationError, Problem
from plait.flows.ids import did_you_mean, quoted_list
from plait.flows.input_types import InputValueError, coerce
from plait.flows.model import Flow

StoreFile = Callable[[str, Path], str]
"""``store_file(input_id, local_path)`` uploads a FILE input and returns its ``plait://`` URI."""


def resolve_inputs(
    flow: Flow, given: Mapping[str, Any], *, store_file: StoreFile
) -> dict[str, Any]:
    """The value of every declared input, in declaration order (None for an optional input
    given no value and without default). Raises FlowValidationError listing every problem."""
    problems: list[Problem] = []
    declared = [i.id for i in flow.inputs]
    for name in given:
        if name not in declared:
            problems.append(
                Problem(
                    f"unknown input '{name}'{did_you_mean(name, declared)} (the flow declares "
                    f"{quoted_list(declared)})",
                    flow.file,
                )
            )
    values: dict[str, Any] = {}
    uploads: dict[str, Path] = {}
    for definition in flow.inputs:
        value = given.get(definition.id)
        origin = ""
        if value is None and definition.defaults is not None:
            value, origin = definition.defaults, " (its default value)"
        where = (flow.file, definition.line, definition.column)
        if value is None:
            if definition.required:
                problems.append(
                    Problem(
                        f"input '{definition.id}' ({definition.type}) is required and has no "
                        "default value",
                        *where,
                    )
                )
            values[definition.id] = None
            continue
        try:
            typed = coerce(definition, value)
        except InputValueError as exc:
            problems.append(Problem(f"input '{definition.id}'{origin}: {exc}", *where))
            continue
        if isinstance(typed, Path):
            uploads[definition.id] = typed
        else:
            values[definition.id] = typed
    if problems:
        raise FlowValidationError(problems)
    for input_id, path in uploads.items():
        values[input_id] = store_file(input_id, path)
    return {input_id: values[input_id] for input_id in declared}
