"""fileAccess: WORKING_DIRECTORY confines DuckDB to the task's working directory, so that a
platform team can stop flows from reading host files; flows' SQL cannot lift it, and what the
task itself needs (inputFiles, STORE, databaseUri, outputFiles) keeps working."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from plait.errors import FlowValidationError
from plait_duckdb.protocol import QueryRequest
from plait_duckdb.worker import CONFINEMENT_HINT, execute
from plait_sdk.testing import PlaitRunner, TaskRunResult

RunQuery = Callable[..., TaskRunResult]

CONFINED = {"fileAccess": "WORKING_DIRECTORY"}
WORKING_DIR = "{{ workingDir }}"
SECRET = "hunter2"

DISTRIBUTION = """\
name = "locked-down"
version = "1.0"
plugins = ["plait-duckdb"]

[[pluginDefaults]]
type = "plait.duckdb.Query"
forced = true
values = { fileAccess = "WORKING_DIRECTORY" }
"""


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A real CSV file outside every working directory, readable by the engine's user."""
    file = tmp_path / "outside" / "secret.csv"
    file.parent.mkdir()
    file.write_text(f"password\n{SECRET}\n", "utf-8")
    return file


def assert_refused(result: TaskRunResult, statement: str) -> None:
    """Failed on the second statement (the first, harmless one ran), naming it and saying why;
    ``{{ workingDir }}`` in ``statement`` stands for whatever path it rendered to."""
    assert result.state == "FAILED"
    error = result.error or ""
    assert error.startswith("statement 2 of 2 failed: "), error
    named = re.escape(statement).replace(re.escape(WORKING_DIR), r"/\S+")
    assert re.search(f"\nstatement: {named}\n{re.escape(CONFINEMENT_HINT)}$", error), error
    assert SECRET not in error


def test_all_is_the_default_and_reaches_any_file(run_query: RunQuery, outside: Path) -> None:
    result = run_query(sql=f"SELECT * FROM read_csv('{outside}')", fetchType="FETCH_ONE")
    assert result.state == "SUCCESS", result.error
    assert result.outputs["row"] == {"password": SECRET}


REFUSED = {
    "absolute path": "SELECT * FROM read_csv('{outside}')",
    "/etc/passwd": "SELECT * FROM read_csv('/etc/passwd', sep = ':')",
    "parent of the working dir": "SELECT * FROM read_text('../x')",
    "dot-dot after the working dir": "SELECT * FROM read_text('{{{{ workingDir }}}}/../x')",
    "home": "SELECT * FROM read_text('~/.profile')",
    "file URL": "SELECT * FROM read_text('file://{outside}')",
    "listing": "SELECT * FROM glob('{folder}/*')",
    "replacement scan": "FROM '{outside}'",
    "sniffing": "SELECT * FROM sniff_csv('{outside}')",
    "write": "COPY (SELECT 1 AS n) TO '{folder}/written.csv'",
    "export": "EXPORT DATABASE '{folder}/export'",
    "attach": "ATTACH '{folder}/other.duckdb' AS other",
    "http URL": "SELECT * FROM read_csv('http://127.0.0.1:9/x.csv')",
    "s3 URL": "SELECT * FROM read_parquet('s3://bucket/x.parquet')",
    "install": "INSTALL httpfs",
    "load": "LOAD httpfs",
    "extension autoload": "SELECT * FROM read_xlsx('book.xlsx')",
    "re-enable access": "SET enable_external_access = true",
    "widen allowed dirs": "SET allowed_directories = ['/']",
    "unlock": "SET lock_configuration = false",
    "reset lock": "RESET lock_configuration",
    "any other setting": "SET threads = 1",
}


@pytest.mark.parametrize("statement", REFUSED.values(), ids=REFUSED.keys())
def test_confined_sql_is_refused_with_a_message_naming_the_statement(
    run_query: RunQuery, outside: Path, statement: str
) -> None:
    sql = statement.format(outside=outside, folder=outside.parent)
    result = run_query(sql=f"SELECT 1;\n{sql}", fetchType="FETCH", **CONFINED)
    assert_refused(result, sql)
    assert sorted(p.name for p in outside.parent.iterdir()) == [outside.name]


