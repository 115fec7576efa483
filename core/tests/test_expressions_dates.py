"""Date filters: Java DateTimeFormatter patterns, time zones, dateAdd units and timestamps."""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from plait.errors import ExpressionError
from plait.expressions import ExpressionEngine
from plait.expressions.javadate import format_datetime, parse_datetime, parse_zone
from support.expression_cases import builtin_engine

PARIS = ZoneInfo("Europe/Paris")
MOMENT = datetime(2024, 3, 5, 14, 7, 9, 123456, tzinfo=UTC)  # a Tuesday


@pytest.fixture(scope="module")
def engine() -> ExpressionEngine:
    return builtin_engine()


@pytest.fixture
def system_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run with the system time zone set to Asia/Tokyo (UTC+9, no daylight saving)."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def render(engine: ExpressionEngine, template: str, **variables: Any) -> Any:
    return engine.render_value(template, variables)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("yyyy-MM-dd'T'HH:mm:ss", "2024-03-05T15:07:09"),
        ("yy/M/d H:m:s", "24/3/5 15:7:9"),
        ("MMM MMMM MMMMM", "Mar March M"),
        ("EEE EEEE EEEEE", "Tue Tuesday T"),
        ("h:mm a, K k", "3:07 PM, 3 15"),
        ("S SSS SSSSSS SSSSSSSSS", "1 123 123456 123456000"),
        ("XXX XX X xxx Z ZZZZZ", "+01:00 +0100 +01 +01:00 +0100 +01:00"),
        ("VV z O OOOO", "Europe/Paris CET GMT+1 GMT+01:00"),
        ("'at' HH 'o''clock' ''", "at 15 o'clock '"),
        ("D DDD Q QQQ QQQQ w", "65 065 1 Q1 1st quarter 10"),
        ("yyyy[-MM]", "2024-03"),
        ("G u", "AD 2024"),
    ],
)
def test_java_patterns(pattern: str, expected: str) -> None:
    assert format_datetime(MOMENT.astimezone(PARIS), pattern) == expected


def test_utc_offsets_print_as_z_where_java_does() -> None:
    assert format_datetime(MOMENT, "XXX|X|xxx|Z|ZZZZ|ZZZZZ") == "Z|Z|+00:00|+0000|GMT|Z"


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("yyyy-bb", "unknown pattern letter 'b'"),
        ("'open", "unclosed quote"),
        ("yyyy{", "reserved character '{'"),
        ("[yyyy", "'[' without ']'"),
    ],
)
def test_bad_patterns_are_refused(pattern: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        format_datetime(MOMENT, pattern)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("iso", "2024-03-05T15:07:09.123456+01:00"),
        ("iso_sec", "2024-03-05T15:07:09+01:00"),
        ("sql", "2024-03-05 15:07:09.123456"),
        ("sql_seq", "2024-03-05 15:07:09"),
        ("iso_date", "2024-03-05+01:00"),
        ("iso_local_date", "2024-03-05"),
        ("iso_time", "15:07:09.123456+01:00"),
        ("iso_local_date_time", "2024-03-05T15:07:09.123456"),
        ("iso_date_time", "2024-03-05T15:07:09.123456+01:00[Europe/Paris]"),
        ("iso_instant", "2024-03-05T14:07:09.123456Z"),
        ("iso_week_date", "2024-W10-2+01:00"),
        ("iso_ordinal_date", "2024-065+01:00"),
        ("rfc_1123_date_time", "Tue, 5 Mar 2024 15:07:09 +0100"),
    ],
)
def test_named_formats(engine: ExpressionEngine, spec: str, expected: str) -> None:
    template = "{{ d | date(fmt, timeZone='Europe/Paris') }}"
    assert render(engine, template, d=MOMENT, fmt=spec) == expected


