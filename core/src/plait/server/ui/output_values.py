"""How the Outputs tab shows one value: by its type, so a number does not read as text, a
null is visibly null, a stored file is a link to preview or download, and a big structure
stays readable (a nested table while small, pretty JSON past that)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from plait.expressions.text import to_text
from plait.preview import json_text
from plait.state.model import json_default
from plait.storage import uris

Kind = Literal["null", "boolean", "number", "string", "long", "file", "url", "map", "list"]

LONG_TEXT = 160
"""Characters past which a string is shown folded (its start as the summary)."""
SHOWN_TEXT = 200_000
"""Characters of one string put in the page at most (a body of megabytes is cut)."""
NESTED_ITEMS = 50
"""A list or map with more items than this, or nested deeper than NESTED_DEPTH, is shown as
pretty JSON rather than as nested tables (thousands of cells would bury the rest)."""
NESTED_DEPTH = 3
CELL_TEXT = 500
"""Characters of one preview table cell."""

KESTRA_PREFIX = "kestra:///"


def value_kind(value: Any, depth: int = 0) -> Kind:
    """What a value is shown as (the template has one branch per kind)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | Decimal):
        return "number"
    if isinstance(value, str):
        return _text_kind(value)
    if isinstance(value, dict):
        return "map" if _nests(value, depth) else "long"
    if isinstance(value, list | tuple):
        return "list" if _nests(value, depth) else "long"
    return "string"


def _text_kind(value: str) -> Kind:
    if is_file(value):
        return "file"
    if value.startswith(("http://", "https://")) and " " not in value:
        return "url"
    return "long" if len(value) > LONG_TEXT or "\n" in value else "string"


def _nests(value: dict[Any, Any] | list[Any] | tuple[Any, ...], depth: int) -> bool:
    return depth < NESTED_DEPTH and len(value) <= NESTED_ITEMS


def is_file(value: Any) -> bool:
    """A file in internal storage: plait's ``plait:///`` URI, or Kestra's ``kestra:///``."""
    return uris.is_uri(value) or (isinstance(value, str) and value.startswith(KESTRA_PREFIX))


def file_name(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]


def long_text(value: Any) -> str:
    """A folded value's full text: strings as they are (cut at SHOWN_TEXT), structures as
    indented JSON."""
    text = value if isinstance(value, str) else pretty_json(value)
    if len(text) > SHOWN_TEXT:
        return text[:SHOWN_TEXT] + f"\n… ({len(text) - SHOWN_TEXT:,} more characters)"
    return text


def summary(value: Any) -> str:
    """One short line about a value, for the tree (Kestra's "N items", "Internal link")."""
    kind = value_kind(value)
    if kind in ("map", "list") or (kind == "long" and not isinstance(value, str)):
        count = len(value)
        return f"{count} item{'s' if count != 1 else ''}"
    if kind == "file":
        return f"file {file_name(value)}"
    text = scalar_text(value)
    return text if len(text) <= 60 else text[:57] + "…"


def scalar_text(value: Any) -> str:
    """A value as an expression prints it (``true``, ``1.10``, dates in ISO-8601), except
    null, which shows as ``null`` rather than as nothing."""
    return "null" if value is None else to_text(value)


def pretty_json(value: Any) -> str:
    return json.dumps(value, default=json_default, ensure_ascii=False, indent=2)


@dataclass(frozen=True)
class Cell:
    """One cell of a preview table: its text and kind (numbers align right, null is shown
    as such, nested values as compact JSON)."""

    text: str
    kind: Kind


def cell(value: Any) -> Cell:
    if value is None:
        return Cell("null", "null")
    if isinstance(value, bool):
        return Cell(scalar_text(value), "boolean")
    if isinstance(value, int | float | Decimal):
        return Cell(str(value), "number")
    if isinstance(value, dict | list | tuple):
        text = json_text(value)
        kind: Kind = "map"
    else:
        text, kind = scalar_text(value), "string"
    return Cell(text if len(text) <= CELL_TEXT else text[: CELL_TEXT - 1] + "…", kind)