VIEW_FLOW = """\
id: view
namespace: test

tasks:
  - id: make
    type: plait.duckdb.Query
    sql: CREATE VIEW leak AS SELECT * FROM read_csv('__OUTSIDE__')
    outputDbFile: true

  - id: use
    type: plait.duckdb.Query
    fileAccess: WORKING_DIRECTORY
    databaseUri: "{{ outputs.make.databaseUri }}"
    sql: |
      SELECT 1;
      SELECT * FROM leak
    fetchType: FETCH
"""


def test_confined_database_cannot_reach_out_through_its_views(
    plait_runner: PlaitRunner, outside: Path
) -> None:
    """A database file made elsewhere (here by an unconfined task) may hold a view over a host
    file; queried under confinement, the view's read is refused like any other."""
    run = plait_runner.run_flow(VIEW_FLOW.replace("__OUTSIDE__", str(outside)))
    assert run.tasks["make"].state == "SUCCESS", run.tasks["make"].error
    assert_refused(run.tasks["use"], "SELECT * FROM leak")


def test_confined_task_uses_its_working_directory(plait_runner: PlaitRunner) -> None:
    """inputFiles read by relative and absolute path, files written with COPY (outputFiles and
    outputDir), STORE as Parquet, a database file kept with outputDbFile, and the time zone."""
    flow = """\
id: confined
namespace: test

tasks:
  - id: build
    type: plait.duckdb.Query
    fileAccess: WORKING_DIRECTORY
    url: jdbc:duckdb:db/shop.duckdb
    outputDbFile: true
    timeZoneId: Asia/Tokyo
    inputFiles:
      data/in.csv: |
        brand,price
        Apple,999.99
        Apple,1299.00
        Samsung,899.50
    outputFiles:
      - brands.csv
    sql: |
      CREATE TABLE products AS SELECT * FROM read_csv_auto('data/in.csv');
      CREATE TABLE again AS SELECT * FROM read_csv_auto('{{ workingDir }}/data/in.csv');
      COPY (SELECT DISTINCT brand FROM products ORDER BY brand) TO 'brands.csv' (HEADER);
      COPY (SELECT count(*) AS n FROM again) TO '{{ outputDir }}/count.csv' (HEADER);
      SELECT brand, sum(price) AS total, current_setting('TimeZone') AS zone
      FROM products GROUP BY brand ORDER BY brand;
    fetchType: STORE
    storeFormat: PARQUET

  - id: reuse
    type: plait.duckdb.Query
    fileAccess: WORKING_DIRECTORY
    inputFiles:
      total.parquet: "{{ outputs.build.uri }}"
    databaseUri: "{{ outputs.build.databaseUri }}"
    sql: |
      SELECT (SELECT count(*) FROM products) AS products,
             (SELECT round(sum(total), 2) FROM 'total.parquet') AS total,
             (SELECT any_value(zone) FROM 'total.parquet') AS zone
    fetchType: FETCH
"""
    run = plait_runner.run_flow(flow)
    assert run.state == "SUCCESS", {tid: task.error for tid, task in run.tasks.items()}
    build = run.tasks["build"]
    assert build.outputs["size"] == 2
    assert run.read(build.outputs["uri"])[:4] == b"PAR1"
    files = build.outputs["outputFiles"]
    assert run.read(files["brands.csv"]).decode().split() == ["brand", "Apple", "Samsung"]
    assert list(csv.DictReader(io.StringIO(run.read(files["count.csv"]).decode()))) == [{"n": "3"}]
    assert run.tasks["reuse"].outputs["rows"] == [
        {"products": 3, "total": 3198.49, "zone": "Asia/Tokyo"}
    ]
    assert any("files of the working directory only" in line.message for line in build.logs)


def test_confined_fetch_one_and_store_jsonl(run_query: RunQuery) -> None:
    fetched = run_query(sql="SELECT 42 AS answer", fetchType="FETCH_ONE", **CONFINED)
    assert fetched.state == "SUCCESS", fetched.error
    assert fetched.outputs["row"] == {"answer": 42}
    stored = run_query(sql="FROM range(3)", fetchType="STORE", **CONFINED)
    assert stored.state == "SUCCESS", stored.error
    lines = stored.read(stored.outputs["uri"]).decode().splitlines()
    assert [json.loads(line) for line in lines] == [{"range": n} for n in range(3)]