class TestDateInputs:
    @pytest.mark.parametrize(
        "value",
        [
            MOMENT,
            "2024-03-05T14:07:09.123456Z",
            "2024-03-05T15:07:09.123456+01:00",
            "2024-03-05T15:07:09.123456+01:00[Europe/Paris]",
        ],
    )
    def test_same_instant_from_datetime_and_iso_strings(
        self, engine: ExpressionEngine, value: Any
    ) -> None:
        template = "{{ d | date(\"yyyy-MM-dd'T'HH:mm:ss.SSSXXX\", timeZone='UTC') }}"
        assert render(engine, template, d=value) == "2024-03-05T14:07:09.123Z"

    def test_epoch_seconds(self, engine: ExpressionEngine) -> None:
        assert render(engine, "{{ 0 | date('iso_sec', timeZone='UTC') }}") == (
            "1970-01-01T00:00:00Z"
        )
        assert render(engine, "{{ 1709647629 | date('iso_sec', timeZone='+02:00') }}") == (
            "2024-03-05T16:07:09+02:00"
        )

    def test_zone_less_values_are_placed_in_the_requested_zone(
        self, engine: ExpressionEngine
    ) -> None:
        template = "{{ d | date('iso_sec', timeZone='Europe/Paris') }}"
        assert render(engine, template, d=datetime(2024, 7, 1, 8, 0)) == (
            "2024-07-01T08:00:00+02:00"
        )
        assert render(engine, template, d=date(2024, 7, 1)) == "2024-07-01T12:00:00+02:00"
        # Kestra's DateFilterTest.dateStringFormat: a date written alone is read at midnight
        assert render(engine, template, d="2024-07-01") == "2024-07-01T00:00:00+02:00"
        assert render(engine, template, d="2024-07-01T08:00:00") == "2024-07-01T08:00:00+02:00"

    def test_existing_format_reads_other_strings(self, engine: ExpressionEngine) -> None:
        template = (
            "{{ d | date('yyyy-MM-dd HH:mm', existingFormat='MMMM d, yyyy h:mm a', "
            "timeZone='UTC') }}"
        )
        assert render(engine, template, d="July 24, 2001 3:05 PM") == "2001-07-24 15:05"

    def test_system_zone_is_the_default(self, engine: ExpressionEngine, system_zone: None) -> None:
        assert render(engine, "{{ d | date('iso_sec') }}", d=MOMENT) == (
            "2024-03-05T23:07:09+09:00"
        )
        assert render(engine, "{{ d | date('iso_sec') }}", d=datetime(2024, 3, 5, 8, 0)) == (
            "2024-03-05T08:00:00+09:00"
        )

    @pytest.mark.parametrize(
        ("template", "reason"),
        [
            ("{{ 'yesterday' | date }}", "'yesterday' is not an ISO-8601 date"),
            ("{{ d | date(timeZone='Mars/Olympus') }}", "unknown time zone 'Mars/Olympus'"),
            ("{{ '5/6' | date(existingFormat='d/M/yyyy') }}", "does not match the date pattern"),
            ("{{ [1] | date }}", "cannot read a date from a list"),
        ],
    )
    def test_unreadable_dates_fail_clearly(
        self, engine: ExpressionEngine, template: str, reason: str
    ) -> None:
        with pytest.raises(ExpressionError) as caught:
            render(engine, template, d=MOMENT)
        assert reason in caught.value.reason
        assert caught.value.reason.startswith("filter `date` failed: ")


def test_parse_defaults_and_zones() -> None:
    assert parse_datetime("2024-02", "yyyy-MM", UTC) == datetime(2024, 2, 1, tzinfo=UTC)
    assert parse_datetime("05/03/24 10h+0100", "dd/MM/yy HH'h'Z", None) == datetime(
        2024, 3, 5, 10, tzinfo=timezone(timedelta(hours=1))
    )
    assert parse_zone("GMT+2") == timezone(timedelta(hours=2))
    assert parse_zone("Z") is UTC


