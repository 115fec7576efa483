"""Previews of stored files as the Outputs tab shows them: tables for row formats, text otherwise.

Only the first rows are read, so previewing a multi-gigabyte file is instant.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import shutil
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

from plait.cli.output import table
from plait.errors import PlaitError

ROW_SUFFIXES = {".jsonl", ".ndjson", ".ion", ".json"}
HEAD_BYTES = 4 * 1024 * 1024


Records = tuple[list[dict[str, Any]], bool]
"""The first rows of a row-format file as records, and whether more follow."""

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".svg", ".gif", ".bmp", ".webp"}


def file_rows(uri: str, stream: BinaryIO, rows: int) -> Records | None:
    """The first ``rows`` records of a JSON-lines, CSV or Parquet file; None when the file is
    not one (by its name, or because its head does not read as one)."""
    suffix = Path(uri).suffix.lower()
    if suffix == ".parquet":
        return _parquet(stream, rows)
    if suffix not in ROW_SUFFIXES | {".csv", ".tsv"}:
        return None
    data = stream.read(HEAD_BYTES)
    head = io.BytesIO(data)
    try:
        if suffix in ROW_SUFFIXES:
            found = _json_lines(head, rows)
            if found is None and suffix == ".ion":
                return _ion(data.decode("utf-8"), rows)
            return found
        return _csv(head, rows, "\t" if suffix == ".tsv" else ",")
    except (UnicodeDecodeError, csv.Error):
        return None


def preview_file(uri: str, stream: BinaryIO, rows: int) -> str:
    """A table for row formats; a file that is not what its name says is shown as text."""
    start = stream.tell() if stream.seekable() else None
    found = file_rows(uri, stream, rows)
    if found is not None:
        return _records_table(*found)
    if start is None:
        raise PlaitError(f"cannot preview {uri}: not a row file and not seekable")
    stream.seek(start)
    return text_head(stream, rows)


def _records_table(records: list[dict[str, Any]], more: bool) -> str:
    headers: list[str] = []
    for record in records:
        headers.extend(k for k in record if k not in headers)
    rows = [["null" if r.get(h) is None else r.get(h) for h in headers] for r in records]
    body = table(headers, rows) if headers else "(empty)"
    return body + ("\n…" if more else "")


def json_text(value: Any) -> str:
    """``value`` (preview records, or a document holding them) as JSON text in which decimals
    are numbers written exactly as read: ``1.10`` stays ``1.10``, where ``json.dumps`` could
    only write a float (``1.1``) or a string (``"1.10"``). Other values JSON cannot hold (a
    Parquet date, bytes) are written as their text."""
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else json.dumps(str(value))
    if isinstance(value, dict):
        pairs = (
            f"{json.dumps(str(k), ensure_ascii=False)}:{json_text(v)}" for k, v in value.items()
        )
        return "{" + ",".join(pairs) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(json_text(item) for item in value) + "]"
    return json.dumps(value, default=str, ensure_ascii=False)


def _json_lines(stream: BinaryIO, rows: int) -> Records | None:
    text = io.TextIOWrapper(stream, encoding="utf-8")
    head = list(itertools.islice(text, rows + 1))
    records: list[dict[str, Any]] = []
    for line in head[:rows]:
        if not line.strip():
            continue
        try:
            value = json.loads(line, parse_float=Decimal)  # 1.10 stays 1.10
        except json.JSONDecodeError:
            return None  # not JSON lines after all: show it as text
        records.append(value if isinstance(value, dict) else {"value": value})
    return records, len(head) > rows


def _ion(text: str, rows: int) -> Records | None:
    """Kestra's stored results: Ion values (``{name:"x",n:1}``), one a line. The head may
    end inside a value: what came before it is kept."""
    from plait.builtin import ion_text

    records: list[dict[str, Any]] = []
    try:
        for value in itertools.islice(ion_text.values(text), rows + 1):
            records.append(value if isinstance(value, dict) else {"value": value})
    except ion_text.IonError:
        if not records:
            return None  # not Ion after all: show it as text
    return records[:rows], len(records) > rows


def _csv(stream: BinaryIO, rows: int, delimiter: str) -> Records:
    reader = csv.reader(io.TextIOWrapper(stream, encoding="utf-8", newline=""), delimiter=delimiter)
    header = next(reader, None)
    if header is None:
        return [], False
    body = list(itertools.islice(reader, rows + 1))
    records = [
        dict(zip(header, [*row, *[None] * len(header)], strict=False)) for row in body[:rows]
    ]
    return records, len(body) > rows


def _parquet(stream: BinaryIO, rows: int) -> Records:
    try:
        import duckdb
    except ImportError:
        raise PlaitError(
            "previewing Parquet needs the duckdb library (pip install plait-duckdb); "
            "download the file with `plait storage get` instead"
        ) from None
    with tempfile.NamedTemporaryFile(suffix=".parquet") as local:
        shutil.copyfileobj(stream, local)
        local.flush()
        try:
            relation = duckdb.sql(f"SELECT * FROM read_parquet('{local.name}') LIMIT {rows + 1}")
            columns = relation.columns
            fetched = relation.fetchall()
        except duckdb.Error as exc:
            raise PlaitError(f"not a readable Parquet file: {exc}") from None
    records = [dict(zip(columns, row, strict=True)) for row in fetched[:rows]]
    return records, len(fetched) > rows


def text_head(stream: BinaryIO, rows: int, encoding: str = "utf-8") -> str:
    head = stream.read(64 * 1024)
    if b"\x00" in head and encoding.lower().replace("-", "") == "utf8":
        return f"(binary file, {len(head)}+ bytes: download it with `plait storage get`)"
    lines = head.decode(encoding, errors="replace").splitlines()
    return "\n".join(lines[:rows]) + ("\n…" if len(lines) > rows else "")
