"""The command-line reference, from the click commands' own help, so it cannot drift."""

from __future__ import annotations

import inspect

import click

from plait.schema.markdown import code, page, table

INTRO = """\
# Command line

Exit codes are a contract: `0` success (or a run ending in WARNING), `1` a failed run or
command, `2` an invalid flow or invalid inputs (nothing ran)."""


def _help_text(command: click.Command) -> str:
    """The help as written, without click's ``\\b`` no-rewrap markers."""
    text = inspect.cleandoc(command.help or "")
    return "\n".join(line for line in text.splitlines() if line.strip() != "\b")


def _options(command: click.Command, ctx: click.Context) -> str:
    rows = []
    for param in command.get_params(ctx):
        if not isinstance(param, click.Option) or param.hidden:
            continue
        if param is command.get_help_option(ctx):
            continue
        record = param.get_help_record(ctx)
        if record is not None:
            rows.append([code(record[0]), record[1]])
    return table(["Option", "Description"], rows) if rows else ""


def _sections(command: click.Command, ctx: click.Context) -> list[str]:
    sections = [
        f"## {code(ctx.command_path)}",
        _help_text(command),
        "Usage: " + code(" ".join([ctx.command_path, *command.collect_usage_pieces(ctx)])),
        _options(command, ctx),
    ]
    if isinstance(command, click.Group):
        for name in sorted(command.list_commands(ctx)):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                sections.extend(_sections(sub, click.Context(sub, info_name=name, parent=ctx)))
    return sections


def cli_page(root: click.Group, prog_name: str = "plait") -> str:
    ctx = click.Context(root, info_name=prog_name)
    return page(INTRO, *_sections(root, ctx))