class TestDateAdd:
    @pytest.mark.parametrize(
        ("amount", "unit", "expected"),
        [
            (1, "DAYS", "2024-03-06T14:07:09Z"),
            (-1, "DAYS", "2024-03-04T14:07:09Z"),
            (2, "WEEKS", "2024-03-19T14:07:09Z"),
            (90, "MINUTES", "2024-03-05T15:37:09Z"),
            (-3, "HOURS", "2024-03-05T11:07:09Z"),
            (30, "SECONDS", "2024-03-05T14:07:39Z"),
            (1, "HALF_DAYS", "2024-03-06T02:07:09Z"),
            (1, "MONTHS", "2024-04-05T14:07:09Z"),
            (-1, "YEARS", "2023-03-05T14:07:09Z"),
            (1, "DECADES", "2034-03-05T14:07:09Z"),
        ],
    )
    def test_units(self, engine: ExpressionEngine, amount: int, unit: str, expected: str) -> None:
        template = "{{ d | dateAdd(amount, unit, format='iso_sec', timeZone='UTC') }}"
        assert render(engine, template, d=MOMENT, amount=amount, unit=unit) == expected

    def test_default_format_is_kestras_iso(self, engine: ExpressionEngine) -> None:
        assert render(engine, "{{ d | dateAdd(1, 'MILLIS', timeZone='UTC') }}", d=MOMENT) == (
            "2024-03-05T14:07:09.124456Z"
        )

    def test_month_end_is_clamped(self, engine: ExpressionEngine) -> None:
        template = (
            "{{ '2024-01-31T10:00:00Z' | dateAdd(1, 'MONTHS', timeZone='UTC') "
            "| date('yyyy-MM-dd', timeZone='UTC') }}"
        )
        assert render(engine, template) == "2024-02-29"

    def test_days_keep_the_wall_clock_across_daylight_saving(
        self, engine: ExpressionEngine
    ) -> None:
        start = datetime(2024, 3, 30, 12, 0, tzinfo=PARIS)  # the clocks go forward on the 31st
        days = "{{ d | dateAdd(1, 'DAYS', format='iso_sec', timeZone='Europe/Paris') }}"
        hours = "{{ d | dateAdd(24, 'HOURS', format='iso_sec', timeZone='Europe/Paris') }}"
        assert render(engine, days, d=start) == "2024-03-31T12:00:00+02:00"
        assert render(engine, hours, d=start) == "2024-03-31T13:00:00+02:00"

    @pytest.mark.parametrize(
        ("template", "reason"),
        [
            ("{{ d | dateAdd(1, 'FORTNIGHTS') }}", "unknown unit 'FORTNIGHTS'; use one of NANOS"),
            ("{{ d | dateAdd('1', 'DAYS') }}", "the amount must be an integer, not '1'"),
        ],
    )
    def test_bad_arguments(self, engine: ExpressionEngine, template: str, reason: str) -> None:
        with pytest.raises(ExpressionError) as caught:
            render(engine, template, d=MOMENT)
        assert reason in caught.value.reason


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ d | timestamp }}", 1709647629),
        ("{{ d | timestampMilli }}", 1709647629123),
        ("{{ d | timestampMicro }}", 1709647629123456),
        ("{{ d | timestampNano }}", 1709647629123456000),
        ("{{ '1969-12-31T23:59:59.5Z' | timestamp }}", -1),
        ("{{ '2024-03-05T15:07:09+01:00' | timestamp }}", 1709647629),
    ],
)
def test_timestamps(engine: ExpressionEngine, template: str, expected: int) -> None:
    assert render(engine, template, d=MOMENT) == expected


def test_kestra_null_values_guide_example(engine: ExpressionEngine) -> None:
    """`inputs.start_date ?? now() | dateAdd(-1, 'MONTHS') | date('yyyy-MM-dd')` from Kestra's
    guide: the fallback applies when the input was not given."""
    template = "{{ inputs.start_date ?? now() | dateAdd(-1, 'MONTHS') | date('yyyy-MM-dd') }}"
    given = render(engine, template, inputs={"start_date": date(2024, 3, 15)})
    assert given == "2024-02-15"
    before = _month_before(date.today())
    month_ago = render(engine, template, inputs={"start_date": None})
    assert month_ago in {before, _month_before(date.today())}


def _month_before(day: date) -> str:
    year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1])).isoformat()