@pytest.mark.parametrize("where", ["absolute", "relative"])
def test_confined_database_file_outside_the_working_directory_is_refused(
    run_query: RunQuery, tmp_path: Path, where: str
) -> None:
    database = tmp_path / "not-yet" / "analytics.duckdb"
    url = str(database) if where == "absolute" else "../not-yet/analytics.duckdb"
    result = run_query(url=f"jdbc:duckdb:{url}", sql="SELECT 1", **CONFINED)
    assert result.state == "FAILED"
    assert result.error.startswith("`url` names the database file "), result.error
    assert "outside the working directory, and `fileAccess` is WORKING_DIRECTORY" in result.error
    assert not database.parent.exists()


def test_confined_database_file_inside_the_working_directory_by_absolute_path(
    run_query: RunQuery,
) -> None:
    result = run_query(
        url="jdbc:duckdb:{{ workingDir }}/local.duckdb",
        sql="CREATE TABLE t AS SELECT 7 AS n; SELECT n FROM t",
        fetchType="FETCH_ONE",
        **CONFINED,
    )
    assert result.state == "SUCCESS", result.error
    assert result.outputs["row"] == {"n": 7}


def test_confined_motherduck_is_refused_before_the_run(run_query: RunQuery) -> None:
    with pytest.raises(FlowValidationError, match="`url` names a MotherDuck database, and"):
        run_query(url="jdbc:duckdb:md:analytics", sql="SELECT 1", **CONFINED)


def test_symbolic_link_leading_out_of_the_directory_is_refused(
    tmp_path: Path, outside: Path
) -> None:
    """The worker itself (no flow can make a link): DuckDB resolves the link before checking."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "own.csv").write_text("n\n1\n", "utf-8")
    (work / "link.csv").symlink_to(outside)
    request = QueryRequest(
        database=":memory:",
        sql=f"SELECT * FROM '{work}/own.csv'; SELECT * FROM '{work}/link.csv'",
        fetch_type="FETCH",
        confined_to=str(work),
    )
    error = execute(request).error or ""
    assert error.startswith("statement 2 of 2 failed: Permission Error: "), error
    assert SECRET not in error
    free = execute(QueryRequest(database=":memory:", sql=request.sql, fetch_type="FETCH"))
    assert free.rows == [{"password": SECRET}]


FORCED_FLOW = """\
id: forced
namespace: test

pluginDefaults:
  - type: plait.duckdb
    forced: true
    values:
      fileAccess: WORKING_DIRECTORY

tasks:
  - id: own
    type: io.kestra.plugin.jdbc.duckdb.Query
    inputFiles:
      in.csv: "n\\n5\\n"
    sql: SELECT n FROM 'in.csv'
    fetchType: FETCH_ONE

  - id: escape
    type: io.kestra.plugin.jdbc.duckdb.Query
    fileAccess: ALL
    sql: |
      SELECT 1;
      SELECT * FROM read_csv('__OUTSIDE__');
    fetchType: FETCH
"""


def test_forced_flow_default_confines_every_query_even_against_the_task(
    plait_runner: PlaitRunner, outside: Path
) -> None:
    """Matched through the Kestra alias too; the task's own `fileAccess: ALL` loses."""
    run = plait_runner.run_flow(FORCED_FLOW.replace("__OUTSIDE__", str(outside)))
    assert run.tasks["own"].state == "SUCCESS", run.tasks["own"].error
    assert run.tasks["own"].outputs["row"] == {"n": 5}
    assert_refused(run.tasks["escape"], f"SELECT * FROM read_csv('{outside}');")


def test_distribution_default_confines_every_flow(
    plait_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, outside: Path
) -> None:
    manifest = tmp_path / "plait-distribution.toml"
    manifest.write_text(DISTRIBUTION, "utf-8")
    monkeypatch.setenv("PLAIT_DISTRIBUTION", str(manifest))
    runner = PlaitRunner(plait_home)
    try:
        flow = FORCED_FLOW.replace("__OUTSIDE__", str(outside))
        flow = flow[: flow.index("pluginDefaults:")] + flow[flow.index("tasks:") :]
        run = runner.run_flow(flow)
    finally:
        runner.engine.close()
    assert run.tasks["own"].outputs["row"] == {"n": 5}
    assert_refused(run.tasks["escape"], f"SELECT * FROM read_csv('{outside}');")
