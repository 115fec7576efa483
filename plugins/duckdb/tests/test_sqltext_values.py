"""The SQL text edits and value conversions the worker relies on."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from plait_duckdb.sqltext import (
    colon_placeholders,
    dollar_placeholders,
    excerpt,
    literal,
    without_terminator,
)
from plait_duckdb.values import iso_duration, json_safe


def test_only_given_colon_names_become_dollar_placeholders() -> None:
    sql = (
        "SELECT a::INT, :x, ':x' AS s, \"col:x\", :unknown, list[1:x], list[:x], {'k':x} -- :x\n"
        "FROM t /* :x */ WHERE y = :x_long AND z = :x;"
    )
    assert dollar_placeholders(sql, {"x", "x_long"}) == (
        "SELECT a::INT, $x, ':x' AS s, \"col:x\", :unknown, list[1:x], list[:x], {'k':x} -- :x\n"
        "FROM t /* :x */ WHERE y = $x_long AND z = $x;"
    )
    assert dollar_placeholders(sql, set()) == sql
    assert [name for _, name in colon_placeholders(sql)] == ["x", "unknown", "x_long", "x"]


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("SELECT 1;", "SELECT 1"),
        ("SELECT ';' ; -- done\n", "SELECT ';' "),
        ("SELECT 1 -- no terminator", "SELECT 1 -- no terminator"),
        ("SELECT 1 /* ; */", "SELECT 1 /* ; */"),
    ],
)
def test_without_terminator(statement: str, expected: str) -> None:
    assert without_terminator(statement) == expected


def test_literal_and_excerpt() -> None:
    assert literal("it's") == "'it''s'"
    assert excerpt("SELECT\n   1,\n\t2") == "SELECT 1, 2"
    long = excerpt("SELECT " + "x, " * 500)
    assert len(long) == 300 and long.endswith("...")


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (datetime.timedelta(0), "PT0S"),
        (datetime.timedelta(days=2), "P2D"),
        (datetime.timedelta(days=1, seconds=90), "P1DT90S"),
        (datetime.timedelta(seconds=1, microseconds=500), "PT1.0005S"),
        (-datetime.timedelta(hours=1), "-PT3600S"),
    ],
)
def test_iso_duration(delta: datetime.timedelta, expected: str) -> None:
    assert iso_duration(delta) == expected


def test_decimals_keep_every_digit_without_exponent() -> None:
    assert json_safe(Decimal("0E-10")) == "0.0000000000"
    assert json_safe(Decimal("1E+3")) == "1000"
    assert json_safe([Decimal("-12.50"), {datetime.date(2024, 1, 2): None}]) == [
        "-12.50",
        {"2024-01-02": None},
    ]
