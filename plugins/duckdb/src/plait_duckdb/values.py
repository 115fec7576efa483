"""DuckDB values as JSON values, for the ``row`` and ``rows`` outputs.

Outputs are stored as JSON and read back by expressions, so each value must survive that trip
unchanged: temporal values become ISO 8601 strings, and DECIMAL values become strings holding
every digit (``"12.50"``). A JSON number would be read back as a binary float by the engine's
JSON stack and by most consumers, silently turning an exact amount into an approximation; a
string is exact everywhere and still renders the same in a template.
"""

from __future__ import annotations

import base64
import datetime
import json
import math
import uuid
from decimal import Decimal
from typing import Any

NON_FINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}
MICROS_PER_DAY = 86_400_000_000


def json_safe(value: Any) -> Any:
    """``value`` as fetched by the DuckDB Python client, as a plain JSON value."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else NON_FINITE[value]
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return iso_duration(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {_key(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return str(value)


def _key(key: Any) -> str:
    """MAP keys may be numbers or dates; JSON object keys are strings."""
    safe = json_safe(key)
    return safe if isinstance(safe, str) else json.dumps(safe)


def iso_duration(delta: datetime.timedelta) -> str:
    """An INTERVAL as an ISO 8601 duration (``P1DT30S``); DuckDB's months arrive as 30 days."""
    micros = delta // datetime.timedelta(microseconds=1)
    sign = "-" if micros < 0 else ""
    days, rest = divmod(abs(micros), MICROS_PER_DAY)
    text = f"{sign}P{days}D" if days else f"{sign}P"
    if rest or not days:
        seconds = Decimal(rest).scaleb(-6).normalize()
        text += f"T{seconds:f}S"
    return text


def record(columns: list[str], values: tuple[Any, ...]) -> dict[str, Any]:
    return {name: json_safe(value) for name, value in zip(columns, values, strict=True)}
