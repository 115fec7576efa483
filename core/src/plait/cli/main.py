"""Entry point of the ``plait`` command. Exit codes are a contract relied upon by tooling:
0 success (or WARNING), 1 failed run or failed command, 2 invalid flow or inputs (nothing ran)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

import click

from plait.cli.output import EXIT_FAILED, EXIT_INVALID, fail

if TYPE_CHECKING:
    from plait.plugins import Registry

F = TypeVar("F", bound=Callable[..., Any])


def user_errors(fn: F) -> F:
    """Turn plait's user-facing errors into a message and an exit code, never a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from plait.errors import FlowValidationError, PlaitError

        try:
            return fn(*args, **kwargs)
        except FlowValidationError as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            count = len(exc.problems)
            click.echo(f"invalid: {count} problem{'s' if count != 1 else ''}", err=True)
            sys.exit(EXIT_INVALID)
        except PlaitError as exc:
            fail(str(exc), EXIT_FAILED)
        except OSError as exc:  # a file or folder the user named cannot be used
            where = f"{exc.filename}: " if exc.filename else ""
            fail(f"{where}{exc.strerror or exc}", EXIT_FAILED)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="plait", prog_name="plait")
def cli() -> None:
    """plait: run Kestra-style YAML flows, inspect their outputs and files.

    State and files live under PLAIT_HOME (default ~/.plait). Plugins are the installed
    distributions with an entry point in the `plait` group; PLAIT_LOAD_PLUGINS (a comma list of
    distribution names) restricts which load. An installed distribution config
    (PLAIT_DISTRIBUTION, or <prefix>/share/plait/distribution.toml) restricts them too and adds
    its defaults: see `plait dist info`.
    """


def _register_commands() -> None:
    from plait.cli import (
        dist,
        docs,
        executions,
        flows,
        inspect,
        kv,
        plugin_cmd,
        plugins,
        run,
        schema,
        server,
        storage,
    )

    for module in (
        run,
        flows,
        executions,
        inspect,
        storage,
        kv,
        plugins,
        plugin_cmd,
        dist,
        schema,
        docs,
        server,
    ):
        module.register(cli)


def main() -> None:
    _register_commands()
    _register_plugin_commands()
    cli(prog_name="plait")


def _register_plugin_commands() -> None:
    """Let plugins add commands (``register_commands`` hook). A broken plugin is reported by
    ``plait plugins list``, not here, so that every command keeps working."""
    if len(sys.argv) > 1 and sys.argv[1] in cli.commands:
        return  # a built-in command: skip loading every plugin for the cold start's sake
    from plait.errors import PlaitError
    from plait.plugins import build_registry

    try:
        registry = build_registry()
    except PlaitError as exc:
        click.echo(f"warning: {exc}", err=True)
        return
    add_plugin_commands(registry, cli)


def add_plugin_commands(registry: Registry, group: click.Group) -> None:
    """Call every plugin's ``register_commands``; a broken one is reported, not fatal."""
    for impl in registry.pm.hook.register_commands.get_hookimpls():
        try:
            impl.function(cli=group)
        except Exception as exc:
            click.echo(
                f"warning: plugin '{impl.plugin_name}' could not add its commands: {exc}",
                err=True,
            )


__all__ = ["EXIT_FAILED", "cli", "main", "user_errors"]
