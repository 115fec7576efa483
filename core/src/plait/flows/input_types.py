"""Flow input types: which keys each definition accepts and how a given value becomes a typed one.

Values arrive as text from the command line (``-i count=3``) or as native values from Python,
and must become JSON-friendly values an execution can store and expressions can render: dates,
times and durations stay ISO-8601 strings (normalized), JSON becomes the parsed value.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from plait.durations import format_duration, parse_duration
from plait.flows import limits
from plait.flows.model import InputDef
from plait.flows.yaml_positions import load_yaml

STORAGE_SCHEME = "plait://"

COMMON_INPUT_KEYS = frozenset(
    {"id", "name", "type", "description", "required", "defaults", "prefill", "displayName"}
)
INPUT_TYPES: dict[str, frozenset[str]] = {
    "STRING": frozenset({"validator"}),
    "INT": frozenset({"min", "max"}),
    "FLOAT": frozenset({"min", "max"}),
    "BOOLEAN": frozenset(),
    "BOOL": frozenset(),
    "DATETIME": frozenset({"after", "before"}),
    "DATE": frozenset({"after", "before"}),
    "TIME": frozenset({"after", "before"}),
    "DURATION": frozenset({"min", "max"}),
    "JSON": frozenset(),
    "YAML": frozenset(),
    "URI": frozenset(),
    "SELECT": frozenset({"values"}),
    "ENUM": frozenset({"values"}),
    "MULTISELECT": frozenset({"values", "options", "allowCustomValue"}),
    "ARRAY": frozenset({"itemType"}),
    "FILE": frozenset(),
    "SECRET": frozenset(),
}
"""Input type -> the keys it accepts besides :data:`COMMON_INPUT_KEYS`. ``BOOL`` (newer
Kestra's name) is ``BOOLEAN``; ``ENUM`` (older Kestra's name) is ``SELECT``; ``options`` is
older Kestra's name of a MULTISELECT's ``values``."""


class Bounds(NamedTuple):
    """How a type bounded by values of its own type names its bounds."""

    low: str
    """Key of the lowest value allowed."""
    high: str
    """Key of the highest value allowed."""
    at_least: str
    """Words before the lowest value in messages."""
    at_most: str


_DATED = Bounds("after", "before", "on or after", "on or before")
ORDERED_TYPES = {
    "DATE": _DATED,
    "DATETIME": _DATED,
    "TIME": _DATED,
    "DURATION": Bounds("min", "max", "of at least", "of at most"),
}
"""Types bounded by values of their own type (Kestra's ``after``/``before``, ``min``/``max``)."""


CHOICE_TYPES = ("SELECT", "ENUM", "MULTISELECT")
"""Types whose value is one of their ``values`` (a MULTISELECT's: a list of them)."""

ITEM_TYPES = tuple(t for t in INPUT_TYPES if t not in ("ARRAY", "FILE", "SECRET", *CHOICE_TYPES))
"""Types an ARRAY's items may have."""


class InputValueError(ValueError):
    """A value does not fit an input's type; the message says what was expected and what came."""


def shown(value: Any) -> str:
    """A short rendering of a bad value for messages."""
    text = f"'{value}'" if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _expected(what: str, value: Any) -> InputValueError:
    return InputValueError(f"expected {what}, got {shown(value)}")


def _text(value: Any, what: str) -> str:
    """Strings as they are; numbers as their text (a CLI never types them, Python may)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise _expected(what, value)


def _bounded(number: int | float, defn: InputDef) -> int | float:
    if defn.min is not None and number < defn.min:
        raise InputValueError(f"expected {defn.type} >= {defn.min}, got {number}")
    if defn.max is not None and number > defn.max:
        raise InputValueError(f"expected {defn.type} <= {defn.max}, got {number}")
    return number


def _string(value: Any, defn: InputDef) -> str:
    text = _text(value, "STRING")
    if defn.validator is not None and not re.fullmatch(defn.validator, text):
        raise _expected(f"STRING matching `{defn.validator}`", text)
    return text


_INT_RANGE = f"INT between {limits.INT_MIN} and {limits.INT_MAX}"


def _int(value: Any, defn: InputDef) -> int:
    """A whole number within Java's ``long``, as text or a number (``3.0`` is 3)."""
    number: int | None = None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        number = value if limits.INT_MIN <= value <= limits.INT_MAX else None
    elif isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
        number = limits.int_in_range(value)
    else:
        raise _expected("INT", value)
    if number is None:
        raise _expected(_INT_RANGE, value)
    return int(_bounded(number, defn))


def _float(value: Any, defn: InputDef) -> float:
    """A finite double: text that is not a number, ``nan``, infinities and numbers beyond the
    double range (``1e999``) are refused."""
    number: float | None = None
    try:
        if isinstance(value, int | float | str) and not isinstance(value, bool):
            number = float(value)
    except ValueError:
        number = None
    except OverflowError:  # an integer beyond the double range
        number = math.inf
    if number is None:
        raise _expected("FLOAT", value)
    if not math.isfinite(number):
        raise _expected("a finite FLOAT (within the range of a double)", value)
    return float(_bounded(number, defn))


def _boolean(value: Any, defn: InputDef) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise _expected(f"{defn.type} (true or false)", value)


def _parse_datetime(value: Any) -> datetime:
    """An instant in UTC; no offset means UTC."""
    parsed = value if isinstance(value, datetime) else None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            parsed = None
    if parsed is None:
        raise _expected("DATETIME (ISO-8601, e.g. 2024-01-31T10:00:00Z)", value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _parse_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(value.strip())
    except (AttributeError, ValueError):
        raise _expected("DATE (ISO-8601, e.g. 2024-01-31)", value) from None


def _parse_time(value: Any) -> time:
    if isinstance(value, time):
        return value
    try:
        return time.fromisoformat(value.strip())
    except (AttributeError, ValueError):
        raise _expected("TIME (ISO-8601, e.g. 10:30:00)", value) from None


def _parse_duration(value: Any) -> timedelta:
    parsed = value if isinstance(value, timedelta) else None
    if isinstance(value, str):
        parsed = parse_duration(value)
    if parsed is None:
        raise _expected("DURATION (ISO-8601, e.g. PT5M or P1DT2H)", value)
    return parsed


def _ordered(defn: InputDef, value: Any, parse: Callable[[Any], Any]) -> Any:
    """``value`` parsed, within the input's ``after``/``before`` (a DURATION's ``min``/``max``),
    bounds included as Kestra does. A TIME's offset, if written, does not take part."""
    parsed = parse(value)
    key = _naive_time if isinstance(parsed, time) else _same
    bounds = ORDERED_TYPES[defn.type]
    if defn.after is not None and key(parsed) < key(parse(defn.after)):
        raise InputValueError(
            f"expected {defn.type} {bounds.at_least} {defn.after}, got {shown(value)}"
        )
    if defn.before is not None and key(parsed) > key(parse(defn.before)):
        raise InputValueError(
            f"expected {defn.type} {bounds.at_most} {defn.before}, got {shown(value)}"
        )
    return parsed


def _same(value: Any) -> Any:
    return value


def _naive_time(value: time) -> time:
    return value.replace(tzinfo=None)


def _datetime(value: Any, defn: InputDef) -> str:
    """An instant, normalized to UTC (``2024-01-31T10:00:00Z``)."""
    parsed = _ordered(defn, value, _parse_datetime)
    return parsed.isoformat().replace("+00:00", "Z")


def _date(value: Any, defn: InputDef) -> str:
    return _ordered(defn, value, _parse_date).isoformat()


def _time(value: Any, defn: InputDef) -> str:
    return _ordered(defn, value, _parse_time).isoformat()


def _duration(value: Any, defn: InputDef) -> str:
    """Normalized as Java prints durations (``PT1H30M``), which is how Kestra renders them."""
    return format_duration(_ordered(defn, value, _parse_duration))


def _parse_json(text: str, what: str = "JSON") -> Any:
    try:
        return limits.load_json(text)
    except json.JSONDecodeError as exc:
        raise InputValueError(f"expected {what}, got {shown(text)} ({exc})") from None
    except limits.JsonLimitError as exc:
        raise InputValueError(str(exc)) from None


def _native(value: Any, what: str) -> Any:
    """A value given as is (from Python, or written in the flow) that JSON can hold."""
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        raise _expected(what, value) from None
    return value


def _json(value: Any, defn: InputDef) -> Any:
    return _parse_json(value) if isinstance(value, str) else _native(value, "JSON")


def _yaml(value: Any, defn: InputDef) -> Any:
    """YAML text read as a flow is (bounded nesting and aliases, the YAML 1.2 core schema:
    ``2024-01-31`` stays text; at most ``PLAIT_MAX_INPUT_BYTES``), or a value given as is."""
    if not isinstance(value, str):
        return _native(value, "YAML")
    document = load_yaml(value, "YAML", "the YAML value", limits.INPUT_BYTES)
    if document.problems:
        problem = document.problems[0]
        if problem.line is None:  # over a limit: the message says it all
            raise InputValueError(problem.message)
        raise InputValueError(
            f"expected YAML, got {shown(value)} (line {problem.line}: {problem.message})"
        )
    return document.data


def _uri(value: Any, defn: InputDef) -> str:
    text = _text(value, "URI").strip()
    parts = urlsplit(text)
    if not parts.scheme or not (parts.netloc or parts.path) or " " in text:
        raise _expected("URI (e.g. https://example.com/data.csv)", value)
    return text


def _select(value: Any, defn: InputDef) -> str:
    text = _text(value, defn.type)
    allowed = defn.values or []
    if text not in allowed and not defn.allow_custom_value:
        choices = ", ".join(f"'{v}'" for v in allowed)
        raise InputValueError(f"expected one of {choices}, got {shown(text)}")
    return text


def _each(value: Any, what: str, item_def: InputDef) -> list[Any]:
    """Every item of a list, given as is or as JSON text (Kestra reads ARRAY and MULTISELECT
    values alike), coerced by ``item_def``; a bad item is named by its index."""
    items = _parse_json(value, what) if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise _expected(what, value)
    result = []
    for index, item in enumerate(items):
        try:
            result.append(coerce(item_def, item))
        except InputValueError as exc:
            raise InputValueError(f"item {index}: {exc}") from None
    return result


def _multiselect(value: Any, defn: InputDef) -> list[str]:
    """Each item one of ``values`` (any text with ``allowCustomValue``), as Kestra's
    MultiselectInput checks them."""
    item_def = InputDef(
        id=defn.id, type="SELECT", values=defn.values, allow_custom_value=defn.allow_custom_value
    )
    return _each(value, 'MULTISELECT (a JSON list such as ["a", "b"])', item_def)


def _array(value: Any, defn: InputDef) -> list[Any]:
    what = f"ARRAY of {defn.item_type} (a JSON list such as [1, 2])"
    return _each(value, what, InputDef(id=defn.id, type=defn.item_type or "STRING"))


def _file(value: Any, defn: InputDef) -> str | Path:
    """A ``plait://`` URI as is; a local path to upload (returned as a Path)."""
    if isinstance(value, str) and value.startswith(STORAGE_SCHEME):
        return value
    if not isinstance(value, str | Path) or not str(value):
        raise _expected("FILE (a path to a local file)", value)
    path = Path(value).expanduser()
    if not path.is_file():
        reason = "it is not a file" if path.exists() else "no such file"
        raise InputValueError(f"expected FILE (a path to a local file), got '{value}': {reason}")
    return path


def _secret(value: Any, defn: InputDef) -> str:
    if not isinstance(value, str):
        raise InputValueError("expected SECRET (text), got a value that is not text")
    return value


_COERCERS: dict[str, Callable[[Any, InputDef], Any]] = {
    "STRING": _string,
    "INT": _int,
    "FLOAT": _float,
    "BOOLEAN": _boolean,
    "BOOL": _boolean,
    "DATETIME": _datetime,
    "DATE": _date,
    "TIME": _time,
    "DURATION": _duration,
    "JSON": _json,
    "YAML": _yaml,
    "URI": _uri,
    "SELECT": _select,
    "ENUM": _select,
    "MULTISELECT": _multiselect,
    "ARRAY": _array,
    "FILE": _file,
    "SECRET": _secret,
}


def coerce(defn: InputDef, value: Any) -> Any:
    """The typed value of ``value`` for input ``defn``; a FILE given as a local path comes back
    as a :class:`~pathlib.Path` for the caller to upload. Raises :class:`InputValueError`."""
    return _COERCERS[defn.type](value, defn)
