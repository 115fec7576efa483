"""Kestra's list filters: ``distinct``, ``chunk`` and ``flatten``.

Lists compare as Java's do: ``1`` and ``1.0`` are different items, as are ``1`` and ``true``
(Python would call them equal), so ``distinct`` keeps what Kestra keeps.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from plait.expressions.budget import check_size


def _list(value: Any, name: str) -> list[Any] | tuple[Any, ...]:
    if not isinstance(value, list | tuple):
        raise ValueError(f"{name} needs a list, not a {type(value).__name__}")
    return value


def distinct(value: Any) -> list[Any] | None:
    """The items of a list without repeats, in their first order.

    Example: ``{{ ['1', '1', '2', '3'] | distinct }}`` gives ``["1", "2", "3"]``
    """
    if value is None:
        return None
    seen: set[tuple[type, Hashable]] = set()
    unhashable: list[Any] = []
    kept = []
    for item in _list(value, "distinct"):
        key = (type(item), item)
        if _hashable(key):
            if key in seen:
                continue
            seen.add(key)
        elif any(type(other) is type(item) and other == item for other in unhashable):
            continue
        else:
            unhashable.append(item)
        kept.append(item)
    return kept


def _hashable(key: Hashable) -> bool:
    """Whether ``key`` can go in a set (a tuple holding a list cannot)."""
    try:
        hash(key)
    except TypeError:
        return False
    return True


def chunk(value: Any, size: int) -> list[list[Any]] | None:
    """The list cut into lists of ``size`` items (the last one may be shorter).

    Example: ``{{ [1, 2, 3, 4, 5] | chunk(2) }}`` gives ``[[1, 2], [3, 4], [5]]``
    """
    if value is None:
        return None
    items = _list(value, "chunk")
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"the size must be a whole number of 1 or more, not {size!r}")
    return [list(items[start : start + size]) for start in range(0, len(items), size)]


def flatten(value: Any) -> list[Any] | None:
    """The list with the items of its inner lists in their place (one level deep).

    Example: ``{{ [1, [2, 3], [[4]]] | flatten }}`` gives ``[1, 2, 3, [4]]``
    """
    if value is None:
        return None
    items = _list(value, "flatten")
    check_size(sum(len(item) if isinstance(item, list | tuple) else 1 for item in items), "a list")
    flat: list[Any] = []
    for item in items:
        if isinstance(item, list | tuple):
            flat.extend(item)
        else:
            flat.append(item)
    return flat


FILTERS: dict[str, Callable[..., Any]] = {
    "distinct": distinct,
    "chunk": chunk,
    "flatten": flatten,
}
