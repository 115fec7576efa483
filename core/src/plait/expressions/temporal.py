"""Dates as Kestra's date filters see them: what can be read as a date, in which time zone,
and how ``dateAdd`` moves one.

As in Kestra, a zone-less value (a naive datetime, a date, an epoch number read as local
time) is placed in the requested ``timeZone`` or else in the system's zone, and results are
shown in that zone too.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from plait.expressions.javadate import (
    NAMED_FORMATS,
    PATTERN_FORMATS,
    parse_datetime,
    parse_rfc_1123,
    parse_zone,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NOON = time(12)
"""The time a date value is given (Java's ``LocalDate`` in Kestra's date filters)."""
MIDNIGHT = time(0)
"""The time a date written alone in a string is read at (``'2024-07-01'``), as in Kestra."""
RFC_1123 = "rfc_1123_date_time"
ISO_FORMATS = frozenset(NAMED_FORMATS) - {RFC_1123, *PATTERN_FORMATS}
"""Named formats that are ISO-8601 variants: a string in one is read as any ISO-8601 string."""

EXACT_UNITS = {
    "NANOS": 0.001,
    "MICROS": 1,
    "MILLIS": 1_000,
    "SECONDS": 1_000_000,
    "MINUTES": 60_000_000,
    "HOURS": 3_600_000_000,
    "HALF_DAYS": 43_200_000_000,
}
"""Java ``ChronoUnit`` durations, in microseconds: added to the instant."""
DAY_UNITS = {"DAYS": 1, "WEEKS": 7}
MONTH_UNITS = {"MONTHS": 1, "YEARS": 12, "DECADES": 120, "CENTURIES": 1200, "MILLENNIA": 12000}
"""Calendar units: added to the local date, keeping the time of day (the day of month is
clamped, so January 31 plus one month is the last day of February)."""


def zone(name: str | None) -> tzinfo | None:
    """The zone named by a ``timeZone`` argument; None stands for the system's zone."""
    return None if name is None else parse_zone(name)


def to_datetime(value: Any, tz: tzinfo | None, existing_format: str | None = None) -> datetime:
    """An aware datetime from a datetime, a date (at noon), epoch seconds or a string: ISO-8601
    (a date alone is read at midnight), or written in ``existing_format``, a Java pattern or
    one of the named formats (``rfc_1123_date_time``, ``iso_date_time``, ``sql``...)."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else localize(value, tz)
    if isinstance(value, date):
        return localize(datetime.combine(value, NOON), tz)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return in_zone(datetime.fromtimestamp(value, UTC), tz)
    if isinstance(value, str):
        if existing_format is None or existing_format in ISO_FORMATS:
            return _parse_iso(value, tz)
        if existing_format == RFC_1123:
            return parse_rfc_1123(value)
        pattern = PATTERN_FORMATS.get(existing_format, existing_format)
        return parse_datetime(value, pattern, tz)
    raise ValueError(f"cannot read a date from a {type(value).__name__}: {value!r}")


def _parse_iso(text: str, tz: tzinfo | None) -> datetime:
    source = text.strip()
    region = None
    if source.endswith("]") and "[" in source:  # Java's 2024-01-01T10:00+01:00[Europe/Paris]
        source, _, name = source[:-1].partition("[")
        region = parse_zone(name)
    try:
        if len(source) == 10:
            return localize(datetime.combine(date.fromisoformat(source), MIDNIGHT), tz)
        parsed = datetime.fromisoformat(source)
    except ValueError:
        raise ValueError(f"'{text}' is not an ISO-8601 date; pass existingFormat") from None
    if region is not None:
        return parsed.astimezone(region)
    return parsed if parsed.tzinfo is not None else localize(parsed, tz)


def localize(naive: datetime, tz: tzinfo | None) -> datetime:
    """A wall-clock time placed in ``tz`` (None: the system's zone)."""
    return naive.replace(tzinfo=tz) if tz is not None else naive.astimezone()


def in_zone(value: datetime, tz: tzinfo | None) -> datetime:
    """The same instant seen from ``tz`` (None: the system's zone)."""
    return value.astimezone(tz) if tz is not None else value.astimezone()


def add(value: datetime, amount: int, unit: str, tz: tzinfo | None) -> datetime:
    """``value`` moved by ``amount`` Java ``ChronoUnit`` s (``DAYS``, ``HOURS``, ...)."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ValueError(f"the amount must be an integer, not {amount!r}")
    moment = in_zone(value, tz)
    if unit in EXACT_UNITS:
        delta = timedelta(microseconds=amount * EXACT_UNITS[unit])
        return in_zone(moment.astimezone(UTC) + delta, tz)
    wall = moment.replace(tzinfo=None)
    if unit in DAY_UNITS:
        return localize(wall + timedelta(days=amount * DAY_UNITS[unit]), tz)
    if unit in MONTH_UNITS:
        year, month = divmod(wall.month - 1 + amount * MONTH_UNITS[unit], 12)
        year += wall.year
        day = min(wall.day, calendar.monthrange(year, month + 1)[1])
        return localize(wall.replace(year=year, month=month + 1, day=day), tz)
    units = ", ".join([*EXACT_UNITS, *DAY_UNITS, *MONTH_UNITS])
    raise ValueError(f"unknown unit '{unit}'; use one of {units}")


def epoch_micros(value: datetime) -> int:
    """Microseconds since 1970-01-01T00:00Z, exactly (no float rounding)."""
    delta = value - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
