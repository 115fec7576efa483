"""Java ``DateTimeFormatter`` patterns, which Kestra's date filters take, in Python.

Flows written for Kestra say ``date("yyyy-MM-dd'T'HH:mm:ssXXX")``; strftime has no such
syntax (and no equivalent for several letters), so patterns are compiled here into a list of
fields and literals, formatted in English as Kestra's default locale does, and parsed with a
regular expression built from the same fields.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ORDINALS = ("1st", "2nd", "3rd", "4th")

FORMAT_LETTERS = frozenset("GuyYQqMLwdDEaHkKhmsSAnNVzOXxZ")
PARSE_LETTERS = frozenset("uyMLdDEaHkKhmsSnXxZV")


@dataclass(frozen=True, slots=True)
class Field:
    """A run of one pattern letter, e.g. ``yyyy`` is ``Field("y", 4)``."""

    letter: str
    count: int


OPTIONAL_START = "["
OPTIONAL_END = "]"


@dataclass(frozen=True, slots=True)
class Literal:
    """Text printed as-is (quoted in the pattern, or a non-letter)."""

    text: str


Element = Field | Literal | str
"""A field, a literal, or an optional-section bracket (``OPTIONAL_START``/``OPTIONAL_END``)."""


@functools.lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> tuple[Element, ...]:
    """Split a pattern into fields, literals and optional-section brackets.

    Raises ValueError for what Java refuses: unknown letters, reserved characters, unclosed
    quotes or sections.
    """
    elements: list[Element] = []
    depth = 0
    pos = 0
    while pos < len(pattern):
        char = pattern[pos]
        if char == "'":
            text, pos = read_quoted(pattern, pos)
            elements.append(Literal(text))
            continue
        if char.isascii() and char.isalpha():
            end = pos
            while end < len(pattern) and pattern[end] == char:
                end += 1
            if char not in FORMAT_LETTERS:
                raise ValueError(f"unknown pattern letter '{char}' in '{pattern}'")
            elements.append(Field(char, end - pos))
            pos = end
            continue
        if char in "{}#":
            raise ValueError(f"reserved character '{char}' in '{pattern}'")
        if char == OPTIONAL_START:
            depth += 1
        elif char == OPTIONAL_END:
            if not depth:
                raise ValueError(f"']' without '[' in '{pattern}'")
            depth -= 1
        elements.append(char if char in "[]" else Literal(char))
        pos += 1
    if depth:
        raise ValueError(f"'[' without ']' in '{pattern}'")
    return tuple(elements)


def read_quoted(pattern: str, pos: int) -> tuple[str, int]:
    """Text of the quoted literal starting at ``pos`` (``''`` is a quote), and where it ends;
    Java's date and number patterns quote alike."""
    if pattern.startswith("''", pos):
        return "'", pos + 2
    text = []
    pos += 1
    while pos < len(pattern):
        if pattern[pos] == "'":
            if not pattern.startswith("''", pos):
                return "".join(text), pos + 1
            text.append("'")
            pos += 2
        else:
            text.append(pattern[pos])
            pos += 1
    raise ValueError(f"unclosed quote in '{pattern}'")


# --- formatting ---------------------------------------------------------------------------


def format_datetime(value: datetime, pattern: str) -> str:
    """Format an aware datetime with a Java pattern (optional sections always print)."""
    out = []
    for element in compile_pattern(pattern):
        if isinstance(element, Literal):
            out.append(element.text)
        elif isinstance(element, Field):
            out.append(_format_field(value, element))
    return "".join(out)


def _number(value: int, count: int) -> str:
    return str(value).zfill(count)


def _text(name: str, count: int) -> str:
    """Java's text styles: 1-3 letters short, 4 full, 5 narrow."""
    return name[:3] if count <= 3 else name if count == 4 else name[0]


def _format_field(value: datetime, field: Field) -> str:
    letter, count = field.letter, field.count
    if letter in "yuY":
        year = value.isocalendar().year if letter == "Y" else value.year
        return _number(year % 100, 2) if count == 2 else _number(year, count)
    if letter in "ML":
        return _number(value.month, count) if count <= 2 else _text(MONTHS[value.month - 1], count)
    if letter in "Qq":
        quarter = (value.month - 1) // 3 + 1
        if count <= 2:
            return _number(quarter, count)
        return {3: f"Q{quarter}", 4: f"{ORDINALS[quarter - 1]} quarter"}.get(count, str(quarter))
    if letter == "E":
        return _text(DAYS[value.weekday()], count)
    if letter == "G":
        return {4: "Anno Domini", 5: "A"}.get(count, "AD")
    if letter == "a":
        return "AM" if value.hour < 12 else "PM"
    if letter == "S":
        return f"{value.microsecond:06d}000"[:count].ljust(count, "0")
    if letter in "VzOXxZ":
        return _format_zone(value, letter, count)
    return _number(_NUMERIC_FIELDS[letter](value), count)


