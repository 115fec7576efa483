"""The ``plait.duckdb.Query`` task type: its properties, outputs, examples and run."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from plait_sdk import RunContext, Task, output, prop
from plait_sdk.files import FilesOutputs, FilesProperties, Workspace, safe_join
from pydantic import model_validator

from plait_duckdb.database import JDBC_PREFIX, Database, is_remote, url_target
from plait_duckdb.examples import EXAMPLES
from plait_duckdb.process import run_worker
from plait_duckdb.protocol import (
    STORE_EXTENSIONS,
    FetchType,
    FileAccess,
    QueryRequest,
    StoreFormat,
)

LEGACY_FETCH_FLAGS: dict[str, FetchType] = {
    "fetch": "FETCH",
    "fetchOne": "FETCH_ONE",
    "store": "STORE",
}
GLOB_CHARACTERS = frozenset("*?[")


class QueryProperties(FilesProperties):
    sql: str = prop(
        description=(
            "The SQL to run. Several statements separated by `;` run in order; the result of "
            "the last one is what `fetchType` fetches or stores. Relative file paths (as in "
            "`read_csv_auto('in.csv')` or `COPY ... TO 'out.csv'`) are taken in the working "
            "directory, also available as `{{ workingDir }}`."
        ),
        min_length=1,
        examples=["SELECT brand, avg(price) AS avg_price FROM 'in.csv' GROUP BY brand"],
    )
    url: str = prop(
        JDBC_PREFIX,
        description=(
            "The database to connect to, as Kestra's JDBC URL or a bare DuckDB target. "
            "`jdbc:duckdb:` (the default) or `jdbc:duckdb::memory:` gives a new database for "
            "each run; `jdbc:duckdb:<path>` opens or creates a database file (a relative path "
            "is taken in the working directory, which is removed after the run); "
            "`jdbc:duckdb:md:<db>` connects to MotherDuck."
        ),
        examples=["jdbc:duckdb:/var/data/analytics.duckdb", "jdbc:duckdb:md:my_db"],
    )
    databaseUri: str | None = prop(
        None,
        description=(
            "A `plait://` URI of a DuckDB database file in the internal storage (for example "
            "the `databaseUri` output of an earlier Query with `outputDbFile`). The file is "
            "copied into the working directory and queried; the stored file is not changed. "
            "Cannot be combined with a `url` naming a database."
        ),
        examples=["{{ outputs.load.databaseUri }}"],
    )
    outputDbFile: bool = prop(
        False,
        description=(
            "Upload the database file to the internal storage after the run and give its URI "
            "as the `databaseUri` output. Without `url` or `databaseUri`, the new database is "
            "then created as a file instead of in memory."
        ),
        examples=[True],
    )
    parameters: dict[str, Any] | None = prop(
        None,
        description=(
            "Values bound to named placeholders, never pasted into the SQL text: write "
            "`:name` (as in Kestra) or `$name` (DuckDB's syntax) in `sql`. Each statement "
            "receives the values it uses."
        ),
        examples=[{"min_price": 10, "brand": "Apple"}],
    )
    fetchType: FetchType = prop(
        "NONE",
        description=(
            "What to do with the last statement's result. `NONE`: nothing. `FETCH`: all rows "
            "as the `rows` output. `FETCH_ONE`: the first row as the `row` output. `STORE`: "
            "written by DuckDB to a file in the internal storage (`uri` output), in "
            "`storeFormat`; use it for large results."
        ),
        examples=["STORE"],
    )
    fetch: bool = prop(
        False,
        description="Deprecated Kestra spelling of `fetchType: FETCH`. "
        "Setting it together with another fetch mode is an error.",
    )
    fetchOne: bool = prop(
        False,
        description="Deprecated Kestra spelling of `fetchType: FETCH_ONE`. "
        "Setting it together with another fetch mode is an error.",
    )
    store: bool = prop(
        False,
        description="Deprecated Kestra spelling of `fetchType: STORE`. "
        "Setting it together with another fetch mode is an error.",
    )
    storeFormat: StoreFormat = prop(
        "JSONL",
        description=(
            "File format of the `STORE` result: `JSONL` (one JSON object per line; Kestra "
            "stores ION here), `CSV` (with a header line) or `PARQUET`."
        ),
        examples=["PARQUET"],
    )
    timeZoneId: str | None = prop(
        None,
        description=(
            "Time zone of the session (DuckDB's `TimeZone` setting), used for `TIMESTAMPTZ` "
            "values; the database's default (UTC) when not given."
        ),
        examples=["Europe/Paris"],
    )
    fileAccess: FileAccess = prop(
        "ALL",
        description=(
            "Which files the SQL may reach. `ALL` (as in Kestra): any file the engine's user "
            "can read or write, by path or URL, with DuckDB extensions installed and loaded "
            "on demand. `WORKING_DIRECTORY`: only files inside the working directory "
            "(`inputFiles`, the copy of `databaseUri`, what the SQL writes there, `STORE` "
            "results); any other path (`/etc/passwd`, `../x`, a symbolic link leading out), "
            "URL, extension loading and `SET` of DuckDB's settings are refused, and so are a "
            "`url` naming MotherDuck or a database file elsewhere (set the time zone with "
            "`timeZoneId`). A platform team sets it for every flow with a forced plugin "
            "default, which flows cannot override."
        ),
        examples=["WORKING_DIRECTORY"],
    )

    @model_validator(mode="after")
    def _consistent(self) -> QueryProperties:
        self.resolved_fetch_type()
        target = url_target(self.url)
        if self.databaseUri and target:
            raise ValueError("give either `databaseUri` or a `url` naming a database, not both")
        if self.databaseUri and not self.databaseUri.startswith("plait://"):
            raise ValueError("`databaseUri` must be a `plait://` URI of the internal storage")
        if self.outputDbFile and is_remote(target):
            raise ValueError("`outputDbFile` needs a local database file, not a remote one")
        if self.fileAccess == "WORKING_DIRECTORY" and is_remote(target):
            raise ValueError(
                "`url` names a MotherDuck database, and `fileAccess` is WORKING_DIRECTORY: "
                "DuckDB may use only files inside the working directory"
            )
        return self

    def resolved_fetch_type(self) -> FetchType:
        """One fetch mode from `fetchType` and Kestra's legacy flags, which must agree."""
        asked = {
            f"{flag}: true": mode
            for flag, mode in LEGACY_FETCH_FLAGS.items()
            if getattr(self, flag)
        }
        if "fetchType" in self.model_fields_set:
            asked[f"fetchType: {self.fetchType}"] = self.fetchType
        if len(set(asked.values())) > 1:
            raise ValueError(
                f"contradictory fetch modes ({', '.join(asked)}): use `fetchType` alone"
            )
        return next(iter(asked.values()), "NONE")


