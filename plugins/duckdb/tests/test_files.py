"""Files: inputFiles, outputFiles, the working directory as DuckDB's current directory, and
database files."""

from __future__ import annotations

import csv
import io
import json
import random
import uuid
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest
from plait.errors import FlowValidationError
from plait_sdk.testing import PlaitRunner, TaskRunResult

RunQuery = Callable[..., TaskRunResult]

BRANDS = ("Apple", "Samsung", "Xiaomi", "Oppo", "Huawei", "Nokia")

GUIDE_FLOW_FILE = Path(__file__).resolve().parents[3] / "examples" / "getting_started.yml"
"""The outputs guide's flow, unmodified: its last task, `sqlQuery`, is the DuckDB one."""

# The task before the guide's `sqlQuery` stands in for the guide's Python task (it writes
# products.csv under outputDir, as the Python script does).
FLOW_HEAD = """\
id: getting_started
namespace: dev

tasks:
  - id: python
    type: plait.duckdb.Query
    inputFiles:
      raw.csv: |
__RAW_CSV__
    sql: |
      COPY (SELECT brand, price FROM read_csv_auto('raw.csv'))
      TO '{{ outputDir }}/products.csv' (HEADER);

"""


def _guide_sql_task() -> str:
    """The guide's `sqlQuery` task as text, verbatim to the end of the flow."""
    guide = GUIDE_FLOW_FILE.read_text("utf-8")
    return guide[guide.index("  - id: sqlQuery\n") :]


def _products() -> list[tuple[str, float]]:
    draw = random.Random(20240229)
    return [(draw.choice(BRANDS), draw.randrange(500, 200_000) / 100) for _ in range(300)]


def test_guide_sql_query_task_runs_unmodified(plait_runner: PlaitRunner) -> None:
    products = _products()
    raw = "brand,price\n" + "".join(f"{brand},{price}\n" for brand, price in products)
    indented = "".join(f"        {line}\n" for line in raw.splitlines())
    run = plait_runner.run_flow(FLOW_HEAD.replace("__RAW_CSV__\n", indented) + _guide_sql_task())
    assert run.state == "SUCCESS", {tid: task.error for tid, task in run.tasks.items()}

    prices: dict[str, list[float]] = defaultdict(list)
    for brand, price in products:
        prices[brand].append(price)
    expected = {brand: sum(values) / len(values) for brand, values in prices.items()}

    query = run.tasks["sqlQuery"]
    assert query.outputs["size"] == len(expected)
    stored = [json.loads(line) for line in run.read(query.outputs["uri"]).decode().splitlines()]
    assert [row["brand"] for row in stored] == sorted(expected, key=expected.get, reverse=True)
    for row in stored:
        assert row["avg_price"] == pytest.approx(expected[row["brand"]], abs=0.005 + 1e-9)


def test_relative_paths_and_working_dir_expression_reach_the_same_file(
    run_query: RunQuery,
) -> None:
    result = run_query(
        inputFiles={"data/in.csv": "n\n1\n2\n3\n"},
        sql="""
            SELECT
              (SELECT sum(n) FROM read_csv_auto('data/in.csv')) AS relative,
              (SELECT sum(n) FROM read_csv_auto('{{ workingDir }}/data/in.csv')) AS absolute,
              '{{ workingDir }}' AS working_dir
        """,
        fetchType="FETCH_ONE",
    )
    assert result.state == "SUCCESS", result.error
    row = result.outputs["row"]
    assert row["relative"] == row["absolute"] == 6
    assert Path(row["working_dir"]).is_absolute()


def test_relative_writes_land_in_the_working_dir_and_feed_a_later_task(
    plait_runner: PlaitRunner,
) -> None:
    name = f"squares-{uuid.uuid4().hex}.csv"
    flow = f"""\
id: files
namespace: test

tasks:
  - id: first
    type: plait.duckdb.Query
    sql: COPY (SELECT range AS n, range * range AS sq FROM range(5)) TO '{name}' (HEADER)
    outputFiles:
      - "*.csv"

  - id: second
    type: plait.duckdb.Query
    inputFiles:
      copy.csv: "{{{{ outputs.first.outputFiles['{name}'] }}}}"
    sql: SELECT sum(sq) AS total FROM 'copy.csv'
    fetchType: FETCH_ONE
"""
    run = plait_runner.run_flow(flow)
    assert run.state == "SUCCESS", {tid: task.error for tid, task in run.tasks.items()}
    assert not (Path.cwd() / name).exists()
    first = run.tasks["first"].outputs["outputFiles"]
    assert list(first) == [name]
    rows = list(csv.DictReader(io.StringIO(run.read(first[name]).decode())))
    assert [(int(r["n"]), int(r["sq"])) for r in rows] == [(n, n * n) for n in range(5)]
    assert run.tasks["second"].outputs["row"] == {"total": sum(n * n for n in range(5))}


def test_kestra_output_files_variable_names_the_file_to_write(run_query: RunQuery) -> None:
    result = run_query(
        sql="COPY (SELECT 'kestra' AS style) TO '{{ outputFiles.out }}' (HEADER)",
        outputFiles=["out"],
    )
    assert result.state == "SUCCESS", result.error
    assert result.read(result.outputs["outputFiles"]["out"]).decode().split() == [
        "style",
        "kestra",
    ]


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "a/../../x"])
def test_unsafe_input_file_names_are_refused(run_query: RunQuery, name: str) -> None:
    result = run_query(inputFiles={name: "pwned"}, sql="SELECT 1")
    assert result.state == "FAILED"
    assert repr(name) in result.error
    assert not Path("/x").exists()


def test_unsafe_output_file_patterns_are_refused(run_query: RunQuery) -> None:
    result = run_query(sql="SELECT 1", outputFiles=["../*"])
    assert result.state == "FAILED"
    assert "'../" in result.error


def test_absolute_database_file_persists_between_runs(run_query: RunQuery, tmp_path) -> None:
    database = tmp_path / "not-yet" / "analytics.duckdb"
    created = run_query(
        url=f"jdbc:duckdb:{database}",
        sql="CREATE TABLE visits AS SELECT range AS day FROM range(30)",
    )
    assert created.state == "SUCCESS", created.error
    assert database.is_file()
    counted = run_query(
        url=f"jdbc:duckdb:{database}", sql="SELECT count(*) AS days FROM visits", fetchOne=True
    )
    assert counted.state == "SUCCESS", counted.error
    assert counted.outputs["row"] == {"days": 30}


def test_relative_database_file_lives_in_the_working_dir(run_query: RunQuery) -> None:
    result = run_query(
        url="jdbc:duckdb:local.duckdb",
        sql="CREATE TABLE t AS SELECT 1 AS a",
        outputFiles=["local.duckdb"],
        outputDbFile=True,
    )
    assert result.state == "SUCCESS", result.error
    uploaded = result.read(result.outputs["outputFiles"]["local.duckdb"])
    assert uploaded[8:12] == b"DUCK"
    assert result.read(result.outputs["databaseUri"])[8:12] == b"DUCK"


def test_database_uri_and_url_together_are_refused(run_query: RunQuery) -> None:
    with pytest.raises(FlowValidationError, match="either `databaseUri` or a `url`"):
        run_query(url="jdbc:duckdb:x.duckdb", databaseUri="plait:///a/db.duckdb", sql="SELECT 1")