_NUMERIC_FIELDS: dict[str, Callable[[datetime], int]] = {
    "w": lambda v: v.isocalendar().week,
    "d": lambda v: v.day,
    "D": lambda v: v.timetuple().tm_yday,
    "H": lambda v: v.hour,
    "k": lambda v: v.hour or 24,
    "K": lambda v: v.hour % 12,
    "h": lambda v: v.hour % 12 or 12,
    "m": lambda v: v.minute,
    "s": lambda v: v.second,
    "A": lambda v: ((v.hour * 60 + v.minute) * 60 + v.second) * 1000 + v.microsecond // 1000,
    "n": lambda v: v.microsecond * 1000,
    "N": lambda v: (((v.hour * 60 + v.minute) * 60 + v.second) * 10**6 + v.microsecond) * 1000,
}


def _format_zone(value: datetime, letter: str, count: int) -> str:
    offset = value.utcoffset() or timedelta()
    if letter == "V":
        return zone_id(value.tzinfo, offset)
    if letter == "z":
        return value.tzname() or format_offset(offset, colon=True, zero="Z")
    if letter == "O":
        return "GMT" + format_offset(offset, colon=True, zero="", short=count == 1)
    if letter == "Z":
        if count == 4:
            return "GMT" + format_offset(offset, colon=True, zero="")
        return format_offset(offset, colon=count == 5, zero="Z" if count == 5 else "+0000")
    zero = "Z" if letter == "X" else None
    if count == 1:
        return format_offset(offset, colon=False, zero=zero, hours_only=True)
    return format_offset(offset, colon=count in (3, 5), zero=zero, seconds=count >= 4)


def format_offset(
    offset: timedelta,
    *,
    colon: bool,
    zero: str | None,
    hours_only: bool = False,
    seconds: bool = False,
    short: bool = False,
) -> str:
    """``+01:00``-style offsets; ``zero`` replaces a zero offset when given."""
    total = int(offset.total_seconds())
    if total == 0 and zero is not None:
        return zero
    sign = "-" if total < 0 else "+"
    hours, rest = divmod(abs(total), 3600)
    minutes, secs = divmod(rest, 60)
    sep = ":" if colon else ""
    if short:
        return f"{sign}{hours}" + (f":{minutes:02d}" if minutes or secs else "")
    text = f"{sign}{hours:02d}"
    if not hours_only or minutes:
        text += f"{sep}{minutes:02d}"
    if seconds and secs:
        text += f"{sep}{secs:02d}"
    return text


def zone_id(zone: tzinfo | None, offset: timedelta) -> str:
    """Java's ``ZoneId`` text: a region name, or ``Z``/``+01:00`` for fixed offsets."""
    if isinstance(zone, ZoneInfo):
        return zone.key
    return format_offset(offset, colon=True, zero="Z")


# --- named formats --------------------------------------------------------------------------