class QueryOutputs(FilesOutputs):
    row: dict[str, Any] | None = output(
        None,
        description=(
            "With `FETCH_ONE`: the first row of the result as a map of column name to value "
            "(null when there is none). Dates and times are ISO 8601 strings, DECIMAL values "
            "exact decimal strings, BLOBs base64."
        ),
    )
    rows: list[dict[str, Any]] | None = output(
        None,
        description="With `FETCH`: every row of the result, each as `row` describes.",
    )
    uri: str | None = output(
        None,
        description=(
            "With `STORE`: the `plait://` URI of the result file, named `result-<id>` with the "
            "extension of `storeFormat` (`.jsonl`, `.csv` or `.parquet`)."
        ),
    )
    size: int | None = output(
        None,
        description="With `FETCH`, `FETCH_ONE` or `STORE`: the number of rows fetched or stored.",
    )
    databaseUri: str | None = output(
        None,
        description="With `outputDbFile`: the `plait://` URI of the database file after the run.",
    )


class Query(Task[QueryProperties, QueryOutputs]):
    """Query files and databases with DuckDB.

    Runs SQL with DuckDB in a working directory of its own: files given by `inputFiles` are
    there, relative paths in the SQL are taken there, and files matched by `outputFiles` (or
    written under `{{ outputDir }}`) are uploaded afterwards. The last statement's result can
    be fetched into the outputs or stored, by DuckDB itself, as a JSON lines, CSV or Parquet
    file in the internal storage. Each name `x` listed in `outputFiles` without wildcards is
    also the expression variable `{{ outputFiles.x }}`: the path to write it to, as in Kestra.
    """

    type = "plait.duckdb.Query"
    aliases = ("io.kestra.plugin.jdbc.duckdb.Query",)
    Properties = QueryProperties
    Outputs = QueryOutputs
    examples = EXAMPLES

    def variables(self, raw: Mapping[str, Any], ctx: RunContext) -> Mapping[str, Any]:
        workspace = Workspace.create(ctx)
        return {**workspace.variables(), "outputFiles": _named_outputs(workspace, raw)}

    def run(self, props: QueryProperties, ctx: RunContext) -> QueryOutputs:
        workspace = Workspace.create(ctx)
        workspace.write_input_files(ctx, props.inputFiles)
        confined = props.fileAccess == "WORKING_DIRECTORY"
        database = Database.resolve(
            props.url, props.databaseUri, props.outputDbFile, workspace, ctx, confined=confined
        )
        fetch_type = props.resolved_fetch_type()
        extension = STORE_EXTENSIONS[props.storeFormat]
        # A unique name: a file stored under a name that an output file also has is replaced.
        store_file = f"result-{uuid.uuid4().hex[:12]}.{extension}"
        request = QueryRequest(
            database=database.connect_to,
            sql=props.sql,
            fetch_type=fetch_type,
            parameters=props.parameters or {},
            store_file=store_file if fetch_type == "STORE" else None,
            store_format=props.storeFormat,
            time_zone=props.timeZoneId,
            confined_to=str(workspace.root.resolve()) if confined else None,
        )
        access = ", files of the working directory only" if confined else ""
        ctx.log.info(f"running the SQL on {database.describe()} (fetchType {fetch_type}{access})")
        response = run_worker(ctx, request, workspace.root, workspace.environment())
        uri = None
        if request.store_file:
            # Taken over before outputFiles are matched, so that no glob uploads it twice.
            uri = ctx.storage.put_file(workspace.root / request.store_file, move=True)
            ctx.log.info(f"stored {response.size} rows as {props.storeFormat}")
        database_uri = None
        if props.outputDbFile and database.file is not None:
            database_uri = ctx.storage.put_file(database.file, move=database.temporary)
        return QueryOutputs(
            row=response.row,
            rows=response.rows,
            uri=uri,
            size=response.size,
            databaseUri=database_uri,
            outputFiles=workspace.collect_output_files(ctx, props.outputFiles),
        )


def _named_outputs(workspace: Workspace, raw: Mapping[str, Any]) -> dict[str, str]:
    """Paths for the `outputFiles` entries that name one file (Kestra's `{{ outputFiles.x }}`).

    Entries holding an expression or a wildcard name no single file and are left out.
    """
    entries = raw.get("outputFiles")
    if not isinstance(entries, list):
        return {}
    return {
        name: str(safe_join(workspace.root, name))
        for name in entries
        if isinstance(name, str) and "{{" not in name and not GLOB_CHARACTERS & set(name)
    }
