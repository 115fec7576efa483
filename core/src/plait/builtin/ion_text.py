"""Amazon Ion text, as Kestra's ``toIon`` filter writes it and its ``fromIon`` function reads it.

Kestra stores task results in Ion files, so flows read them with ``fromIon(read(uri))``. The
whole text format is read: typed nulls, integers in any base, decimals, floats, timestamps,
strings and long strings, symbols, blobs and clobs, lists, s-expressions, structs, annotations
and comments. Values map to what JSON has, as Kestra's reader does: symbols are text, decimals
numbers, blobs their base64 text; timestamps and the date values Kestra writes as annotated
text (``ZonedDateTime::"2013-09-08T16:19:00+02:00"``) become dates.

Writing is compact, as Kestra's writer is: ``{name:"x",list:[1,2.5e0]}``; dates are written
the way Kestra writes the matching Java types.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from plait.expressions.javadate import NAMED_FORMATS
from plait.expressions.temporal import to_datetime

_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_KEYWORDS = frozenset({"null", "true", "false", "nan"})
_OPERATOR = re.compile(r"[!#%&*+\-./;<=>?@^`|~]+")
_NUMBER = re.compile(
    r"[+-]?(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|inf|"
    r"(?:\d[\d_]*)(?:\.[\d_]*)?(?:[eEdD][+-]?\d+)?)"
)
_TIMESTAMP = re.compile(
    r"(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2}))?)?T?"
    r"(?:(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d+))?)?"
    r"(?P<offset>Z|[+-]\d{2}:\d{2}))?"
)
_STOP = frozenset(" \t\n\r\f\v,:[](){}'\"/")
_ESCAPES = {
    "0": "\0",
    "a": "\a",
    "b": "\b",
    "t": "\t",
    "n": "\n",
    "f": "\f",
    "r": "\r",
    "v": "\v",
    '"': '"',
    "'": "'",
    "?": "?",
    "\\": "\\",
    "/": "/",
    "\n": "",
}
_TYPED_STRINGS = {
    "Instant",
    "OffsetDateTime",
    "ZonedDateTime",
    "LocalDateTime",
    "LocalDate",
    "OffsetTime",
    "LocalTime",
}


class IonError(ValueError):
    """Text that is not valid Ion."""


# --- reading --------------------------------------------------------------------------------


def loads(text: str) -> Any:
    """The first value of an Ion text (null for a text holding none)."""
    reader = _Reader(text)
    reader.skip_space()
    if reader.at_end():
        return None
    return reader.value()


def values(text: str) -> Iterator[Any]:
    """Each top-level value of an Ion text in turn (a stored result file holds one a line);
    raises IonError where the text stops being Ion."""
    reader = _Reader(text)
    while True:
        reader.skip_space()
        if reader.at_end():
            return
        yield reader.value()


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, what: str) -> IonError:
        line = self.text.count("\n", 0, self.pos) + 1
        return IonError(f"invalid Ion at line {line}: {what}")

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self, size: int = 1) -> str:
        return self.text[self.pos : self.pos + size]

    def skip_space(self) -> None:
        while not self.at_end():
            if self.text[self.pos].isspace():
                self.pos += 1
            elif self.peek(2) == "//":
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end + 1
            elif self.peek(2) == "/*":
                end = self.text.find("*/", self.pos + 2)
                if end < 0:
                    raise self.fail("unterminated comment")
                self.pos = end + 2
            else:
                return

    def value(self, in_sexp: bool = False) -> Any:
        annotations = []
        while True:
            self.skip_space()
            start = self.pos
            symbol = self._symbol_or_none()
            self.skip_space()
            if symbol is not None and self.peek(2) == "::":
                self.pos += 2
                annotations.append(symbol)
                continue
            self.pos = start
            break
        found = self._bare_value(in_sexp)
        typed = next((name for name in annotations if name in _TYPED_STRINGS), None)
        return _typed(typed, found) if typed and isinstance(found, str) else found

    def _symbol_or_none(self) -> str | None:
        if self.peek() == "'" and self.peek(3) != "'''":
            return self._quoted("'")
        match = _IDENTIFIER.match(self.text, self.pos)
        if match is None or match.group() in _KEYWORDS:
            return None
        self.pos = match.end()
        return match.group()

    def _bare_value(self, in_sexp: bool) -> Any:
        self.skip_space()
        if self.at_end():
            raise self.fail("a value is missing")
        char = self.peek()
        if char == "{":
            return self._lob() if self.peek(2) == "{{" else self._struct()
        if char == "[":
            return self._sequence("]", in_sexp=False)
        if char == "(":
            return self._sequence(")", in_sexp=True)
        if char == '"':
            return self._quoted('"')
        if self.peek(3) == "'''":
            return self._long_strings()
        if char == "'":
            return self._quoted("'")
        return self._atom(in_sexp)

    def _atom(self, in_sexp: bool) -> Any:
        timestamp = _TIMESTAMP.match(self.text, self.pos)
        if (
            timestamp is not None
            and self._ends_at(timestamp.end())
            and ("T" in timestamp.group() or timestamp.group("day"))
        ):
            self.pos = timestamp.end()
            return _timestamp(timestamp)
        number = _NUMBER.match(self.text, self.pos)
        if number and self._ends_at(number.end()):
            self.pos = number.end()
            return _number(number.group(), self)
        word = _IDENTIFIER.match(self.text, self.pos)
        if word:
            self.pos = word.end()
            return self._keyword(word.group())
        if in_sexp and (operator := _OPERATOR.match(self.text, self.pos)):
            self.pos = operator.end()
            return operator.group()
        raise self.fail(f"unexpected {self.peek()!r}")

    def _ends_at(self, end: int) -> bool:
        return end >= len(self.text) or self.text[end] in _STOP

    def _keyword(self, word: str) -> Any:
        if word == "null":
            if self.peek() == "." and (typed := _IDENTIFIER.match(self.text, self.pos + 1)):
                self.pos = typed.end()
            return None
        if word in ("true", "false"):
            return word == "true"
        if word == "nan":
            return math.nan
        return word

    def _quoted(self, quote: str) -> str:
        self.pos += 1
        out = []
        while True:
            if self.at_end():
                raise self.fail("unterminated text")
            char = self.text[self.pos]
            if char == quote:
                self.pos += 1
                return "".join(out)
            if char == "\\":
                out.append(self._escape())
            elif char == "\n" and quote == '"':
                raise self.fail("a line break inside a short string")
            else:
                out.append(char)
                self.pos += 1

    def _escape(self) -> str:
        code = self.text[self.pos + 1 : self.pos + 2]
        if code in _ESCAPES:
            self.pos += 2
            return _ESCAPES[code]
        width = {"x": 2, "u": 4, "U": 8}.get(code)
        digits = self.text[self.pos + 2 : self.pos + 2 + width] if width else ""
        if (
            not width
            or len(digits) != width
            or not all(c in "0123456789abcdefABCDEF" for c in digits)
        ):
            raise self.fail(f"invalid escape \\{code}")
        self.pos += 2 + width
        return chr(int(digits, 16))

    def _long_strings(self) -> str:
        parts = []
        while self.peek(3) == "'''":
            self.pos += 3
            while self.peek(3) != "'''":
                if self.at_end():
                    raise self.fail("unterminated long string")
                if self.peek() == "\\":
                    parts.append(self._escape())
                else:
                    parts.append(self.peek())
                    self.pos += 1
            self.pos += 3
            self.skip_space()
        return "".join(parts)

    def _lob(self) -> str:
        end = self.text.find("}}", self.pos + 2)
        if end < 0:
            raise self.fail("unterminated blob")
        content = self.text[self.pos + 2 : end].strip()
        self.pos = end + 2
        if content.startswith(('"', "'''")):
            inner = _Reader(content)
            return inner._quoted('"') if content.startswith('"') else inner._long_strings()
        try:
            base64.b64decode("".join(content.split()), validate=True)
        except ValueError:
            raise self.fail("invalid base64 in a blob") from None
        return "".join(content.split())

    def _sequence(self, closer: str, *, in_sexp: bool) -> list[Any]:
        self.pos += 1
        items: list[Any] = []
        while True:
            self.skip_space()
            if self.peek() == closer:
                self.pos += 1
                return items
            if self.at_end():
                raise self.fail(f"missing '{closer}'")
            items.append(self.value(in_sexp))
            self.skip_space()
            if not in_sexp:
                if self.peek() == ",":
                    self.pos += 1
                elif self.peek() != closer:
                    raise self.fail(f"expected ',' or '{closer}'")

    def _struct(self) -> dict[str, Any]:
        self.pos += 1
        fields: dict[str, Any] = {}
        while True:
            self.skip_space()
            if self.peek() == "}":
                self.pos += 1
                return fields
            if self.at_end():
                raise self.fail("missing '}'")
            name = self._field_name()
            self.skip_space()
            if self.peek() != ":":
                raise self.fail(f"expected ':' after the field '{name}'")
            self.pos += 1
            fields[name] = self.value()
            self.skip_space()
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != "}":
                raise self.fail("expected ',' or '}'")

    def _field_name(self) -> str:
        if self.peek() == '"':
            return self._quoted('"')
        if self.peek(3) == "'''":
            return self._long_strings()
        name = self._symbol_or_none()
        if name is None:
            word = _IDENTIFIER.match(self.text, self.pos)
            if word is None:
                raise self.fail("a field name is missing")
            self.pos = word.end()
            return word.group()
        return name


def _number(text: str, reader: _Reader) -> int | float:
    clean = text.replace("_", "")
    lower = clean.lower()
    try:
        if lower in ("+inf", "-inf"):
            return math.inf if lower[0] == "+" else -math.inf
        if "0x" in lower or "0b" in lower:
            sign = -1 if clean.startswith("-") else 1
            digits = lower.lstrip("+-")
            return sign * int(digits[2:], 16 if digits[1] == "x" else 2)
        if "." not in clean and not any(c in lower for c in "ed"):
            return int(clean)
        return float(lower.replace("d", "e"))
    except ValueError:
        raise reader.fail(f"invalid number '{text}'") from None


def _timestamp(match: re.Match[str]) -> date | datetime:
    parts = match.groupdict()
    if parts["hour"] is None:
        return date(int(parts["year"]), int(parts["month"] or 1), int(parts["day"] or 1))
    offset = parts["offset"]
    zone = UTC if offset in ("Z", "+00:00", "-00:00") else _fixed(offset)
    fraction = (parts["fraction"] or "").ljust(6, "0")[:6]
    return datetime(
        int(parts["year"]),
        int(parts["month"]),
        int(parts["day"]),
        int(parts["hour"]),
        int(parts["minute"]),
        int(parts["second"] or 0),
        int(fraction),
        tzinfo=zone,
    )


def _fixed(offset: str) -> timezone:
    hours, minutes = int(offset[1:3]), int(offset[4:6])
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if offset[0] == "-" else delta)


def _typed(annotation: str, text: str) -> Any:
    """The date value Kestra wrote as text annotated with its Java type."""
    try:
        if annotation == "LocalDate":
            return date.fromisoformat(text)
        if annotation in ("LocalTime", "OffsetTime"):
            return time.fromisoformat(text.replace("Z", "+00:00"))
        if annotation == "LocalDateTime":
            return datetime.fromisoformat(text)
        return to_datetime(text, UTC)
    except ValueError:
        return text


# --- writing --------------------------------------------------------------------------------


def dumps(value: Any) -> str:
    """``value`` as compact Ion text."""
    out: list[str] = []
    _write(value, out)
    return "".join(out)


def _write(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif isinstance(value, bool):
        out.append("true" if value else "false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(_float(value))
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, Mapping):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            out.append(("," if index else "") + _symbol(str(key)) + ":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, list | tuple | set | frozenset):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    elif isinstance(value, date | time):
        out.append(_date(value))
    else:
        out.append(_string(str(value)))


def _float(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "+inf" if value > 0 else "-inf"
    mantissa, _, exponent = repr(value).partition("e")
    return f"{mantissa}e{int(exponent or 0)}"


def _string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _symbol(name: str) -> str:
    if _IDENTIFIER.fullmatch(name) and name not in _KEYWORDS:
        return name
    return "'" + _string(name)[1:-1].replace('\\"', '"').replace("'", "\\'") + "'"


def _date(value: date | time) -> str:
    """Dates as Kestra writes the matching Java types: an instant (UTC) or a date as an Ion
    timestamp, other date-times and times as text annotated with their type."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return "LocalDateTime::" + _string(NAMED_FORMATS["iso_local_date_time"](value))
        if not value.utcoffset() and not isinstance(value.tzinfo, ZoneInfo):
            utc = value.astimezone(UTC)
            return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
        return "ZonedDateTime::" + _string(NAMED_FORMATS["iso_zoned_date_time"](value))
    if isinstance(value, time):
        kind = "LocalTime" if value.tzinfo is None else "OffsetTime"
        return f"{kind}::" + _string(value.isoformat())
    return value.isoformat()
