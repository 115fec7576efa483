"""``plait docs``: the reference docs, generated from what the installed plugins declare."""

from __future__ import annotations

from pathlib import Path

import click

from plait.cli.main import user_errors


@click.command()
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("docs/reference"),
    show_default=True,
    help="Folder to write into. Its tasks/ and triggers/ folders are the command's own: pages "
    "of task and trigger types no longer installed are removed.",
)
@click.option(
    "--plugin",
    "distribution",
    metavar="DISTRIBUTION",
    help="Document only this distribution's task and trigger types, filters and functions (a "
    "plugin author documenting their plugin), e.g. plait-http.",
)
@user_errors
def docs(output_dir: Path, distribution: str | None) -> None:
    """Write the reference docs: a page per task type (properties, outputs, examples) and per
    trigger type, the expression language, storage URIs and the command line."""
    from plait.plugins import build_registry
    from plait.schema.files import write_tree
    from plait.schema.reference import OWNED_FOLDERS, reference_files

    root = click.get_current_context().find_root().command
    assert isinstance(root, click.Group)
    files = reference_files(build_registry(), root, distribution)
    written = write_tree(output_dir, files, owned=OWNED_FOLDERS)
    click.echo(f"wrote {len(written)} files under {output_dir}", err=True)
