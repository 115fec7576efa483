"""``plait run`` and ``plait validate``."""

from __future__ import annotations

import json
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from plait.cli.engine import open_engine
from plait.cli.main import user_errors
from plait.cli.output import EXIT_FAILED, EXIT_INVALID, EXIT_OK, flow_files_argument, print_json
from plait.cli.tree import TaskRunTree, tree_text
from plait.errors import FlowValidationError, Problem
from plait.executor.events import ExecutionListener
from plait.state.model import Execution, LogEntry, TaskRun

REDRAW_SECONDS = 0.1


class TerminalProgress:
    """Live progress on stderr. In a terminal: the tree of task runs, redrawn in place (at most
    ten times a second), with log lines printed above it. Otherwise: the log lines only."""

    def __init__(self, *, interactive: bool) -> None:
        self.interactive = interactive
        self._execution: Execution | None = None
        self._drawn = 0
        self._last = 0.0
        self._lock = threading.Lock()

    def task_started(self, execution: Execution, run: TaskRun) -> None:
        self._execution = execution
        self._redraw()

    def task_ended(self, execution: Execution, run: TaskRun) -> None:
        self._execution = execution
        self._redraw()

    def log(self, entry: LogEntry) -> None:
        prefix = f"[{entry.task_id}] " if entry.task_id else ""
        with self._lock:
            self._clear()
            click.echo(f"{entry.level:<5} {prefix}{entry.message}", err=True)
        self._redraw(force=True)

    def close(self) -> None:
        """Remove the live tree (the final one is printed as the run's summary)."""
        with self._lock:
            self._clear()

    def _clear(self) -> None:
        if self._drawn:
            click.echo(f"\x1b[{self._drawn}F\x1b[J", err=True, nl=False)
            self._drawn = 0

    def _redraw(self, *, force: bool = False) -> None:
        if not self.interactive or self._execution is None:
            return
        now = time.monotonic()
        if not force and now - self._last < REDRAW_SECONDS:
            return
        size = shutil.get_terminal_size()
        lines = TaskRunTree(self._execution).lines()
        if len(lines) > size.lines - 2:
            more = len(lines) - (size.lines - 3)
            lines = [*lines[: size.lines - 3], f"… {more} more lines"]
        lines = [line[: size.columns - 1] for line in lines]
        with self._lock:
            self._clear()
            if lines:
                click.echo("\n".join(lines), err=True)
            self._drawn = len(lines)
            self._last = now


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM stops a run like Ctrl-C does, so tasks clean up (processes, containers)."""
    raise KeyboardInterrupt


def parse_inputs(pairs: tuple[str, ...]) -> dict[str, str]:
    values: dict[str, str] = {}
    problems = []
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            problems.append(Problem(f"input '{pair}' must be written NAME=VALUE", file="-i"))
            continue
        values[name.strip()] = value
    if problems:
        raise FlowValidationError(problems)
    return values


def summary(execution: Execution) -> str:
    """What ``plait run`` prints at the end: the tree of task runs, the flow's outputs."""
    lines = [tree_text(execution)]
    if execution.outputs:
        lines.append("flow outputs:")
        lines.extend(
            f"  {key}: {json.dumps(value) if isinstance(value, (dict, list)) else value}"
            for key, value in execution.outputs.items()
        )
    lines.append(f"see: plait outputs {execution.id}")
    return "\n".join(lines)


@click.command()
@click.argument("flow_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-i",
    "--input",
    "inputs",
    multiple=True,
    metavar="NAME=VALUE",
    help="An input value; repeat for several. FILE inputs take a local path.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the execution document as JSON on stdout (logs stay on stderr).",
)
@user_errors
def run(flow_file: Path, inputs: tuple[str, ...], as_json: bool) -> None:
    """Run FLOW_FILE to its end.

    Exit status: 0 when the execution ends SUCCESS or WARNING, 1 when it ends FAILED or KILLED,
    2 when the flow or its inputs are invalid (then nothing ran).
    """
    given = parse_inputs(inputs)
    with open_engine() as engine:
        flow = engine.load(flow_file)
        follow(lambda listener: engine.run(flow, given, listener=listener), as_json=as_json)


def follow(start: Callable[[ExecutionListener], Execution], *, as_json: bool) -> NoReturn:
    """Run an execution to its end with live progress, print it and exit with its status
    (``plait run``, ``plait executions restart`` and ``replay``)."""
    signal.signal(signal.SIGTERM, _interrupt)
    progress = TerminalProgress(interactive=sys.stderr.isatty())
    try:
        execution = start(progress)
    except KeyboardInterrupt:
        progress.close()
        click.echo("interrupted: the execution was recorded as KILLED", err=True)
        sys.exit(EXIT_FAILED)
    progress.close()
    if as_json:
        print_json(execution.to_document())
    else:
        click.echo(summary(execution))
    sys.exit(EXIT_FAILED if execution.state.is_failed else EXIT_OK)


@click.command()
@flow_files_argument
@user_errors
def validate(flow_files: tuple[Path, ...]) -> None:
    """Check flows without running them: syntax, task types, properties, expressions.

    Every problem of every file is printed as FILE:LINE:COLUMN: MESSAGE; exit 2 if any.
    """
    problems: list[Any] = []
    with open_engine() as engine:
        for path in flow_files:
            try:
                engine.load(path)
            except FlowValidationError as exc:
                problems.extend(exc.problems)
            else:
                click.echo(f"{path}: valid")
    for problem in problems:
        click.echo(str(problem), err=True)
    sys.exit(EXIT_INVALID if problems else EXIT_OK)


def register(cli: click.Group) -> None:
    cli.add_command(run)
    cli.add_command(validate)
