"""Plain-text rendering shared by the commands: tables, JSON, error reporting."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INVALID = 2


flow_files_argument = click.argument(
    "flow_files",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
"""One or more flow files, as `plait validate` and `plait flows deploy` take them."""


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, default=str, ensure_ascii=False))


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, max_width: int = 48) -> str:
    """A fixed-width text table; long cells are cut with an ellipsis."""

    def cell(value: Any) -> str:
        text = "" if value is None else str(value)
        if not isinstance(value, str):
            text = json.dumps(value, default=str) if isinstance(value, (dict, list)) else text
        text = text.replace("\n", " ")
        return text if len(text) <= max_width else text[: max_width - 1] + "…"

    width = len(headers)
    # Ragged rows (a CSV with missing or extra fields) are padded or cut to the header.
    cells = [[cell(v) for v in [*row, *[None] * width][:width]] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    rule = "  ".join("-" * w for w in widths)
    body = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join([line, rule, *body])


def fail(message: str, code: int = EXIT_FAILED) -> None:
    """Print an error for the user (no traceback) and exit with ``code``."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)
