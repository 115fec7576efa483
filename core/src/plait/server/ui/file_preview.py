"""The Outputs tab's file preview: what the API's preview endpoint reads (the same function),
shown as a person wants it: rows as a table (columns are the union of every row's keys, so a
key missing from the first row still shows, kestra-io/kestra#5743), JSON indented, Markdown
rendered without any HTML or script of the file's own, images as images, anything else as its
size and a download link."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from markupsafe import Markup

from plait.server.executions_api import PREVIEW_MAX_BYTES, PREVIEW_ROWS, preview_document
from plait.server.ui.markdown_html import markdown_html
from plait.server.ui.output_values import Cell, cell, file_name, pretty_json
from plait.storage.internal import InternalStorage

MAX_ROWS = 5000
"""The most rows a preview shows (the API's maxRows bound)."""
BINARY_PROBE = 8192

PreviewKind = Literal["table", "json", "text", "markdown", "image", "binary"]

IMAGE_TYPES = {".jpg": "jpeg", ".svg": "svg+xml"}
"""Media subtypes that differ from the file's suffix."""


@dataclass
class Preview:
    uri: str
    size: int
    kind: PreviewKind
    rows: int
    """The row (or line) limit it was read with."""
    more: bool = False
    """More rows or lines follow than are shown."""
    columns: list[str] = field(default_factory=list)
    cells: list[list[Cell]] = field(default_factory=list)
    text: str = ""
    html: Markup | None = None
    image: str = ""
    """A ``data:`` URL of the image (at most the API's preview size)."""

    @property
    def name(self) -> str:
        return file_name(self.uri)

    @property
    def next_rows(self) -> int | None:
        """The row limit of the "show more" link, None at the maximum."""
        if not self.more or self.rows >= MAX_ROWS:
            return None
        return min(MAX_ROWS, max(self.rows * 10, PREVIEW_ROWS))


def row_limit(raw: str | None) -> int:
    """``rows=`` from the URL: a whole number from 1 to MAX_ROWS, else the default."""
    try:
        rows = int(raw or PREVIEW_ROWS)
    except ValueError:
        return PREVIEW_ROWS
    return min(max(rows, 1), MAX_ROWS)


def preview(storage: InternalStorage, uri: str, rows: int) -> Preview:
    """The preview of ``uri`` (already checked to be a file of the execution shown)."""
    size = storage.size(uri)
    base = Preview(uri, size, "text", rows)
    suffix = Path(uri).suffix.lower()
    if suffix == ".json" and size <= PREVIEW_MAX_BYTES and (found := _json(storage, uri)):
        base.kind, base.text = "json", found
        return base
    document = preview_document(storage, uri, rows, "utf-8")
    kind, content, truncated = document["type"], document["content"], document["truncated"]
    base.more = bool(truncated)
    if kind == "LIST":
        base.kind = "table"
        base.columns, base.cells = _table(content)
    elif kind == "MARKDOWN":
        base.kind, base.html = "markdown", markdown_html(content)  # its HTML escaped
    elif kind == "IMAGE" and not truncated:
        subtype = IMAGE_TYPES.get(suffix, suffix.lstrip("."))
        base.kind, base.image = "image", f"data:image/{subtype};base64,{content}"
    elif kind == "IMAGE" or _binary(storage, uri):
        base.kind = "binary"  # too big to inline, or not text: its size and a download link
    else:
        base.text = content.removesuffix("\n…")
    return base


def _json(storage: InternalStorage, uri: str) -> str | None:
    """A JSON document indented; None if the file is not one (JSON lines named .json)."""
    with storage.open(uri) as stream:
        data = stream.read(PREVIEW_MAX_BYTES)
    try:
        return pretty_json(json.loads(data))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None


def _binary(storage: InternalStorage, uri: str) -> bool:
    with storage.open(uri) as stream:
        return b"\x00" in stream.read(BINARY_PROBE)


def _table(records: list[dict[str, Any]]) -> tuple[list[str], list[list[Cell]]]:
    columns: dict[str, None] = {}
    for record in records:
        columns.update(dict.fromkeys(record))
    names = list(columns)
    missing = Cell("", "null")
    return names, [
        [cell(record[name]) if name in record else missing for name in names] for record in records
    ]
