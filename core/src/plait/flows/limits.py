"""Bounds on the text plait parses for its users: flow files, YAML nesting, input values.

Flows and inputs are written by people who may not be trusted (a server accepts them from any
client), and the parsers behind them have no bounds of their own: a 10 MB flow takes seconds to
read, deep nesting ends in a ``RecursionError`` (the YAML composer and ``json`` recurse once
per level), a 5,000-digit number makes Python's ``int()`` raise. Each bound is checked before the
parser runs and refused as a user error naming the setting that changes it. Settings are read
from the environment at each use, so a test or a process can change them.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from typing import Any

from plait.errors import PlaitError


@dataclass(frozen=True)
class Limit:
    """One bound: its default and the environment variable that overrides it."""

    env: str
    default: int
    ceiling: int | None = None
    """The largest value the setting accepts (nesting: the parsers' recursion must fit)."""

    def value(self) -> int:
        """The setting, else the default; a setting that is not a whole number in range is a
        user error, never silently ignored."""
        raw = os.environ.get(self.env, "").strip()
        if not raw:
            return self.default
        number = int(raw) if raw.isascii() and raw.isdigit() else 0
        if number < 1 or (self.ceiling is not None and number > self.ceiling):
            upper = f" and at most {self.ceiling}" if self.ceiling is not None else ""
            raise PlaitError(f"{self.env}={raw!r} must be a whole number, at least 1{upper}")
        return number

    def setting(self) -> str:
        return f"setting {self.env}"


FLOW_BYTES = Limit("PLAIT_MAX_FLOW_BYTES", 1024 * 1024)
"""Size of a flow's text (a file, a server request body), in UTF-8 bytes."""

NESTING = Limit("PLAIT_MAX_NESTING", 100, ceiling=200)
"""Lists and mappings open at once in a flow's YAML or a JSON input value. The ceiling keeps
the deepest document allowed within Python's recursion limit through reading and validation."""

INPUT_BYTES = Limit("PLAIT_MAX_INPUT_BYTES", 1024 * 1024)
"""Size of one input value given as text (``plait run -i``, a server form field)."""

INT_MIN = -(2**63)
INT_MAX = 2**63 - 1
"""The range of INT inputs: Java's ``long``, what every tool reading an execution can hold."""

_INT_DIGITS = len(str(INT_MAX))


def _utf8_size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def over_size(text: str, limit: int) -> int | None:
    """The size of ``text`` in UTF-8 bytes when it is over ``limit`` (None when it fits),
    without encoding a text sure to fit or sure not to."""
    if len(text) > limit:
        return _utf8_size(text)
    if len(text) * 4 <= limit:
        return None
    size = _utf8_size(text)
    return size if size > limit else None


def size_problem(what: str, size: int | None, limit: Limit = FLOW_BYTES) -> str:
    """``what`` is over ``limit`` (by how much, when ``size`` is known)."""
    allowed = f"the {limit.value():,} bytes allowed ({limit.setting()})"
    if size is None:
        return f"{what} is larger than {allowed}"
    return f"{what} is {size:,} bytes, more than {allowed}"


def nesting_problem(what: str, where: str = "") -> str:
    """``what`` nests too deeply (``where``: from which point, when not given by a line and
    column)."""
    levels = NESTING.value()
    return (
        f"{what} nests lists and mappings deeper than the {levels} levels allowed{where} "
        f"({NESTING.setting()})"
    )


_JSON_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]')
"""Strings (whose brackets do not count; an unterminated one runs to the end) and brackets."""


class JsonLimitError(ValueError):
    """A JSON text nests too deeply or holds an integer of too many digits."""


def load_json(text: str) -> Any:
    """``json.loads``, bounded: nesting is checked before parsing (the parser recurses once
    per level) and overlong integers are refused by name. Raises ``json.JSONDecodeError`` for
    text that is not JSON, :class:`JsonLimitError` for JSON over a limit."""
    deep = _json_too_deep(text)
    if deep is not None:
        raise JsonLimitError(nesting_problem("the JSON value", f", from character {deep + 1}"))
    return json.loads(text, parse_int=_json_int)


def _json_int(digits: str) -> int:
    """An integer of a JSON text; one longer than Python converts is a :class:`JsonLimitError`
    rather than ``int()``'s message about ``sys.set_int_max_str_digits``."""
    length = len(digits.lstrip("-"))
    if length > sys.get_int_max_str_digits():
        raise JsonLimitError(
            f"a number in the JSON value has {length:,} digits, more than the "
            f"{sys.get_int_max_str_digits()} allowed"
        )
    return int(digits)


def _json_too_deep(text: str) -> int | None:
    """The offset of the first bracket that opens more than :data:`NESTING` levels in a JSON
    text, or None: checked before ``json.loads``, which recurses once per level."""
    limit = NESTING.value()
    depth = 0
    for token in _JSON_TOKENS.finditer(text):
        bracket = token.group()
        if bracket in ("[", "{"):
            depth += 1
            if depth > limit:
                return token.start()
        elif bracket in ("]", "}"):
            depth -= 1
    return None


def int_in_range(digits: str) -> int | None:
    """The integer written as ``digits`` (an optional sign, then digits) when it is within
    :data:`INT_MIN`..:data:`INT_MAX`, else None; a number of thousands of digits is refused
    by its length, before Python converts it."""
    written = digits.strip()
    significant = written.lstrip("+-").lstrip("0")  # int() counts leading zeros as digits
    if len(significant) > _INT_DIGITS:
        return None
    number = int(significant or "0") * (-1 if written.startswith("-") else 1)
    return number if INT_MIN <= number <= INT_MAX else None
