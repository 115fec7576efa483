"""The DuckDB worker process: runs one request, with the task's working directory as its current
directory, and answers on stdout (see protocol.py for why DuckDB runs in its own process).

Started as ``python -P -m plait_duckdb.worker``; ``-P`` keeps the working directory, where the
flow's files live, out of the import path.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import duckdb

from plait_duckdb.protocol import QueryRequest, QueryResponse
from plait_duckdb.sqltext import (
    colon_placeholders,
    dollar_placeholders,
    excerpt,
    literal,
    without_terminator,
)
from plait_duckdb.values import record

COPY_OPTIONS = {"JSONL": "FORMAT JSON", "CSV": "FORMAT CSV, HEADER", "PARQUET": "FORMAT PARQUET"}
RESULT_VIEW = "plait_query_result"


class SqlFailure(Exception):
    """A failure whose message is complete for the flow author."""


def execute(request: QueryRequest) -> QueryResponse:
    try:
        connection = duckdb.connect(request.database)
    except duckdb.Error as exc:
        return QueryResponse(error=f"cannot open the DuckDB database: {exc}")
    try:
        return _run(connection, request)
    except SqlFailure as exc:
        return QueryResponse(error=str(exc))
    finally:
        connection.close()


def _run(connection: duckdb.DuckDBPyConnection, request: QueryRequest) -> QueryResponse:
    if request.time_zone:
        try:
            connection.execute(f"SET TimeZone = {literal(request.time_zone)}")
        except duckdb.Error as exc:
            raise SqlFailure(f"timeZoneId {request.time_zone!r} is not usable: {exc}") from exc
    sql = dollar_placeholders(request.sql, request.parameters)
    try:
        statements = connection.extract_statements(sql)
    except duckdb.Error as exc:
        unbound = sorted({f"`:{name}`" for _, name in colon_placeholders(sql)})
        hint = f"\n{', '.join(unbound)}: no value in `parameters`" if unbound else ""
        raise SqlFailure(f"the SQL could not be parsed: {exc}{hint}") from exc
    if not statements:
        raise SqlFailure("the `sql` property holds no SQL statement")
    *leading, last = statements
    for number, statement in enumerate(leading, start=1):
        with _blamed(statement, number, len(statements)):
            connection.execute(statement, _bound(statement, request.parameters))
    with _blamed(last, len(statements), len(statements)):
        response = _last(connection, last, _bound(last, request.parameters), request)
    return response


@contextmanager
def _blamed(statement: duckdb.Statement, number: int, total: int) -> Iterator[None]:
    """Turn DuckDB's error into a message naming the statement at fault."""
    try:
        yield
    except duckdb.Error as exc:
        where = f"statement {number} of {total}" if total > 1 else "the SQL statement"
        raise SqlFailure(f"{where} failed: {exc}\nstatement: {excerpt(statement.query)}") from exc


def _bound(statement: duckdb.Statement, parameters: dict[str, Any]) -> dict[str, Any] | None:
    """The parameters this statement uses: DuckDB refuses values it has no placeholder for."""
    used = {name: parameters[name] for name in statement.named_parameters if name in parameters}
    return used or None


def _last(
    connection: duckdb.DuckDBPyConnection,
    statement: duckdb.Statement,
    parameters: dict[str, Any] | None,
    request: QueryRequest,
) -> QueryResponse:
    """Run the last statement, whose result the fetch type decides what to do with."""
    if request.fetch_type == "STORE":
        return QueryResponse(size=_store(connection, statement, parameters, request))
    cursor = connection.execute(statement, parameters)
    columns = [column[0] for column in cursor.description or ()]
    if request.fetch_type == "FETCH_ONE":
        first = cursor.fetchone() if columns else None
        row = None if first is None else record(columns, first)
        return QueryResponse(row=row, size=0 if row is None else 1)
    if request.fetch_type == "FETCH":
        rows = [record(columns, values) for values in cursor.fetchall()] if columns else []
        return QueryResponse(rows=rows, size=len(rows))
    return QueryResponse()


def _store(
    connection: duckdb.DuckDBPyConnection,
    statement: duckdb.Statement,
    parameters: dict[str, Any] | None,
    request: QueryRequest,
) -> int:
    """Write the result with DuckDB's own COPY, which streams and returns the row count."""
    assert request.store_file is not None
    target = f"TO {literal(request.store_file)} ({COPY_OPTIONS[request.store_format]})"
    if statement.type == duckdb.StatementType.SELECT:
        query = without_terminator(statement.query)
        # The newline keeps a trailing `-- comment` from swallowing the closing parenthesis.
        return _count(connection.execute(f"COPY (\n{query}\n) {target}", parameters))
    # INSERT ... RETURNING, PRAGMA, CALL, PIVOT...: COPY cannot nest them, so their result,
    # already computed by DuckDB, is read through a temporary view.
    relation = connection.sql(statement.query, params=parameters)
    if relation is None:
        raise SqlFailure("fetchType STORE needs a last statement that returns rows")
    connection.register(RESULT_VIEW, relation)
    return _count(connection.execute(f"COPY (FROM {RESULT_VIEW}) {target}"))


def _count(cursor: duckdb.DuckDBPyConnection) -> int:
    counted = cursor.fetchone()
    return int(counted[0]) if counted else 0


def main() -> None:
    request = QueryRequest.from_json(sys.stdin.read())
    sys.stdout.write(execute(request).to_json())


if __name__ == "__main__":
    main()