def _iso_time(value: datetime) -> str:
    text = value.strftime("%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    return text


def _offset(value: datetime) -> str:
    return format_offset(value.utcoffset() or timedelta(), colon=True, zero="Z")


def _region(value: datetime) -> str:
    return f"[{value.tzinfo.key}]" if isinstance(value.tzinfo, ZoneInfo) else ""


def _iso_instant(value: datetime) -> str:
    utc = value.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        digits = f"{utc.microsecond:06d}"
        text += "." + (digits[:3] if digits.endswith("000") else digits)
    return text + "Z"


def _rfc_1123(value: datetime) -> str:
    offset = format_offset(value.utcoffset() or timedelta(), colon=False, zero="GMT")
    return format_datetime(value, "EEE, d MMM yyyy HH:mm:ss ") + offset


def _with_pattern(pattern: str) -> Callable[[datetime], str]:
    return lambda value: format_datetime(value, pattern)


PATTERN_FORMATS = {
    "iso": "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX",
    "iso_sec": "yyyy-MM-dd'T'HH:mm:ssXXX",
    "sql": "yyyy-MM-dd HH:mm:ss.SSSSSS",
    "sql_seq": "yyyy-MM-dd HH:mm:ss",
}
"""Kestra's own named formats, which are patterns."""

NAMED_FORMATS: dict[str, Callable[[datetime], str]] = {
    **{name: _with_pattern(pattern) for name, pattern in PATTERN_FORMATS.items()},
    "iso_date_time": lambda v: f"{v.date().isoformat()}T{_iso_time(v)}{_offset(v)}{_region(v)}",
    "iso_zoned_date_time": lambda v: (
        f"{v.date().isoformat()}T{_iso_time(v)}{_offset(v)}{_region(v)}"
    ),
    "iso_offset_date_time": lambda v: f"{v.date().isoformat()}T{_iso_time(v)}{_offset(v)}",
    "iso_local_date_time": lambda v: f"{v.date().isoformat()}T{_iso_time(v)}",
    "iso_date": lambda v: v.date().isoformat() + _offset(v),
    "iso_local_date": lambda v: v.date().isoformat(),
    "iso_time": lambda v: _iso_time(v) + _offset(v),
    "iso_offset_time": lambda v: _iso_time(v) + _offset(v),
    "iso_local_time": _iso_time,
    "iso_instant": _iso_instant,
    "iso_ordinal_date": lambda v: format_datetime(v, "yyyy-DDD") + _offset(v),
    "iso_week_date": lambda v: (
        f"{v.isocalendar().year:04d}-W{v.isocalendar().week:02d}-{v.isoweekday()}{_offset(v)}"
    ),
    "rfc_1123_date_time": _rfc_1123,
}
"""The names Kestra accepts in place of a pattern (``date('iso')``); ``iso`` is the default."""


def java_text(value: date | time) -> str:
    """A date value as Java's ``toString`` prints it, which is how Kestra prints a date in text.

    An instant in UTC prints as ``Instant`` does (``2024-03-05T14:07:09Z``, seconds always);
    another zoned date-time as ``ZonedDateTime`` does, seconds left out when zero
    (``2013-09-08T16:19+02:00``) and a region zone named after it (``[Europe/Paris]``); a
    local date or time without a zone. Fractions of a second print in groups of three digits.
    """
    if isinstance(value, datetime):
        offset = value.utcoffset()
        if offset is None:
            return f"{value.date().isoformat()}T{_local_time(value)}"
        if not offset and not _is_region(value.tzinfo):
            return f"{value.strftime('%Y-%m-%dT%H:%M:%S')}{_fraction(value.microsecond)}Z"
        return f"{value.date().isoformat()}T{_local_time(value)}{_offset(value)}{_region(value)}"
    if isinstance(value, time):
        offset = value.utcoffset()
        zone = "" if offset is None else format_offset(offset, colon=True, zero="Z")
        return _local_time(value) + zone
    return value.isoformat()


def _local_time(value: datetime | time) -> str:
    """Java's ``LocalTime.toString``: ``HH:mm``, then ``:ss`` and the fraction when not zero."""
    text = f"{value.hour:02d}:{value.minute:02d}"
    if value.second or value.microsecond:
        text += f":{value.second:02d}{_fraction(value.microsecond)}"
    return text


def _fraction(micros: int) -> str:
    if not micros:
        return ""
    return f".{micros // 1000:03d}" if micros % 1000 == 0 else f".{micros:06d}"


def _is_region(zone: tzinfo | None) -> bool:
    return isinstance(zone, ZoneInfo) and zone.key not in ("UTC", "Etc/UTC", "Z")


def format_named_or_pattern(value: datetime, spec: str) -> str:
    """Format with a named format (``iso``, ``sql``...) or else a pattern."""
    named = NAMED_FORMATS.get(spec)
    return named(value) if named else format_datetime(value, spec)


# --- parsing --------------------------------------------------------------------------------


_OFFSET_RE = r"Z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?"


@functools.lru_cache(maxsize=256)
def _parser(pattern: str) -> re.Pattern[str]:
    parts = []
    for index, element in enumerate(compile_pattern(pattern)):
        if isinstance(element, Literal):
            parts.append(re.escape(element.text))
        elif element == OPTIONAL_START:
            parts.append("(?:")
        elif element == OPTIONAL_END:
            parts.append(")?")
        elif isinstance(element, Field):
            parts.append(f"(?P<{element.letter}{index}>{_field_regex(element)})")
    return re.compile("".join(parts), re.IGNORECASE)


def _field_regex(field: Field) -> str:
    letter, count = field.letter, field.count
    if letter not in PARSE_LETTERS:
        raise ValueError(f"pattern letter '{letter}' cannot be used to read a date")
    if letter in "ML" and count >= 3:
        return "|".join(_text(month, count) for month in MONTHS)
    if letter == "E":
        return "|".join(_text(day, count) for day in DAYS)
    if letter == "a":
        return "AM|PM"
    if letter in "XxZ":
        return _OFFSET_RE
    if letter == "V":
        return r"[A-Za-z][A-Za-z0-9_/+\-]*|" + _OFFSET_RE
    if letter in "yu" and count == 2:
        return r"\d{2}"
    if letter == "S":
        return rf"\d{{{count}}}"
    return r"\d+" if count == 1 else rf"\d{{{count}}}"


def parse_datetime(text: str, pattern: str, zone: tzinfo | None) -> datetime:
    """Read ``text`` written with a Java pattern; fields it lacks default to the start of
    their unit, and ``zone`` (None: the system's) applies when it names no offset."""
    match = _parser(pattern).fullmatch(text.strip())
    if match is None:
        raise ValueError(f"'{text}' does not match the date pattern '{pattern}'")
    parts: dict[str, str] = {}
    for key, found in match.groupdict().items():
        if found is not None:
            parts[key[0]] = found
    year = int(parts.get("y") or parts.get("u") or 1970)
    if len(parts.get("y") or parts.get("u") or "") == 2:
        year += 2000
    month = _month(parts.get("M") or parts.get("L") or "1")
    hour = int(parts.get("H") or parts.get("k") or 0) % 24
    if "h" in parts or "K" in parts:
        hour = int(parts.get("h") or parts.get("K") or 0) % 12
        if parts.get("a", "AM").upper() == "PM":
            hour += 12
    micros = int(parts.get("S", "0").ljust(6, "0")[:6]) or int(parts.get("n", "0")) // 1000
    if "D" in parts:
        day = date(year, 1, 1) + timedelta(days=int(parts["D"]) - 1)
    else:
        day = date(year, month, int(parts.get("d", 1)))
    clock = time(hour, int(parts.get("m", 0)), int(parts.get("s", 0)), micros)
    naive = datetime.combine(day, clock)
    found_zone = next((parts[k] for k in "XxZV" if k in parts), None)
    if found_zone is not None:
        return naive.replace(tzinfo=parse_zone(found_zone))
    return naive.replace(tzinfo=zone) if zone is not None else naive.astimezone()


def _month(text: str) -> int:
    if text.isdigit():
        return int(text)
    return next(i for i, name in enumerate(MONTHS, 1) if name.lower().startswith(text.lower()))


_RFC_1123 = re.compile(
    r"(?:[A-Za-z]{3},\s*)?(?P<day>\d{1,2}) (?P<month>[A-Za-z]{3}) (?P<year>\d{4}) "
    r"(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))? (?P<zone>GMT|[+-]\d{4})"
)


def parse_rfc_1123(text: str) -> datetime:
    """Read an RFC 1123 date (``Tue, 3 Jun 2008 11:05:30 GMT``), as Java's
    ``RFC_1123_DATE_TIME`` does: the day of the week and the seconds are optional."""
    match = _RFC_1123.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            f"'{text}' is not an RFC 1123 date (such as 'Tue, 3 Jun 2008 11:05:30 GMT')"
        )
    zone = match["zone"]
    offset = UTC if zone == "GMT" else parse_zone(f"{zone[:3]}:{zone[3:]}")
    return datetime(
        int(match["year"]),
        _month(match["month"]),
        int(match["day"]),
        int(match["hour"]),
        int(match["minute"]),
        int(match["second"] or 0),
        tzinfo=offset,
    )


_FIXED_OFFSET = re.compile(r"([+-])(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?")


def parse_zone(text: str) -> tzinfo:
    """Java's ``ZoneId.of``: ``Z``, ``UTC``, ``+01:00``, ``GMT+2`` or a region such as
    ``Europe/Paris``. Raises ValueError for an unknown zone."""
    name = text.strip()
    if name.upper() in ("Z", "UTC", "GMT", "UT"):
        return UTC
    for prefix in ("UTC", "GMT", "UT"):
        if name.upper().startswith(prefix) and name[len(prefix) : len(prefix) + 1] in "+-":
            name = name[len(prefix) :]
            break
    fixed = _FIXED_OFFSET.fullmatch(name)
    if fixed:
        sign, hours, minutes, seconds = fixed.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes or 0), seconds=int(seconds or 0))
        if delta > timedelta(hours=18):
            raise ValueError(f"time zone offset '{text}' is out of range")
        return timezone(-delta if sign == "-" else delta)
    try:
        return ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        raise ValueError(f"unknown time zone '{text}'") from None
