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
    """Loaded plugins: name, distribution, version, task and trigger types and their aliases
    (or, for a plugin without either, what else it provides); then the plugins not loaded, and
    why."""
    from plait.plugins import build_registry

    registry = build_registry()
    entries = [
        {
            "name": info.name,
            "distribution": info.distribution,
            "version": info.version,
            "taskTypes": _types(info.task_types),
            "triggerTypes": _types(info.trigger_types),
            "provides": info.provides,
        }
        for info in registry.plugins
    ]
    if as_json:
        print_json({"plugins": entries, "notLoaded": registry.skipped})
        return
    rows = []
    for entry in entries:
        types = [("task", t) for t in entry["taskTypes"]]
        types += [("trigger", t) for t in entry["triggerTypes"]]
        if not types:
            types = [("", {"type": _provides(entry["provides"]), "aliases": []})]
        for i, (kind, declared) in enumerate(types):
            first = i == 0
            rows.append(
                (
                    entry["name"] if first else "",
                    entry["distribution"] if first else "",
                    entry["version"] if first else "",
                    kind,
                    declared["type"],
                    ", ".join(declared["aliases"]),
                )
            )
    headers = ["PLUGIN", "DISTRIBUTION", "VERSION", "KIND", "TYPE", "ALIASES"]
    click.echo(table(headers, rows, max_width=90))
    for reason in registry.skipped:
        click.echo(f"not loaded: {reason}", err=True)


def _types(declared: dict[str, tuple[str, ...]]) -> list[dict[str, object]]:
    """Type ids (canonical id -> aliases) as ``--json`` lists them, sorted by id."""
    return [
        {"type": type_id, "aliases": list(aliases)} for type_id, aliases in sorted(declared.items())
    ]


def _provides(provides: dict[str, list[str]]) -> str:
    """What a plugin without task or trigger types is for, e.g. ``(filters: 38, functions: 4)``."""
    if not provides:
        return "-"
    return "(" + ", ".join(f"{kind}: {len(names)}" for kind, names in provides.items()) + ")"
