"""The DuckDB worker process: runs one request, with the task's working directory as its current
directory, and answers on stdout (see protocol.py for why DuckDB runs in its own process).

Started as ``python -P -m plait_duckdb.worker``; ``-P`` keeps the working directory, where the
flow's files live, out of the import path.
"""

from __future__ import annotations

import os
import re
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
DUCKDB_ERRNO = re.compile(r'"errno"\s*:\s*"(\d+)"')
"""Where DuckDB's IO Error carries the OS error number (in a JSON blob inside its message)."""
CONFINED_CONNECTION: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}
"""How a confined connection starts: extensions beyond those built into the duckdb package
(parquet, json, icu) are neither downloaded nor loaded on demand. Confinement refuses both
anyway; this spares the attempt and gives DuckDB's plainer "exists in the ... extension"."""
CONFINEMENT_MARKERS = ("the configuration has been locked", "exists in the")
"""Words of DuckDB's errors for a locked SET and for a function of an extension not loaded."""
CONFINEMENT_HINT = (
    "fileAccess is WORKING_DIRECTORY: DuckDB may use only files inside the task's working "
    "directory (give other files with inputFiles), with no URL, no extension beyond those "
    "built in, and no SET of its settings (set the time zone with timeZoneId)"
)


class SqlFailure(Exception):
    """A failure whose message is complete for the flow author."""


def execute(request: QueryRequest) -> QueryResponse:
    config = CONFINED_CONNECTION if request.confined_to is not None else {}
    try:
        connection = duckdb.connect(request.database, config=config)
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
    if request.confined_to is not None:
        _confine(connection, request.confined_to)
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
    confined = request.confined_to is not None
    for number, statement in enumerate(leading, start=1):
        with _blamed(statement, number, len(statements), confined):
            connection.execute(statement, _bound(statement, request.parameters))
    with _blamed(last, len(statements), len(statements), confined):
        response = _last(connection, last, _bound(last, request.parameters), request)
    return response


def _confine(connection: duckdb.DuckDBPyConnection, directory: str) -> None:
    """From now on, let DuckDB reach no file, URL or extension outside ``directory``, and lock
    its settings so that the SQL cannot lift that.

    The order is DuckDB's: ``allowed_directories`` can only be set once the database runs and
    while external access is still on, and a locked configuration takes no further SET. DuckDB
    resolves ``..`` and symbolic links before comparing a path with the allowed directory.
    """
    try:
        connection.execute(f"SET allowed_directories = [{literal(directory.rstrip('/') + '/')}]")
        connection.execute("SET enable_external_access = false")
        connection.execute("SET lock_configuration = true")
    except duckdb.Error as exc:
        raise SqlFailure(f"cannot confine DuckDB to the working directory: {exc}") from exc


@contextmanager
def _blamed(statement: duckdb.Statement, number: int, total: int, confined: bool) -> Iterator[None]:
    """Turn DuckDB's error into a message naming the statement at fault, and saying why when
    the confinement to the working directory refused it."""
    try:
        yield
    except duckdb.Error as exc:
        where = f"statement {number} of {total}" if total > 1 else "the SQL statement"
        hint = f"\n{CONFINEMENT_HINT}" if confined and _refused_by_confinement(exc) else ""
        raise SqlFailure(
            f"{where} failed: {exc}\nstatement: {excerpt(statement.query)}{hint}"
        ) from exc


def _refused_by_confinement(error: duckdb.Error) -> bool:
    """A path or URL outside the working directory, an extension to load, or a SET."""
    message = str(error)
    return isinstance(error, duckdb.PermissionException) or any(
        marker in message for marker in CONFINEMENT_MARKERS
    )


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
        with _writing(request.store_file):
            return _count(connection.execute(f"COPY (\n{query}\n) {target}", parameters))
    # INSERT ... RETURNING, PRAGMA, CALL, PIVOT...: COPY cannot nest them, so their result,
    # already computed by DuckDB, is read through a temporary view.
    relation = connection.sql(statement.query, params=parameters)
    if relation is None:
        raise SqlFailure("fetchType STORE needs a last statement that returns rows")
    connection.register(RESULT_VIEW, relation)
    with _writing(request.store_file):
        return _count(connection.execute(f"COPY (FROM {RESULT_VIEW}) {target}"))


@contextmanager
def _writing(file: str) -> Iterator[None]:
    """A disk error of DuckDB writing ``file`` (in the working directory) as the one line every
    plait task gives, ``cannot write <path>: No space left on device``, instead of DuckDB's
    JSON-laden message; any other error goes on to :func:`_blamed`."""
    try:
        yield
    except duckdb.IOException as exc:
        found = DUCKDB_ERRNO.search(str(exc))
        if found is None:
            raise
        # Imported here: the SDK's import cost is paid by failing runs only.
        from plait_sdk.errors import os_error_message

        number = int(found[1])
        disk_error = OSError(number, os.strerror(number))
        message = os_error_message(disk_error, os.path.abspath(file), "write")
        if message is None:
            raise
        raise SqlFailure(message) from exc


def _count(cursor: duckdb.DuckDBPyConnection) -> int:
    counted = cursor.fetchone()
    return int(counted[0]) if counted else 0


def main() -> None:
    request = QueryRequest.from_json(sys.stdin.read())
    sys.stdout.write(execute(request).to_json())


if __name__ == "__main__":
    main()
