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
from typing import Any
from urllib.parse import urlsplit

from plait.durations import format_duration, parse_duration
from plait.flows import limits
from plait.flows.model import InputDef

STORAGE_SCHEME = "plait://"

COMMON_INPUT_KEYS = frozenset(
    {"id", "name", "type", "description", "required", "defaults", "prefill", "displayName"}
)
INPUT_TYPES: dict[str, frozenset[str]] = {
    "STRING": frozenset({"validator"}),
    "INT": frozenset({"min", "max"}),
    "FLOAT": frozenset({"min", "max"}),
    "BOOLEAN": frozenset(),
    "DATETIME": frozenset(),
    "DATE": frozenset(),
    "TIME": frozenset(),
    "DURATION": frozenset(),
    "JSON": frozenset(),
    "URI": frozenset(),
    "SELECT": frozenset({"values"}),
    "ARRAY": frozenset({"itemType"}),
    "FILE": frozenset(),
    "SECRET": frozenset(),
}
"""Input type -> the keys it accepts besides :data:`COMMON_INPUT_KEYS`."""

ITEM_TYPES = tuple(t for t in INPUT_TYPES if t not in ("ARRAY", "FILE", "SECRET", "SELECT"))
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
    raise _expected("BOOLEAN (true or false)", value)


def _datetime(value: Any, defn: InputDef) -> str:
    """An instant, normalized to UTC (``2024-01-31T10:00:00Z``); no offset means UTC."""
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
    return parsed.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _date(value: Any, defn: InputDef) -> str:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except (AttributeError, ValueError):
        raise _expected("DATE (ISO-8601, e.g. 2024-01-31)", value) from None


def _time(value: Any, defn: InputDef) -> str:
    if isinstance(value, time):
        return value.isoformat()
    try:
        return time.fromisoformat(value.strip()).isoformat()
    except (AttributeError, ValueError):
        raise _expected("TIME (ISO-8601, e.g. 10:30:00)", value) from None


def _duration(value: Any, defn: InputDef) -> str:
    """Normalized as Java prints durations (``PT1H30M``), which is how Kestra renders them."""
    parsed = value if isinstance(value, timedelta) else None
    if isinstance(value, str):
        parsed = parse_duration(value)
    if parsed is None:
        raise _expected("DURATION (ISO-8601, e.g. PT5M or P1DT2H)", value)
    return format_duration(parsed)


def _parse_json(text: str, what: str = "JSON") -> Any:
    try:
        return limits.load_json(text)
    except json.JSONDecodeError as exc:
        raise InputValueError(f"expected {what}, got {shown(text)} ({exc})") from None
    except limits.JsonLimitError as exc:
        raise InputValueError(str(exc)) from None


def _json(value: Any, defn: InputDef) -> Any:
    if not isinstance(value, str):
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            raise _expected("JSON", value) from None
        return value
    return _parse_json(value)


def _uri(value: Any, defn: InputDef) -> str:
    text = _text(value, "URI").strip()
    parts = urlsplit(text)
    if not parts.scheme or not (parts.netloc or parts.path) or " " in text:
        raise _expected("URI (e.g. https://example.com/data.csv)", value)
    return text


def _select(value: Any, defn: InputDef) -> str:
    text = _text(value, "SELECT")
    allowed = defn.values or []
    if text not in allowed:
        choices = ", ".join(f"'{v}'" for v in allowed)
        raise InputValueError(f"expected one of {choices}, got {shown(text)}")
    return text


def _array(value: Any, defn: InputDef) -> list[Any]:
    what = f"ARRAY of {defn.item_type} (a JSON list such as [1, 2])"
    items = _parse_json(value, what) if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise _expected(what, value)
    item_def = InputDef(id=defn.id, type=defn.item_type or "STRING")
    result = []
    for index, item in enumerate(items):
        try:
            result.append(coerce(item_def, item))
        except InputValueError as exc:
            raise InputValueError(f"item {index}: {exc}") from None
    return result


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
    "DATETIME": _datetime,
    "DATE": _date,
    "TIME": _time,
    "DURATION": _duration,
    "JSON": _json,
    "URI": _uri,
    "SELECT": _select,
    "ARRAY": _array,
    "FILE": _file,
    "SECRET": _secret,
}


def coerce(defn: InputDef, value: Any) -> Any:
    """The typed value of ``value`` for input ``defn``; a FILE given as a local path comes back
    as a :class:`~pathlib.Path` for the caller to upload. Raises :class:`InputValueError`."""
    return _COERCERS[defn.type](value, defn)
