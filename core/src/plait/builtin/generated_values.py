"""Kestra's functions that make a new value at each call: ``id()`` and ``randomInt()``.

(``uuid()`` and ``now()`` are with the other built-in functions.)
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from plait.state.model import new_id


def short_id() -> str:
    """A new unique id as Kestra makes them, like the ids of executions.

    A random UUID written in base 62: 22 letters and digits.

    Example: ``{{ id() }}``
    """
    return new_id()


def random_int(lower: int, upper: int) -> int:
    """A random whole number from ``lower`` (included) up to ``upper`` (excluded).

    ``lower`` when the two are equal.

    Example: ``{{ randomInt(1, 10) }}``
    """
    for name, bound in (("lower", lower), ("upper", upper)):
        if isinstance(bound, bool) or not isinstance(bound, int):
            raise ValueError(f"randomInt needs a whole number as '{name}', not {bound!r}")
    if upper < lower:
        raise ValueError(f"randomInt's upper bound {upper} is less than its lower bound {lower}")
    return lower if upper == lower else lower + secrets.randbelow(upper - lower)


FUNCTIONS: dict[str, Callable[..., Any]] = {"id": short_id, "randomInt": random_int}
