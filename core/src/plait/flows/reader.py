"""What every part of the flow reader shares: problems placed at a path's position, and how a
value of the wrong kind is named."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from plait.errors import Problem
from plait.flows import ids
from plait.flows.yaml_positions import PathKey, SourceMap

_KIND_NAMES = {str: "text", bool: "true or false", dict: "a mapping", list: "a list"}


def describe(value: Any) -> str:
    """How a value of the wrong kind is named in a message."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"'{value}'" if len(value) <= 40 else f"'{value[:37]}...'"
    return str(value)


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """In file order, so a long list reads top to bottom; problems without a line go first."""
    return sorted(problems, key=lambda p: (p.line or 0, p.column or 0))


class Reader:
    """Collects problems, each placed at the position of a path in the document."""

    def __init__(self, file: str, source_map: SourceMap) -> None:
        self.file = file
        self.map = source_map
        self.problems: list[Problem] = []

    def problem(self, path: PathKey, message: str, *, at_key: bool = False) -> None:
        position = self.map.key(path) if at_key else self.map.value(path)
        line, column = position or (None, None)
        self.problems.append(Problem(message, self.file, line, column))

    def kind(self, value: Any, kind: type, path: PathKey, name: str, where: str = "") -> Any | None:
        """``value`` if it is of ``kind`` (None stays None, for optional keys)."""
        if value is None or isinstance(value, kind):
            return value
        if kind is str and isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)  # `description: 2024` is text to the author
        self.problem(path, f"{where}'{name}' must be {_KIND_NAMES[kind]}, got {describe(value)}")
        return None

    def identifier(
        self, value: Any, rule: ids.IdRule, path: PathKey, name: str, where: str = ""
    ) -> str | None:
        """The id as written, its problems reported (an int is read as its digits); None when
        there is none."""
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if value is None:
            self.problem(path[:-1], f"{where}missing required '{name}'")
            return None
        if not isinstance(value, str):
            self.problem(path, f"{where}'{name}' must be text, got {describe(value)}")
            return None
        if problem := rule.problem(value):
            self.problem(path, f"{where}{problem}")
        return value

    def unknown_keys(
        self,
        mapping: dict[Any, Any],
        path: PathKey,
        allowed: Iterable[str],
        what: str,
        unsupported: dict[str, str] | None = None,
    ) -> None:
        allowed = list(allowed)
        unsupported = unsupported or {}
        for key in mapping:
            if key in allowed:
                continue
            if key in unsupported:
                message = f"'{key}' is a Kestra {what} property that plait does not support"
                message += unsupported[key]
            else:
                message = f"unknown {what} property '{key}'{ids.did_you_mean(key, allowed)}"
                message += f" (allowed: {', '.join(allowed)})"
            self.problem((*path, key), message, at_key=True)

    def items(self, value: Any, path: PathKey, name: str) -> list[tuple[int, dict[str, Any]]]:
        """The mappings of a list such as ``tasks`` or ``inputs``, reporting the rest."""
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(path, f"'{name}' must be a list, got {describe(value)}")
            return []
        entries = []
        for index, item in enumerate(value):
            if isinstance(item, dict):
                entries.append((index, item))
            else:
                self.problem(
                    (*path, index),
                    f"each entry of '{name}' must be a mapping, got {describe(item)}",
                )
        return entries
