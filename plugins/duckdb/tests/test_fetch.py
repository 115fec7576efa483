"""FETCH and FETCH_ONE: the result in the outputs, as JSON-safe values."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import pytest
from plait.errors import FlowValidationError
from plait_sdk.testing import TaskRunResult

RunQuery = Callable[..., TaskRunResult]


def test_fetch_returns_every_row_of_the_last_statement(run_query: RunQuery) -> None:
    result = run_query(
        sql="""
            CREATE TABLE stock (item VARCHAR, qty INTEGER);
            INSERT INTO stock SELECT 'item ' || range, range * 3 FROM range(7);
            SELECT item, qty FROM stock WHERE qty % 2 = 0 ORDER BY qty;
        """,
        fetchType="FETCH",
    )
    assert result.state == "SUCCESS", result.error
    expected = [{"item": f"item {i}", "qty": i * 3} for i in range(7) if (i * 3) % 2 == 0]
    assert result.outputs["rows"] == expected
    assert result.outputs["size"] == len(expected)
    assert result.outputs.get("row") is None
    assert result.outputs.get("uri") is None


def test_fetch_one_returns_the_first_row_and_null_when_there_is_none(run_query: RunQuery) -> None:
    first = run_query(sql="SELECT range AS n FROM range(5, 9) ORDER BY n DESC", fetchOne=True)
    assert first.state == "SUCCESS", first.error
    assert first.outputs["row"] == {"n": 8}
    assert first.outputs["size"] == 1

    empty = run_query(sql="SELECT 1 AS n WHERE false", fetchType="FETCH_ONE")
    assert empty.state == "SUCCESS", empty.error
    assert empty.outputs.get("row") is None
    assert empty.outputs["size"] == 0


def test_none_fetches_nothing_but_still_runs_every_statement(run_query: RunQuery, tmp_path) -> None:
    database = tmp_path / "kept.duckdb"
    result = run_query(
        url=f"jdbc:duckdb:{database}",
        sql="CREATE TABLE t AS SELECT 1 AS a; INSERT INTO t VALUES (2); SELECT * FROM t",
    )
    assert result.state == "SUCCESS", result.error
    assert all(result.outputs.get(name) is None for name in ("row", "rows", "uri", "size"))
    check = run_query(url=f"jdbc:duckdb:{database}", sql="SELECT sum(a) AS s FROM t", fetch=True)
    assert check.outputs["rows"] == [{"s": 3}]


def test_values_are_json_safe(run_query: RunQuery) -> None:
    result = run_query(
        sql="""
            SELECT
              DATE '2024-02-29' AS day,
              TIMESTAMP '2024-02-29 13:45:01.25' AS at,
              TIMESTAMPTZ '2024-06-01 12:00:00+00' AS at_tz,
              TIME '08:30:00' AS clock,
              12.50::DECIMAL(10, 2) AS price,
              123456789012345678.123456789::DECIMAL(38, 9) AS big_decimal,
              0::DECIMAL(12, 4) AS zero_decimal,
              170141183460469231731687303715884105727::HUGEINT AS huge,
              INTERVAL 1 DAY + INTERVAL 90 SECOND AS wait,
              'hi'::BLOB AS raw,
              '5d0fc09b-3d1f-4c67-9d4b-4c43f3a1b1a6'::UUID AS id,
              [1, 2, NULL] AS list,
              {'name': 'a', 'when': DATE '2024-01-01'} AS struct,
              MAP {1: 'one'} AS map,
              'NaN'::DOUBLE AS not_a_number,
              '-inf'::DOUBLE AS minus_infinity,
              NULL AS nothing,
              true AS yes
        """,
        timeZoneId="Europe/Paris",
        fetchType="FETCH_ONE",
    )
    assert result.state == "SUCCESS", result.error
    row = result.outputs["row"]
    assert row == {
        "day": "2024-02-29",
        "at": "2024-02-29T13:45:01.250000",
        "at_tz": "2024-06-01T14:00:00+02:00",
        "clock": "08:30:00",
        "price": "12.50",
        "big_decimal": "123456789012345678.123456789",
        "zero_decimal": "0.0000",
        "huge": 2**127 - 1,
        "wait": "P1DT90S",
        "raw": "aGk=",
        "id": "5d0fc09b-3d1f-4c67-9d4b-4c43f3a1b1a6",
        "list": [1, 2, None],
        "struct": {"name": "a", "when": "2024-01-01"},
        "map": {"1": "one"},
        "not_a_number": "NaN",
        "minus_infinity": "-Infinity",
        "nothing": None,
        "yes": True,
    }
    assert json.loads(json.dumps(row, allow_nan=False)) == row


def test_named_parameters_are_bound_in_kestra_and_duckdb_syntax(run_query: RunQuery) -> None:
    result = run_query(
        sql="""
            CREATE TABLE p AS SELECT range AS n, 'v:' || range AS label FROM range(10);
            SELECT n::VARCHAR AS n, label, ':min' AS literal, $tag AS tag
            FROM p WHERE n >= :min AND n < $max ORDER BY n;
        """,
        parameters={"min": 7, "max": 9, "tag": "it's; -- not SQL"},
        fetchType="FETCH",
    )
    assert result.state == "SUCCESS", result.error
    assert result.outputs["rows"] == [
        {"n": str(n), "label": f"v:{n}", "literal": ":min", "tag": "it's; -- not SQL"}
        for n in (7, 8)
    ]


def test_missing_parameters_are_named(run_query: RunQuery) -> None:
    colon = run_query(sql="SELECT 1; SELECT :limit_value AS v", parameters={"x": 1}, fetch=True)
    assert colon.state == "FAILED"
    assert "`:limit_value`: no value in `parameters`" in colon.error

    dollar = run_query(sql="SELECT 1; SELECT $limit_value AS v", fetchType="FETCH")
    assert dollar.state == "FAILED"
    assert "statement 2 of 2 failed" in dollar.error
    assert "limit_value" in dollar.error


def test_sql_error_shows_duckdb_message_and_statement(run_query: RunQuery) -> None:
    result = run_query(
        sql="CREATE TABLE a (x INT);\nSELECT x FROM missing_table WHERE x > 1;\nSELECT 3",
        fetchType="FETCH",
    )
    assert result.state == "FAILED"
    assert "statement 2 of 3 failed" in result.error
    assert "Table with name missing_table does not exist" in result.error
    assert "SELECT x FROM missing_table WHERE x > 1" in result.error
    assert "Traceback" not in result.error


def test_syntax_error_is_reported(run_query: RunQuery) -> None:
    result = run_query(sql="SELEC 1", fetchType="FETCH")
    assert result.state == "FAILED"
    assert 'syntax error at or near "SELEC"' in result.error


@pytest.mark.parametrize(
    "flags",
    [
        {"fetchType": "FETCH", "store": True},
        {"fetchType": "NONE", "fetchOne": True},
        {"fetch": True, "store": True},
    ],
)
def test_contradictory_fetch_modes_are_refused(run_query: RunQuery, flags: dict) -> None:
    with pytest.raises(FlowValidationError, match="contradictory fetch modes"):
        run_query(sql="SELECT 1", **flags)


def test_legacy_flag_agreeing_with_fetch_type_is_accepted(run_query: RunQuery) -> None:
    result = run_query(sql="SELECT 42 AS answer", fetchType="FETCH", fetch=True)
    assert result.state == "SUCCESS", result.error
    assert result.outputs["rows"] == [{"answer": 42}]


def test_insert_reports_its_count_as_duckdb_does(run_query: RunQuery) -> None:
    result = run_query(
        sql="CREATE TABLE t (a INT); INSERT INTO t VALUES (1), (2), (3)", fetchType="FETCH"
    )
    assert result.state == "SUCCESS", result.error
    assert result.outputs["rows"] == [{"Count": 3}]


def test_secrets_in_failing_sql_are_masked(
    run_query: RunQuery, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "tok-5ecr3t-value"
    monkeypatch.setenv("SECRET_BUCKET_TOKEN", base64.b64encode(secret.encode()).decode())
    result = run_query(
        sql="SELECT * FROM read_csv_auto('{{ secret(\"BUCKET_TOKEN\") }}.csv')", fetchType="FETCH"
    )
    assert result.state == "FAILED"
    assert "No files found" in result.error
    assert secret not in result.error
    assert all(secret not in line.message for line in result.logs)
