"""The KV store's model and rules, shared by the tasks, the ``kv()`` function, ``plait kv`` and
the server: which keys are valid (Kestra's pattern), how a value is typed, when it expires.

Values are stored as JSON with their Kestra type (STRING, NUMBER, BOOLEAN, DATETIME, DATE,
DURATION, JSON), so a date stays a date for the API even though it is ISO text in JSON.
An expired value reads as missing; its row is dropped the next time its namespace is written.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from plait_sdk.kv import KV_TYPES, KVMissing

from plait.durations import parse_duration
from plait.errors import ConflictError, PlaitError
from plait.state.model import utcnow

if TYPE_CHECKING:
    from plait.state.repository import ExecutionRepository

KEY_PATTERN = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9._-]*")
"""Kestra's rule for KV keys: a letter or digit first, then letters, digits, ``.``, ``_``, ``-``."""


class KVKeyError(PlaitError):
    """A key that breaks :data:`KEY_PATTERN` (the server answers 422)."""


@dataclass
class KVEntry:
    """One stored value and its metadata (dates are aware UTC datetimes)."""

    namespace: str
    key: str
    value: Any
    type: str
    created: dt.datetime
    updated: dt.datetime
    expires: dt.datetime | None = None

    def expired(self, now: dt.datetime | None = None) -> bool:
        return self.expires is not None and self.expires <= (now or utcnow())

    def to_document(self) -> dict[str, Any]:
        """Kestra's ``KVEntry``, as its API lists keys."""
        return {
            "key": self.key,
            "creationDate": _instant(self.created),
            "updateDate": _instant(self.updated),
            "expirationDate": None if self.expires is None else _instant(self.expires),
        }


def _instant(value: dt.datetime) -> str:
    """Milliseconds and a ``Z``, as Java prints an ``Instant`` truncated to milliseconds."""
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def check_key(key: Any) -> str:
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        raise KVKeyError(
            f"invalid KV key {json.dumps(key, default=str)}: a key starts with a letter or a "
            "digit and holds only letters, digits, '.', '_' and '-'"
        )
    return key


def missing(namespace: str, key: str, entry: KVEntry | None = None) -> KVMissing:
    """The error for a key without a live value, saying whether it expired (``entry`` is the
    expired one, None when nothing is stored)."""
    why = "expired" if entry is not None else "is not set"
    return KVMissing(f"KV key '{key}' in namespace '{namespace}' {why}")


def infer_type(value: Any) -> str:
    """The Kestra type of a JSON value; text that is an ISO duration reads as DURATION, as
    Kestra reads it back."""
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int | float):
        return "NUMBER"
    if isinstance(value, str):
        return "DURATION" if value.startswith("P") and parse_duration(value) else "STRING"
    return "JSON"


def _number(text: str) -> int | float:
    number = parse_text(text)
    if isinstance(number, bool) or not isinstance(number, int | float):
        raise ValueError("expected a number such as 42 or 1.5")
    return number


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ValueError(f"expected JSON ({exc})") from None


def _input_type(kind: str) -> Callable[[str], Any]:
    """Text read as an input of type ``kind`` is (normalized ISO-8601)."""

    def parse(text: str) -> Any:
        from plait.flows.input_types import coerce  # the flows package is heavy to import
        from plait.flows.model import InputDef

        return coerce(InputDef(id="value", type=kind), text)

    return parse


_FROM_TEXT: dict[str, Callable[[str], Any]] = {
    "NUMBER": _number,
    "BOOLEAN": lambda text: text.strip().lower() == "true",  # as Java's parseBoolean
    "DATETIME": _input_type("DATETIME"),
    "DATE": _input_type("DATE"),
    "DURATION": _input_type("DURATION"),
    "JSON": _json,
}


def typed_value(value: Any, kv_type: str | None) -> tuple[Any, str]:
    """The value to store and its type: text is parsed as ``kv_type`` says (the Set task's
    ``kvType``, the CLI's ``--type``); any other value keeps its own type."""
    if kv_type is not None and kv_type not in KV_TYPES:
        raise PlaitError(f"unknown KV type '{kv_type}' (one of {', '.join(KV_TYPES)})")
    if kv_type is None or kv_type == "STRING" or not isinstance(value, str):
        return value, kv_type or infer_type(value)
    try:
        return _FROM_TEXT[kv_type](value), kv_type
    except ValueError as exc:  # InputValueError is a ValueError
        raise PlaitError(f"the value '{value}' is not a valid {kv_type}: {exc}") from None


def parse_text(text: str) -> Any:
    """A value typed at a prompt or sent to the API: JSON when it parses (``1``, ``true``,
    ``{"a": 1}``, ``"quoted"``), otherwise the text itself (``hello``)."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def value_from_text(text: str) -> tuple[Any, str]:
    """A value given as text (``plait kv set``, the API's PUT) and its type, as Kestra reads
    such text: JSON when it parses; else an unquoted ISO date or instant (``2024-01-31``,
    ``2024-01-31T10:00:00Z``) is a DATE or DATETIME; else it is the text itself."""
    value = parse_text(text)
    if value is not text:
        return value, infer_type(value)
    for kind in ("DATE", "DATETIME"):
        try:
            return _input_type(kind)(text), kind
        except ValueError:
            continue
    return text, infer_type(text)


def parse_ttl(text: str) -> dt.timedelta:
    """A ``ttl`` written as text (``plait kv set --ttl``, the API's ``ttl`` header)."""
    duration = parse_duration(text)
    if duration is None:
        raise PlaitError(f"expected an ISO-8601 duration such as PT1H or P7D, got {text!r}")
    return duration


def storable(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise PlaitError(f"a KV value must be JSON (text, numbers, lists, maps): {exc}") from None


class NamespaceKV:
    """The :class:`plait_sdk.kv.KVStore` of one namespace, on the execution repository."""

    def __init__(self, repository: ExecutionRepository, namespace: str) -> None:
        self._repository = repository
        self.namespace = namespace

    def entry(self, key: str) -> KVEntry | None:
        """The stored entry, even expired (None when nothing is stored)."""
        return self._repository.kv_get(self.namespace, check_key(key))

    def get(self, key: str) -> Any:
        entry = self.entry(key)
        if entry is None or entry.expired():
            raise missing(self.namespace, key, entry)
        return entry.value

    def put(
        self,
        key: str,
        value: Any,
        *,
        ttl: dt.timedelta | None = None,
        overwrite: bool = True,
        kv_type: str | None = None,
    ) -> None:
        check_key(key)
        if ttl is not None and ttl.total_seconds() < 0:
            raise PlaitError(f"KV key '{key}': the ttl cannot be negative")
        stored, kind = typed_value(value, kv_type)
        expires = None if ttl is None else utcnow() + ttl
        if not self._repository.kv_put(
            self.namespace, key, stored, kind, expires=expires, overwrite=overwrite
        ):
            raise ConflictError(
                f"KV key '{key}' in namespace '{self.namespace}' already holds a value and "
                "overwrite is false"
            )

    def delete(self, key: str) -> bool:
        return self._repository.kv_delete(self.namespace, check_key(key))

    def entries(self) -> list[KVEntry]:
        """The entries that have not expired, by key."""
        return self._repository.kv_list(self.namespace)

    def keys(self, prefix: str | None = None) -> list[str]:
        return [e.key for e in self.entries() if prefix is None or e.key.startswith(prefix)]


def shown_date(value: dt.datetime | None) -> str:
    """A date for tables, to the second (``never`` for an entry that does not expire)."""
    return "never" if value is None else value.isoformat(timespec="seconds")
