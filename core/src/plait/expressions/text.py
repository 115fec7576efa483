"""How values print inside text, the way Kestra prints them.

Kestra writes maps and lists as JSON (so ``data = {{ outputs.api.body | jq('.x') }}`` pastes
a JSON document into a script), booleans as ``true``/``false`` and null as nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

from plait.expressions.budget import check_int, check_printable
from plait.expressions.javadate import java_text


def to_text(value: Any) -> str:
    """The text of a value printed by ``{{ }}`` or joined by ``~``."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping | list | tuple | set | frozenset):
        return to_json(value)
    if isinstance(value, date | time):
        return java_text(value)
    if isinstance(value, int):
        check_int(value)
    return str(value)


def to_json(value: Any) -> str:
    """Compact JSON, as Jackson writes it; dates become ISO-8601 strings. Checked against the
    render's size budget first, since a list repeating one large list prints far more than
    its length says."""
    check_printable(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def iso_text(value: date | time) -> str:
    """ISO-8601, with ``Z`` for UTC as Java's ``Instant`` prints it."""
    text = value.isoformat()
    return text[:-6] + "Z" if isinstance(value, datetime) and text.endswith("+00:00") else text


def _json_default(value: Any) -> Any:
    if isinstance(value, date | time):
        return iso_text(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)
