"""``plait dist``: build a distribution from a manifest, and show what this installation is."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from plait.cli.main import user_errors
from plait.cli.output import print_json, table

if TYPE_CHECKING:
    from plait.config import Settings
    from plait.plugins import Registry


@click.group()
def dist() -> None:
    """Build and inspect custom distributions of plait.

    A distribution is a chosen set of plugins and task types, with plugin defaults applied to
    every flow and default locations, described by a plait-distribution.toml manifest: see
    docs/platform/distributions.md.
    """


@dist.command("build")
@click.argument("manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to create (new or empty): wheelhouse, lock, configuration and install.sh.",
)
@user_errors
def build_command(manifest: Path, output: Path) -> None:
    """Build MANIFEST into an artifact that installs offline with one command.

    pip resolves the core, the plugins and all their dependencies (from the package index as
    pip is configured, and from the manifest's local paths) into a wheelhouse for this Python
    and platform, and writes a lock of exact versions with hashes.
    """
    from plait.dist_build import INSTALLER, build

    click.echo(f"building {manifest} (pip resolves and builds every wheel)...", err=True)
    result = build(manifest, output)
    d = result.distribution
    click.echo(f"{d.name} {d.version}: {len(result.wheels)} wheels in {output}")
    for pin in sorted(result.pins.values()):
        click.echo(f"  {pin}")
    click.echo(f"install offline: sh {output / INSTALLER} /path/to/venv")


@dist.command("info")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@user_errors
def info_command(as_json: bool) -> None:
    """What this installation contains: its distribution (if any), the plugins and task types
    that load, the plugin defaults applied to every flow, and where state and files live."""
    from plait.config import Settings
    from plait.distribution import DISTRIBUTION_ENV, config_path
    from plait.plugins import LOAD_PLUGINS_ENV, build_registry

    registry = build_registry()
    settings = Settings.from_env(distribution=registry.distribution)
    report = _report(registry, settings)
    report["config"] = str(config_path()) if registry.distribution else None
    report["environment"] = {
        name: os.environ.get(name) for name in (DISTRIBUTION_ENV, LOAD_PLUGINS_ENV, "PLAIT_HOME")
    }
    if as_json:
        print_json(report)
        return
    _print(report)


def _report(registry: Registry, settings: Settings) -> dict[str, Any]:
    from plait.distribution import type_matches

    d = registry.distribution
    types = sorted(registry.canonical_types)
    report: dict[str, Any] = {
        "distribution": None,
        "plugins": _plugins(registry),
        "notLoaded": registry.skipped,
        "taskTypes": types,
        "excludedTaskTypes": sorted(set(registry.excluded.values())),
        "excludedTriggerTypes": sorted(set(registry.excluded_triggers.values())),
        "pluginDefaults": [],
        "home": str(settings.home),
        "storage": _backend(settings.storage, settings.storage_options, settings.home),
        "state": _backend(settings.repository, settings.repository_options, settings.home),
    }
    if d is not None:
        report["distribution"] = {
            "name": d.name,
            "version": d.version,
            "description": d.description,
            "plugins": [str(p) for p in d.plugins],
            "taskTypes": list(d.task_types) if d.task_types is not None else None,
            "unmatchedTaskTypes": [
                entry
                for entry in d.task_types or ()
                if not any(type_matches(t, entry) for t in registry.task_types)
            ],
            "triggerTypes": list(d.trigger_types) if d.trigger_types is not None else None,
            "unmatchedTriggerTypes": [
                entry
                for entry in d.trigger_types or ()
                if not any(type_matches(t, entry) for t in registry.trigger_types)
            ],
        }
        report["pluginDefaults"] = [
            {"type": x.type, "forced": x.forced, "values": x.values} for x in d.plugin_defaults
        ]
    return report


def _plugins(registry: Registry) -> list[dict[str, Any]]:
    """One entry per distribution (the core's features come from several modules)."""
    merged: dict[str, dict[str, Any]] = {}
    for info in registry.plugins:
        entry = merged.setdefault(
            info.distribution,
            {"distribution": info.distribution, "version": info.version, "taskTypes": []},
        )
        entry["taskTypes"] = sorted([*entry["taskTypes"], *info.task_types])
    return list(merged.values())


_URL_PASSWORD = re.compile(r"(://[^/:@\s]*:)[^/\s]*@")
"""The password of a URL (``postgresql://user:PASSWORD@host``), up to its last ``@``."""
_PAIR_PASSWORD = re.compile(r"(\bpassword\s*=\s*)\S+")


def _hide_password(value: Any) -> Any:
    """An option value as ``plait dist info`` may show it: passwords (a DSN's) masked."""
    if not isinstance(value, str):
        return value
    return _PAIR_PASSWORD.sub(r"\1***", _URL_PASSWORD.sub(r"\1***@", value))


def _backend(name: str, options: dict[str, Any], home: Path) -> dict[str, Any]:
    """A backend as configured, with the location the built-in ones use by default."""
    from plait.builtin.storage import DATABASE_FILE, STORAGE_FOLDER

    defaults = {"local": ("root", home / STORAGE_FOLDER), "sqlite": ("path", home / DATABASE_FILE)}
    shown = {key: _hide_password(value) for key, value in options.items()}
    if name in defaults:
        key, location = defaults[name]
        shown.setdefault(key, str(location))
    return {"type": name, **shown}


def _print(report: dict[str, Any]) -> None:
    d = report["distribution"]
    if d is None:
        click.echo("distribution: none (every installed plugin loads)")
    else:
        title = f"distribution: {d['name']} {d['version']}"
        click.echo(title + (f" - {d['description']}" if d["description"] else ""))
        click.echo(f"config:       {report['config']}")
        click.echo(f"plugins:      {', '.join(d['plugins']) or 'none'}")
        if d["taskTypes"] is not None:
            click.echo(f"enabled:      {', '.join(d['taskTypes'])}")
        if d["triggerTypes"] is not None:
            click.echo(f"triggers:     {', '.join(d['triggerTypes'])}")
        for kind in ("task", "trigger"):
            for entry in d[f"unmatched{kind.title()}Types"]:
                click.echo(
                    f"warning: {kind}Types entry '{entry}' matches no loaded {kind} type", err=True
                )
    click.echo(f"home:         {report['home']}")
    for key in ("storage", "state"):
        backend = dict(report[key])
        kind = backend.pop("type")
        options = ", ".join(f"{k}={v}" for k, v in backend.items())
        click.echo(f"{key + ':':<13} {kind}" + (f" ({options})" if options else ""))
    for name, value in report["environment"].items():
        if value is not None:
            click.echo(f"{name}={value}")
    click.echo("")
    rows = [
        (p["distribution"], p["version"], ", ".join(p["taskTypes"]) or "-")
        for p in report["plugins"]
    ]
    click.echo(table(["PLUGIN", "VERSION", "TASK TYPES"], rows, max_width=90))
    excluded = [*report["excludedTaskTypes"], *report["excludedTriggerTypes"]]
    if excluded:
        click.echo(f"\nexcluded by the distribution: {', '.join(excluded)}")
    if report["pluginDefaults"]:
        click.echo("\nplugin defaults applied to every flow:")
        for default in report["pluginDefaults"]:
            forced = " (forced)" if default["forced"] else ""
            click.echo(f"  {default['type']}{forced}: {json.dumps(default['values'])}")
    for reason in report["notLoaded"]:
        click.echo(f"not loaded: {reason}", err=True)
