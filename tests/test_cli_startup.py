"""The command line's start-up: built-in commands are imported only when they run, and
Python's garbage collector, paused while plait's modules load, is back on (with what was loaded
frozen out of its way) by the time a command runs, so a long run or ``plait server`` collects
its garbage as any process does."""

from __future__ import annotations

import subprocess
import sys

from plait.cli.main import COMMANDS

PROBE = """
import gc, sys
import click
from plait.cli.main import COMMANDS, cli, main

@cli.command("probe-gc")
def probe() -> None:
    click.echo(f"enabled={gc.isenabled()} frozen={gc.get_freeze_count() > 0}")
    click.echo("imported=" + ",".join(sorted(
        module for module, _ in COMMANDS.values() if module in sys.modules
    )))

sys.argv = ["plait", *sys.argv[1:]]
main()
"""


def _plait(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120
    )


def test_a_command_runs_with_the_collector_on_and_only_its_own_modules() -> None:
    done = _plait("probe-gc")
    assert done.returncode == 0, done.stderr
    gc_line, imported_line = done.stdout.splitlines()
    assert gc_line == "enabled=True frozen=True"
    assert imported_line == "imported="  # no built-in command's module was imported


def test_help_lists_every_built_in_command() -> None:
    done = _plait("--help")
    assert done.returncode == 0, done.stderr
    listed = {line.split()[0] for line in done.stdout.split("Commands:")[1].splitlines() if line}
    assert set(COMMANDS) | {"probe-gc"} == listed
