"""``plait schema``: the JSON Schemas editors use for completion and inline validation."""

from __future__ import annotations

from pathlib import Path

import click

from plait.cli.main import user_errors
from plait.cli.output import EXIT_FAILED, fail


@click.group()
def schema() -> None:
    """Print JSON Schemas generated from the installed plugins (draft-07).

    Bind the flow schema in an editor to get completion and validation while writing flows:
    see docs/editors.md.
    """


@schema.command("flow")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the schema to this file instead of stdout.",
)
@user_errors
def flow_command(output: Path | None) -> None:
    """The schema of a whole flow, with every installed task and trigger type."""
    from plait.plugins import build_registry
    from plait.schema import flow_schema, to_json
    from plait.schema.files import write_atomically

    registry = build_registry()
    text = to_json(flow_schema(registry.task_types, registry.trigger_types))
    if output is None:
        click.echo(text, nl=False)
        return
    write_atomically(output, text)
    click.echo(f"wrote {output}", err=True)


@schema.command("task")
@click.argument("task_type")
@user_errors
def task_command(task_type: str) -> None:
    """The properties and outputs schemas of TASK_TYPE (a type id or an alias)."""
    from plait.plugins import build_registry
    from plait.schema import task_schema, to_json

    registry = build_registry()
    cls = registry.find_task_type(task_type)
    if cls is None:
        fail(registry.unknown_task_type_message(task_type), EXIT_FAILED)
        return
    click.echo(to_json(task_schema(cls)), nl=False)
