"""The built-in expression filters and functions, registered through the same hooks as any
plugin's. Names and behaviour follow Kestra's, so that flows written for Kestra render alike.

Every docstring starts with a one-line description and shows an example: the reference
documentation is generated from them.
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence, Sized
from datetime import UTC, datetime
from typing import Any

from plait_sdk import ExpressionServices, hookimpl, needs_context

from plait.builtin import (
    collection_filters,
    data_formats,
    execution_functions,
    generated_values,
    hash_filters,
    number_format,
    text_filters,
)
from plait.builtin.jq_runner import shared_pool
from plait.expressions import accepts_undefined
from plait.expressions.javadate import format_named_or_pattern
from plait.expressions.temporal import add, epoch_micros, in_zone, to_datetime, zone
from plait.expressions.text import to_json, to_text

DEFAULT_DATE_FORMAT = "iso"
MAX_RENDERINGS = 100
"""Successive renderings ``render()`` performs before giving up (Kestra's limit)."""


# --- data -----------------------------------------------------------------------------------


def jq_results(value: Any, expression: str) -> list[Any]:
    """Run a jq program on JSON text or on a value and return the list of all its results.

    The result is always a list, so take one item with ``first``.
    Example: ``{{ outputs.api.body | jq('.products') | first }}``
    """
    text = value if isinstance(value, str) else to_json(value)
    return shared_pool().results(expression, text)


def first_item(value: Any) -> Any:
    """The first item of a list, or the first character of a string (null when empty).

    Example: ``{{ [3, 2, 1] | first }}`` gives ``3``
    """
    return _ends(value, "first")


def last_item(value: Any) -> Any:
    """The last item of a list, or the last character of a string (null when empty).

    Example: ``{{ outputs.list.values | last }}``
    """
    return _ends(value, "last")


def _ends(value: Any, which: str) -> Any:
    if value is None:
        return None
    if isinstance(value, Mapping) or not isinstance(value, Iterable):
        raise ValueError(f"{which} needs a list or a string, not a {type(value).__name__}")
    items = value if isinstance(value, Sequence) else list(value)
    if not items:
        return None
    return items[0] if which == "first" else items[-1]


def to_json_text(value: Any, includeNulls: bool = True) -> str:
    """Write a value as compact JSON text; ``includeNulls=false`` drops null map entries.

    Example: ``{{ {'a': 1, 'b': [true, null]} | toJson }}`` gives ``{"a":1,"b":[true,null]}``
    """
    return to_json(value if includeNulls else _without_nulls(value))


def _without_nulls(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_without_nulls(item) for item in value]
    return value


def from_json(text: Any) -> Any:
    """Read JSON text into a value (map, list, number...); null stays null.

    Example: ``{{ outputs.api.body | fromJson }}`` or ``{{ fromJson('[1, 2]') | length }}``
    """
    if text is None:
        return None
    if not isinstance(text, str | bytes):
        raise ValueError(f"fromJson needs JSON text, not a {type(text).__name__}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"invalid JSON: {error}") from None


def map_keys(value: Any) -> list[Any] | None:
    """The keys of a map, or the indexes of a list.

    Example: ``{{ {'a': 1, 'b': 2} | keys }}`` gives ``["a", "b"]``
    """
    if value is None:
        return None
    if isinstance(value, Mapping):
        return list(value.keys())
    if isinstance(value, list | tuple):
        return list(range(len(value)))
    raise ValueError(f"keys needs a map or a list, not a {type(value).__name__}")


def map_values(value: Any) -> list[Any] | None:
    """The values of a map.

    Example: ``{{ {'a': 1, 'b': 2} | values }}`` gives ``[1, 2]``
    """
    if value is None:
        return None
    if isinstance(value, Mapping):
        return list(value.values())
    raise ValueError(f"values needs a map, not a {type(value).__name__}")


@accepts_undefined
def default_value(value: Any, fallback: Any) -> Any:
    """The value, or ``fallback`` when it is undefined, null, blank text or an empty list/map.

    Example: ``{{ inputs.name | default('world') }}``
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return fallback
    if isinstance(value, Sized) and not isinstance(value, str) and len(value) == 0:
        return fallback
    return value


def length(value: Any) -> int:
    """The number of characters of a string or items of a list or map (0 for null).

    Example: ``{{ outputs.api.body | jq('.products[]') | length }}``
    """
    if value is None:
        return 0
    if isinstance(value, Sized):
        return len(value)
    raise ValueError(f"length needs a string, a list or a map, not a {type(value).__name__}")


def join(value: Any, separator: str = "") -> str | None:
    """Join the items of a list into text, with an optional separator.

    Example: ``{{ ['a', 'b', 'c'] | join(', ') }}`` gives ``a, b, c``
    """
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValueError(f"join needs a list, not a {type(value).__name__}")
    return separator.join(to_text(item) for item in value)


# --- text -----------------------------------------------------------------------------------


def upper(value: Any) -> str | None:
    """The text in upper case.

    Example: ``{{ 'hello' | upper }}`` gives ``HELLO``
    """
    return None if value is None else to_text(value).upper()


def lower(value: Any) -> str | None:
    """The text in lower case.

    Example: ``{{ 'Hello' | lower }}`` gives ``hello``
    """
    return None if value is None else to_text(value).lower()


_NOT_SLUG = re.compile(r"[^\w-]", re.ASCII)


def slugify(value: Any) -> str | None:
    """A lower-case, dash-separated, ASCII-only version of a text (Kestra's algorithm).

    Example: ``{{ 'Hello World, Ça va?' | slugify }}`` gives ``hello-world-ca-va``
    """
    if value is None:
        return None
    text = unicodedata.normalize("NFD", re.sub(r"\s", "-", to_text(value)))
    slug = _NOT_SLUG.sub("", text).replace("_", "-")
    return re.sub("-{2,}", "-", slug).strip("-").lower()


# --- dates ----------------------------------------------------------------------------------


def format_date(
    value: Any,
    format: str = DEFAULT_DATE_FORMAT,
    timeZone: str | None = None,
    existingFormat: str | None = None,
) -> str | None:
    """Format a date (a datetime, an ISO-8601 string or epoch seconds) with a Java pattern.

    ``format`` is a ``DateTimeFormatter`` pattern or a name (``iso``, the default, ``iso_sec``,
    ``sql``, ``iso_date``, ``iso_instant``...); ``timeZone`` is the zone to show the date in
    (default: the system's); ``existingFormat`` is the pattern of an input string that is not
    ISO-8601.
    Example: ``{{ execution.startDate | date("yyyy-MM-dd'T'HH:mm:ss", timeZone='UTC') }}``
    """
    if value is None:
        return None
    tz = zone(timeZone)
    return format_named_or_pattern(in_zone(to_datetime(value, tz, existingFormat), tz), format)


def add_to_date(
    value: Any,
    amount: int,
    unit: str,
    format: str = DEFAULT_DATE_FORMAT,
    timeZone: str | None = None,
    existingFormat: str | None = None,
) -> str | None:
    """Add (or, with a negative amount, subtract) time to a date and format the result.

    ``unit`` is a Java ``ChronoUnit``: NANOS, MICROS, MILLIS, SECONDS, MINUTES, HOURS,
    HALF_DAYS, DAYS, WEEKS, MONTHS, YEARS, DECADES, CENTURIES or MILLENNIA; the other
    arguments are those of ``date``.
    Example: ``{{ now() | dateAdd(-1, 'DAYS') | date('yyyy-MM-dd') }}``
    """
    if value is None:
        return None
    tz = zone(timeZone)
    moved = add(to_datetime(value, tz, existingFormat), amount, unit, tz)
    return format_named_or_pattern(moved, format)


_EPOCH_UNITS = {
    "timestamp": ("seconds", 1, 1_000_000),
    "timestampMilli": ("milliseconds", 1, 1_000),
    "timestampMicro": ("microseconds", 1, 1),
    "timestampNano": ("nanoseconds", 1_000, 1),
}
"""Filter name: (unit, multiplier, divisor) applied to microseconds since the epoch."""


def _epoch_filter(name: str) -> Callable[..., int | None]:
    unit, multiplier, divisor = _EPOCH_UNITS[name]

    def epoch(value: Any, timeZone: str | None = None, existingFormat: str | None = None) -> Any:
        if value is None:
            return None
        moment = to_datetime(value, zone(timeZone), existingFormat)
        return epoch_micros(moment) * multiplier // divisor

    epoch.__name__ = epoch.__qualname__ = name
    epoch.__doc__ = (
        f"The number of {unit} since 1970-01-01T00:00:00Z of a date (floored).\n\n"
        f"Example: ``{{{{ execution.startDate | {name} }}}}``"
    )
    return epoch


# --- functions ------------------------------------------------------------------------------


def now(
    format: str | None = None,
    timeZone: str | None = None,
) -> datetime | str:
    """The current date and time, as a datetime, or as text when ``format`` is given.

    Example: ``{{ now() | dateAdd(-1, 'MONTHS') | date('yyyy-MM-dd') }}`` or
    ``{{ now(format='iso_sec', timeZone='Europe/Paris') }}``
    """
    moment = in_zone(datetime.now(UTC), zone(timeZone))
    return moment if format is None else format_named_or_pattern(moment, format)


def random_uuid() -> str:
    """A new random UUID (version 4).

    Example: ``{{ uuid() }}``
    """
    return str(uuid.uuid4())


@needs_context
def render(services: ExpressionServices, template: Any, recursive: bool = True) -> Any:
    """Render a string holding expressions (such as a flow variable) with the same variables.

    In a map or a list, every string is rendered (and every map key, once). By default, each
    string renders again until the result no longer changes.
    Example: ``{{ render(vars.start_date) }}``
    """
    return _rendered(services, template, recursive, 0)


@needs_context
def render_once(services: ExpressionServices, template: Any) -> Any:
    """Render a string holding expressions once: ``render(template, recursive=false)``.

    Example: ``{{ renderOnce(vars.message) }}``
    """
    return _rendered(services, template, False, 0)


def _rendered(services: ExpressionServices, value: Any, recursive: bool, depth: int) -> Any:
    if depth > MAX_RENDERINGS:
        raise ValueError(f"the template still changes after {MAX_RENDERINGS} renderings")
    if isinstance(value, Mapping):
        return {
            services.render(key) if isinstance(key, str) else key: _rendered(
                services, item, recursive, depth
            )
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_rendered(services, item, recursive, depth) for item in value]
    if not isinstance(value, str):
        return value
    previous, result = value, services.render(value)
    for _ in range(MAX_RENDERINGS):
        if not recursive or result == previous:
            return result
        if not isinstance(result, str):  # a map or list, whose strings may hold more
            return _rendered(services, result, recursive, depth + 1)
        previous, result = result, services.render(result)
    raise ValueError(f"the template still changes after {MAX_RENDERINGS} renderings")


def json_function(json: Any) -> Any:
    """Read JSON text into a value: Kestra's former name of ``fromJson``, for older flows.

    Example: ``{{ json('{"a": [1, 2]}').a | length }}`` gives ``2``
    """
    return from_json(json)


@needs_context
def read(services: ExpressionServices, uri: str) -> str:
    """The text of an internal-storage file of the current execution.

    Example: ``{{ read(outputs.python.outputFiles['products.csv']) }}``
    """
    return services.read(uri)


@needs_context
def secret(services: ExpressionServices, name: str) -> str:
    """The value of a secret, masked wherever logs or outputs would show it.

    The built-in provider reads the base64 environment variable ``SECRET_<NAME>``.

    Example: ``{{ secret('GITHUB_TOKEN') }}``
    """
    return services.secret(name)


@hookimpl
def register_filters() -> dict[str, Callable[..., Any]]:
    return {
        "jq": jq_results,
        "first": first_item,
        "last": last_item,
        "toJson": to_json_text,
        "json": to_json_text,
        "fromJson": from_json,
        "keys": map_keys,
        "values": map_values,
        "default": default_value,
        "length": length,
        "join": join,
        "upper": upper,
        "lower": lower,
        "slugify": slugify,
        "date": format_date,
        "dateAdd": add_to_date,
        **{name: _epoch_filter(name) for name in _EPOCH_UNITS},
        **text_filters.FILTERS,
        **hash_filters.FILTERS,
        **collection_filters.FILTERS,
        **number_format.FILTERS,
        **data_formats.FILTERS,
    }


@hookimpl
def register_functions() -> dict[str, Callable[..., Any]]:
    return {
        "now": now,
        "uuid": random_uuid,
        "render": render,
        "read": read,
        "secret": secret,
        "fromJson": from_json,
        "json": json_function,
        "renderOnce": render_once,
        **data_formats.FUNCTIONS,
        **generated_values.FUNCTIONS,
        **execution_functions.FUNCTIONS,
    }
