"""STORE: the result written by DuckDB into the internal storage, in each format."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

import duckdb
import pytest
from plait_sdk.testing import TaskRunResult

RunQuery = Callable[..., TaskRunResult]

QUERY = """
    SELECT range AS id, 'item ' || range AS label, range / 2 AS price
    FROM range(2000)
    WHERE range % 3 = 0
    ORDER BY id
"""
EXPECTED = [(i, f"item {i}", i * 0.5) for i in range(2000) if i % 3 == 0]


def _stored(run_query: RunQuery, store_format: str | None) -> tuple[dict, bytes]:
    properties = {"sql": QUERY, "fetchType": "STORE"}
    if store_format:
        properties["storeFormat"] = store_format
    result = run_query(**properties)
    assert result.state == "SUCCESS", result.error
    assert result.outputs["size"] == len(EXPECTED)
    assert result.outputs["uri"].startswith("plait://")
    assert result.outputs.get("rows") is None
    return result.outputs, result.read(result.outputs["uri"])


def test_store_writes_json_lines_by_default(run_query: RunQuery) -> None:
    outputs, data = _stored(run_query, None)
    assert outputs["uri"].endswith(".jsonl")
    lines = data.decode().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"id": i, "label": label, "price": price} for i, label, price in EXPECTED
    ]


def test_store_writes_csv_with_a_header(run_query: RunQuery) -> None:
    outputs, data = _stored(run_query, "CSV")
    assert outputs["uri"].endswith(".csv")
    rows = list(csv.reader(io.StringIO(data.decode())))
    assert rows[0] == ["id", "label", "price"]
    assert [(int(a), b, float(c)) for a, b, c in rows[1:]] == EXPECTED


def test_store_writes_parquet(run_query: RunQuery, tmp_path) -> None:
    outputs, data = _stored(run_query, "PARQUET")
    assert outputs["uri"].endswith(".parquet")
    assert data[:4] == b"PAR1" and data[-4:] == b"PAR1"
    copy = tmp_path / "copy.parquet"
    copy.write_bytes(data)
    with duckdb.connect() as connection:
        read_back = connection.execute(f"SELECT * FROM '{copy}' ORDER BY id").fetchall()
    assert read_back == EXPECTED


def test_store_of_an_empty_result_is_an_empty_file(run_query: RunQuery) -> None:
    result = run_query(sql="SELECT 1 AS a WHERE false", store=True)
    assert result.state == "SUCCESS", result.error
    assert result.outputs["size"] == 0
    assert result.read(result.outputs["uri"]) == b""


@pytest.mark.parametrize("ending", [";", "; -- done", "-- done", ";\n/* end */ ;"])
def test_store_accepts_any_statement_ending(run_query: RunQuery, ending: str) -> None:
    result = run_query(sql=f"SELECT 7 AS n {ending}", fetchType="STORE")
    assert result.state == "SUCCESS", result.error
    assert json.loads(result.read(result.outputs["uri"])) == {"n": 7}


def test_store_of_a_statement_copy_cannot_nest(run_query: RunQuery) -> None:
    result = run_query(
        sql="CREATE TABLE t (a INT); INSERT INTO t VALUES (1), (2) RETURNING a * 10 AS tenfold",
        fetchType="STORE",
        storeFormat="CSV",
    )
    assert result.state == "SUCCESS", result.error
    assert result.outputs["size"] == 2
    assert result.read(result.outputs["uri"]).decode().splitlines() == ["tenfold", "10", "20"]


def test_store_with_parameters(run_query: RunQuery) -> None:
    result = run_query(
        sql="SELECT range AS n FROM range(100) WHERE range >= :from_value",
        parameters={"from_value": 97},
        fetchType="STORE",
        storeFormat="CSV",
    )
    assert result.state == "SUCCESS", result.error
    assert result.read(result.outputs["uri"]).decode().splitlines() == ["n", "97", "98", "99"]


def test_stored_result_and_output_files_do_not_overwrite_each_other(run_query: RunQuery) -> None:
    result = run_query(
        sql="COPY (SELECT 'file' AS source) TO 'result.jsonl' (FORMAT JSON); "
        "SELECT 'store' AS source",
        outputFiles=["*.jsonl"],
        fetchType="STORE",
    )
    assert result.state == "SUCCESS", result.error
    assert list(result.outputs["outputFiles"]) == ["result.jsonl"]
    output_file = result.read(result.outputs["outputFiles"]["result.jsonl"])
    assert json.loads(output_file) == {"source": "file"}
    assert json.loads(result.read(result.outputs["uri"])) == {"source": "store"}
