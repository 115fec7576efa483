"""What Pebble's word operators, extra tests and ``block()`` function do at run time.

The parser (:mod:`plait.expressions.pebble`) compiles ``a isIn b`` and ``a contains b`` to
internal tests, so that they get Jinja's lazy evaluation and error reporting; this module holds
those tests, Pebble's ``map`` and Kestra's ``json`` tests, and the ``block`` function, which
renders a ``{% block %}`` of the template again. Operands follow Pebble's strict mode: an
undefined one fails with its name, a null one makes the test false.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context, Undefined

from plait.expressions.pebble import CONTAINS_TEST, IS_IN_TEST, block_name
from plait.expressions.text import to_text


def _defined(value: Any) -> Any:
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    return value


def is_in(value: Any, container: Any) -> bool:
    """Kestra's ``isIn``: whether the text of ``value`` is the text of an item of a list, or of
    a key or a value of a map (``execution.state isIn ['SUCCESS', 'WARNING']``)."""
    value, container = _defined(value), _defined(container)
    if value is None or container is None:
        return False
    text = to_text(value)
    if isinstance(container, Mapping):
        candidates: Iterable[Any] = (*container.keys(), *container.values())
    elif isinstance(container, Iterable) and not isinstance(container, str):
        candidates = container
    else:
        return False
    return any(item is not None and to_text(item) == text for item in candidates)


def contains(container: Any, value: Any) -> bool:
    """Pebble's ``contains``: an item of a list (every item, when ``value`` is a list), a key of a
    map, or a substring of a text."""
    container, value = _defined(container), _defined(value)
    if container is None:
        return False
    if isinstance(container, Mapping):
        return value in container
    if isinstance(container, str):
        return to_text(value) in container
    if isinstance(container, list | tuple | set | frozenset):
        wanted = value if isinstance(value, list | tuple | set | frozenset) else [value]
        return all(item in container for item in wanted)
    raise ValueError(
        f"`contains` needs a list, a map or a text on its left, not a {type(container).__name__}"
    )


def is_map(value: Any) -> bool:
    """Whether the value is a map (Pebble's ``is map``)."""
    return isinstance(_defined(value), Mapping)


def is_json(value: Any) -> bool:
    """Whether the value is text holding valid JSON (Kestra's ``is json``)."""
    value = _defined(value)
    if not isinstance(value, str):
        return False
    try:
        json.loads(value)
    except ValueError:
        return False
    return True


@pass_context
def render_block(context: Context, name: str) -> str:
    """The output of the template's ``{% block name %}``, rendered again (Pebble's ``block()``)."""
    renderers = context.blocks.get(block_name(str(_defined(name))))
    if not renderers:
        raise ValueError(f"the template has no block named '{name}'")
    return context.environment.concat(renderers[0](context))  # type: ignore[attr-defined]


DIALECT_TESTS: dict[str, Callable[..., bool]] = {
    IS_IN_TEST: is_in,
    CONTAINS_TEST: contains,
    "map": is_map,
    "json": is_json,
}
DIALECT_GLOBALS: dict[str, Callable[..., Any]] = {"block": render_block}
