"""The two messages exchanged between the Query task (in the engine) and its DuckDB worker.

DuckDB runs in a child process whose current directory is the task's working directory, so that
every relative path in the SQL, read or written, lands there; an in-process connection could only
offer that by changing the engine's own current directory. The task sends one request on the
worker's stdin (never on its command line, where a token in a URL would show in `ps`) and reads
one response from its stdout.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

FetchType = Literal["NONE", "FETCH", "FETCH_ONE", "STORE"]
StoreFormat = Literal["JSONL", "CSV", "PARQUET"]
FileAccess = Literal["ALL", "WORKING_DIRECTORY"]

STORE_EXTENSIONS: dict[str, str] = {"JSONL": "jsonl", "CSV": "csv", "PARQUET": "parquet"}


@dataclass(frozen=True)
class QueryRequest:
    database: str
    """What ``duckdb.connect`` receives: ``:memory:``, a file path or a MotherDuck ``md:`` URL."""
    sql: str
    fetch_type: FetchType
    parameters: dict[str, Any] = field(default_factory=dict)
    store_file: str | None = None
    """Where STORE writes, relative to the working directory."""
    store_format: StoreFormat = "JSONL"
    time_zone: str | None = None
    confined_to: str | None = None
    """The only directory DuckDB may read or write (``fileAccess: WORKING_DIRECTORY``), as an
    absolute path; None leaves DuckDB free to reach any file, URL or extension."""

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> QueryRequest:
        return cls(**json.loads(text))


@dataclass(frozen=True)
class QueryResponse:
    row: dict[str, Any] | None = None
    rows: list[dict[str, Any]] | None = None
    size: int | None = None
    error: str | None = None
    """The whole message for the flow author; the task masks secrets in it before raising."""

    def to_json(self) -> str:
        # Values are converted beforehand (see values.py); NaN would not be JSON.
        return json.dumps(asdict(self), allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> QueryResponse:
        return cls(**json.loads(text))
