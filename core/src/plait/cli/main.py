"""Entry point of the ``plait`` command. Exit codes are a contract relied upon by tooling:
0 success (or WARNING), 1 failed run or failed command, 2 invalid flow or inputs (nothing ran)."""

from __future__ import annotations

import gc
import importlib
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


COMMANDS = {
    "run": ("plait.cli.run", "run"),
    "validate": ("plait.cli.run", "validate"),
    "flows": ("plait.cli.flows", "flows"),
    "executions": ("plait.cli.executions", "executions"),
    "outputs": ("plait.cli.inspect", "outputs"),
    "eval": ("plait.cli.inspect", "evaluate"),
    "logs": ("plait.cli.inspect", "logs"),
    "storage": ("plait.cli.storage", "storage"),
    "kv": ("plait.cli.kv", "kv"),
    "plugins": ("plait.cli.plugin_cmd", "plugins"),
    "plugin": ("plait.cli.plugin_cmd", "plugins"),  # `plait plugin new NAME` reads naturally too
    "dist": ("plait.cli.dist", "dist"),
    "schema": ("plait.cli.schema", "schema"),
    "docs": ("plait.cli.docs", "docs"),
    "server": ("plait.cli.server", "server"),
    "worker": ("plait.cli.worker", "worker"),
}
"""The built-in commands: name -> (module, attribute)."""


class CommandTable(click.Group):
    """A group whose built-in commands are imported when one runs (or help lists them), so
    that ``plait run`` does not pay for the server's, the inspectors' or the authors' modules;
    commands plugins add are ordinary ones."""

    collection_paused = False
    """Set by :func:`main` while plait's modules load: see there."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        resolved = super().resolve_command(ctx, args)  # imports the command's modules
        if self.collection_paused:
            self.collection_paused = False
            gc.freeze()
            gc.enable()
        return resolved

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS:
            module, attribute = COMMANDS[cmd_name]
            command: click.Command = getattr(importlib.import_module(module), attribute)
            return command
        return super().get_command(ctx, cmd_name)


@click.group(cls=CommandTable, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="plait", prog_name="plait")
def cli() -> None:
    """plait: run Kestra-style YAML flows, inspect their outputs and files.

    State and files live under PLAIT_HOME (default ~/.plait). Plugins are the installed
    distributions with an entry point in the `plait` group; PLAIT_LOAD_PLUGINS (a comma list of
    distribution names) restricts which load. An installed distribution config
    (PLAIT_DISTRIBUTION, or <prefix>/share/plait/distribution.toml) restricts them too and adds
    its defaults: see `plait dist info`.
    """


def main() -> None:
    # Python's cyclic garbage collector, which a one-task run would spend a seventh of its time
    # in: importing plait and a command's modules allocates objects that live as long as the
    # process, so collecting meanwhile finds nothing to free. Collection resumes once the
    # command is resolved, with the objects allocated so far frozen out of its way.
    gc.disable()
    cli.collection_paused = True
    try:
        _register_plugin_commands()
        cli(prog_name="plait")
    finally:
        # Exiting: everything alive now lives to the end, and the interpreter's last collections
        # would walk it all (a tenth of a one-task run); frozen objects are still freed, their
        # files flushed, by reference counting as the interpreter tears modules down.
        gc.freeze()


def _register_plugin_commands() -> None:
    """Let plugins add commands (``register_commands`` hook). A broken plugin is reported by
    ``plait plugins list``, not here, so that every command keeps working."""
    if len(sys.argv) > 1 and sys.argv[1] in COMMANDS:
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
