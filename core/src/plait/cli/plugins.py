"""``plait plugins list``: what this installation can run."""

from __future__ import annotations

import click

from plait.cli.main import user_errors
from plait.cli.output import print_json, table


@click.group()
def plugins() -> None:
    """List installed plugins; create and check new ones (`plait plugin` is the same group).

    The plugin authors' guide: docs/plugins/writing-a-plugin.md.
    """


@plugins.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@user_errors
def list_plugins(as_json: bool) -> None:
    """Loaded plugins: name, distribution, version, task types and their aliases (or, for a
    plugin without task types, what else it provides); then the plugins not loaded, and why."""
    from plait.plugins import build_registry

    registry = build_registry()
    entries = [
        {
            "name": info.name,
            "distribution": info.distribution,
            "version": info.version,
            "taskTypes": [
                {"type": type_id, "aliases": list(aliases)}
                for type_id, aliases in sorted(info.task_types.items())
            ],
            "provides": info.provides,
        }
        for info in registry.plugins
    ]
    if as_json:
        print_json({"plugins": entries, "notLoaded": registry.skipped})
        return
    rows = []
    for entry in entries:
        types = entry["taskTypes"] or [{"type": _provides(entry["provides"]), "aliases": []}]
        for i, task_type in enumerate(types):
            first = i == 0
            rows.append(
                (
                    entry["name"] if first else "",
                    entry["distribution"] if first else "",
                    entry["version"] if first else "",
                    task_type["type"],
                    ", ".join(task_type["aliases"]),
                )
            )
    headers = ["PLUGIN", "DISTRIBUTION", "VERSION", "TASK TYPE", "ALIASES"]
    click.echo(table(headers, rows, max_width=90))
    for reason in registry.skipped:
        click.echo(f"not loaded: {reason}", err=True)


def _provides(provides: dict[str, list[str]]) -> str:
    """What a plugin without task types is for, e.g. ``(filters: 38, functions: 4)``."""
    if not provides:
        return "-"
    return "(" + ", ".join(f"{kind}: {len(names)}" for kind, names in provides.items()) + ")"


def register(cli: click.Group) -> None:
    cli.add_command(plugins)
