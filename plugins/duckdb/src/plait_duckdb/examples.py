"""Example flows of the Query task: shown in the reference docs and run by the plugin's tests."""

from __future__ import annotations

from plait_sdk import Example
from plait_sdk.task import example_flow

STORE_CSV_AGGREGATE = Example(
    title="Aggregate a CSV file and store the result in the internal storage",
    flow=example_flow(
        "duckdb_store",
        """\
  - id: query
    type: plait.duckdb.Query
    inputFiles:
      products.csv: |
        brand,price
        Apple,999.99
        Apple,1299.00
        Samsung,899.50
    sql: |
      SELECT brand, round(avg(price), 2) AS avg_price
      FROM read_csv_auto('products.csv', header = true)
      GROUP BY brand
      ORDER BY avg_price DESC;
    fetchType: STORE
""",
    ),
)

PARAMETERS_FETCH_ONE = Example(
    title="Bind parameters and fetch one row into the outputs",
    flow=example_flow(
        "duckdb_parameters",
        """\
  - id: expensive
    type: plait.duckdb.Query
    sql: |
      CREATE TABLE products AS
        SELECT * FROM (VALUES ('Apple', 1299.0), ('Samsung', 899.5), ('Apple', 999.99))
          AS t(brand, price);
      SELECT count(*) AS products, max(price) AS top_price
      FROM products
      WHERE price >= :min_price AND brand = :brand;
    parameters:
      min_price: 950
      brand: Apple
    fetchType: FETCH_ONE

  - id: report
    type: plait.core.Return
    format: >-
      {{ outputs.expensive.row.products }} products,
      up to {{ outputs.expensive.row.top_price }}
""",
    ),
)

KESTRA_OUTPUT_FILES = Example(
    title="Write a file with COPY, Kestra style, and query it in the next task",
    flow=example_flow(
        "duckdb_files",
        """\
  - id: export
    type: io.kestra.plugin.jdbc.duckdb.Query
    sql: |
      COPY (SELECT range AS n, range * range AS square FROM range(10))
      TO '{{ outputFiles.squares }}' (HEADER, DELIMITER ',');
    outputFiles:
      - squares

  - id: total
    type: plait.duckdb.Query
    inputFiles:
      squares.csv: "{{ outputs.export.outputFiles.squares }}"
    sql: SELECT sum(square) AS total FROM 'squares.csv'
    fetchType: FETCH_ONE
""",
    ),
)

DATABASE_FILE = Example(
    title="Build a database file in one task and query it in another",
    flow=example_flow(
        "duckdb_database_file",
        """\
  - id: load
    type: plait.duckdb.Query
    sql: CREATE TABLE events AS SELECT range AS id, 'event ' || range AS label FROM range(100);
    outputDbFile: true

  - id: count
    type: plait.duckdb.Query
    databaseUri: "{{ outputs.load.databaseUri }}"
    sql: SELECT count(*) AS events, max(label) AS last_label FROM events
    fetchType: FETCH_ONE
""",
    ),
)

EXAMPLES = (STORE_CSV_AGGREGATE, PARAMETERS_FETCH_ONE, KESTRA_OUTPUT_FILES, DATABASE_FILE)
