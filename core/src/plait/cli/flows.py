"""``plait flows``: store flows with revisions so Subflow tasks can find them."""

from __future__ import annotations

from pathlib import Path

import click

from plait.cli.engine import open_engine
from plait.cli.main import user_errors
from plait.cli.output import flow_files_argument, table


@click.group()
def flows() -> None:
    """Store and look up flows (by namespace and id, with revisions)."""


@flows.command()
@flow_files_argument
@user_errors
def deploy(flow_files: tuple[Path, ...]) -> None:
    """Validate and store flows; an unchanged flow keeps its revision."""
    with open_engine() as engine:
        loaded = [engine.load(path) for path in flow_files]
        rows = []
        for flow in loaded:
            revision = engine.repository.save_flow(flow.namespace, flow.id, flow.source)
            rows.append((flow.namespace, flow.id, revision))
    click.echo(table(["NAMESPACE", "FLOW", "REVISION"], rows))


@flows.command()
@click.argument("namespace")
@click.argument("flow_id")
@click.option("--revision", type=int, help="A given revision (default: the latest).")
@user_errors
def source(namespace: str, flow_id: str, revision: int | None) -> None:
    """Print a stored flow's YAML."""
    with open_engine() as engine:
        stored = engine.repository.get_flow(namespace, flow_id, revision)
    click.echo(stored.source, nl=False)
