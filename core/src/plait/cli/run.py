"""``plait run`` and ``plait validate``."""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

import click

from plait.cli.engine import open_engine
from plait.cli.main import user_errors
from plait.cli.output import EXIT_FAILED, EXIT_INVALID, EXIT_OK, flow_files_argument, print_json
from plait.errors import FlowValidationError, Problem
from plait.state.model import Execution, LogEntry, TaskRun


class TerminalProgress:
    """Live progress on stderr: one line per task start/end, and the log lines."""

    def __init__(self, *, interactive: bool) -> None:
        self.interactive = interactive
        self._started: dict[str, float] = {}

    def task_started(self, execution: Execution, run: TaskRun) -> None:
        self._started[run.id] = time.perf_counter()
        if self.interactive:
            click.echo(click.style(f"▶ {run.task_id}", bold=True), err=True)

    def task_ended(self, execution: Execution, run: TaskRun) -> None:
        if not self.interactive:
            return
        elapsed = time.perf_counter() - self._started.pop(run.id, time.perf_counter())
        color = {"SUCCESS": "green", "WARNING": "yellow"}.get(str(run.state), "red")
        mark = click.style(str(run.state), fg=color)
        click.echo(f"  {run.task_id} {mark} in {elapsed:.2f}s", err=True)

    def log(self, entry: LogEntry) -> None:
        prefix = f"[{entry.task_id}] " if entry.task_id else ""
        click.echo(f"{entry.level:<5} {prefix}{entry.message}", err=True)


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
    lines = [
        f"execution {execution.id}  {execution.namespace}.{execution.flow_id}  {execution.state}"
    ]
    for run in execution.task_runs:
        lines.append(f"  {run.task_id:<24} {run.state}")
        if run.error:
            lines.append(f"    error: {run.error}")
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
    signal.signal(signal.SIGTERM, _interrupt)
    with open_engine() as engine:
        flow = engine.load(flow_file)
        progress = TerminalProgress(interactive=sys.stderr.isatty())
        try:
            execution = engine.run(flow, given, listener=progress)
        except KeyboardInterrupt:
            click.echo("interrupted: the execution was recorded as KILLED", err=True)
            sys.exit(EXIT_FAILED)
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
