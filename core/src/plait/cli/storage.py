"""``plait storage``: download and preview files of the internal storage."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click

from plait.cli.engine import open_engine
from plait.cli.main import user_errors
from plait.errors import PlaitError
from plait.preview import preview_file


@click.group()
def storage() -> None:
    """Download and preview files a run produced (plait:/// URIs)."""


@storage.command()
@click.argument("uri")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of stdout.",
)
@user_errors
def get(uri: str, output: Path | None) -> None:
    """Download URI to stdout or to a file (streamed)."""
    with open_engine() as engine, engine.storage.open(uri) as stream:
        if output is None:
            shutil.copyfileobj(stream, sys.stdout.buffer)
            return
        partial = output.with_name(output.name + ".part")
        try:
            with partial.open("wb") as target:
                shutil.copyfileobj(stream, target)
            partial.replace(output)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise PlaitError(f"cannot write {output}: {exc.strerror or exc}") from None
    click.echo(f"{uri} -> {output}", err=True)


@storage.command()
@click.argument("uri")
@click.option(
    "--rows", default=20, show_default=True, type=click.IntRange(min=1), help="How many rows."
)
@user_errors
def preview(uri: str, rows: int) -> None:
    """Preview URI: a table for JSON lines, CSV and Parquet; the first lines of other text."""
    with open_engine() as engine, engine.storage.open(uri) as stream:
        click.echo(preview_file(uri, stream, rows))
