"""register_commands: a plugin adds its own commands to the `plait` command line."""

from __future__ import annotations

import types

import click
from click.testing import CliRunner
from plait.cli.main import add_plugin_commands
from plait.plugins import build_registry
from plait_sdk import hookimpl


def test_plugin_commands_join_the_cli():
    module = types.ModuleType("greeter_plugin")

    @hookimpl
    def register_commands(cli: click.Group) -> None:
        @cli.command()
        @click.argument("name")
        def greet(name: str) -> None:
            """Say hello."""
            click.echo(f"hello {name}")

    module.register_commands = register_commands

    @click.group()
    def cli() -> None:
        pass

    broken = types.ModuleType("broken_plugin")

    @hookimpl
    def register_broken(cli: click.Group) -> None:
        raise RuntimeError("boom")

    broken.register_commands = register_broken
    registry = build_registry(load=[], extra=[broken, module])
    add_plugin_commands(registry, cli)
    result = CliRunner().invoke(cli, ["greet", "plait"])
    assert result.exit_code == 0, result.output
    assert result.output == "hello plait\n"
