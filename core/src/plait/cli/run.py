"""``plait run`` and ``plait validate``."""

from __future__ import annotations

import contextlib
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
from plait.cli.remote import Client, server_option
from plait.cli.tree import TaskRunTree, tree_text
from plait.errors import FlowValidationError, PlaitError, Problem
from plait.executor.abandoned import end_abandoned
from plait.executor.events import ExecutionListener
from plait.flows import limits
from plait.flows.disabled import disabled_problem
from plait.flows.flow_file import read_flow_file
from plait.flows.input_types import InputValueError, coerce, shown
from plait.flows.model import InputDef
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
        self.show(execution)

    def task_ended(self, execution: Execution, run: TaskRun) -> None:
        self.show(execution)

    def show(self, execution: Execution) -> None:
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
    """``-i NAME=VALUE`` options as a mapping; each value at most ``PLAIT_MAX_INPUT_BYTES``."""
    values: dict[str, str] = {}
    problems = []
    limit = limits.INPUT_BYTES
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            problems.append(Problem(f"input {shown(pair)} must be written NAME=VALUE", file="-i"))
            continue
        size = limits.over_size(value, limit.value())
        if size is not None:
            what = f"the value of input '{name.strip()}'"
            problems.append(Problem(limits.size_problem(what, size, limit), file="-i"))
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
@server_option
@user_errors
def run(flow_file: Path, inputs: tuple[str, ...], as_json: bool, server: str | None) -> None:
    """Run FLOW_FILE to its end.

    With --server the flow is deployed to that server (a new revision), run there with the
    inputs (FILE inputs uploaded from local paths) and followed to its end.

    Exit status: 0 when the execution ends SUCCESS or WARNING, 1 when it ends FAILED, KILLED
    or CANCELLED (a concurrency limit), 2 when the flow or its inputs are invalid (then nothing
    ran).
    """
    given = parse_inputs(inputs)
    if server:
        run_remote(Client.connect(server), flow_file, given, as_json=as_json)
    with open_engine() as engine:
        flow = engine.load(flow_file)
        if problem := disabled_problem(flow):
            raise FlowValidationError([problem])
        for left in end_abandoned(engine.repository):
            click.echo(
                f"note: execution {left.id} ({left.namespace}.{left.flow_id}) was left running "
                f"by a process that is gone: recorded KILLED; `plait executions restart "
                f"{left.id}` carries it on",
                err=True,
            )
        if flow.triggers:
            ids = ", ".join(trigger.id for trigger in flow.triggers)
            click.echo(
                f"note: this flow's triggers ({ids}) fire only under `plait server`; "
                "`plait run` starts one execution now",
                err=True,
            )
        follow(lambda listener: engine.run(flow, given, listener=listener), as_json=as_json)


def run_remote(
    client: Client, flow_file: Path, given: dict[str, str], *, as_json: bool
) -> NoReturn:
    """``plait run --server``: deploy, start with the inputs, follow to the end."""
    file = str(flow_file)
    source = read_flow_file(flow_file, file)
    if isinstance(source, Problem):
        raise FlowValidationError([source])
    flow = client.deploy(source, file)
    triggers = [str(t.get("id")) for t in flow.get("triggers") or [] if isinstance(t, dict)]
    if triggers:
        click.echo(
            f"note: this flow's triggers ({', '.join(triggers)}) are deployed with it and fire "
            "on the server; `plait run` starts one execution now",
            err=True,
        )
    fields, files = remote_inputs(flow, given, file)
    execution = client.start(flow, fields, files, file=file)
    follow_remote(client, execution.id, as_json=as_json)


def remote_inputs(
    flow: dict[str, Any], given: dict[str, str], file: str
) -> tuple[dict[str, str], dict[str, Path]]:
    """The form fields and the files to upload (FILE inputs given as local paths)."""
    kinds = {
        item.get("id") or item.get("name"): item.get("type")
        for item in flow.get("inputs") or []
        if isinstance(item, dict)
    }
    fields: dict[str, str] = {}
    files: dict[str, Path] = {}
    problems = []
    for name, value in given.items():
        if kinds.get(name) != "FILE":
            fields[name] = value
            continue
        try:
            local = coerce(InputDef(id=name, type="FILE"), value)
        except InputValueError as exc:
            problems.append(Problem(f"input '{name}': {exc}", file=file))
            continue
        if isinstance(local, Path):
            files[name] = local
        else:
            fields[name] = str(local)  # a storage URI, which the server checks
    if problems:
        raise FlowValidationError(problems)
    return fields, files


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
    finish(execution, as_json=as_json)


def follow_remote(client: Client, execution_id: str, *, as_json: bool) -> NoReturn:
    """``follow`` for an execution a server runs: its progress and logs as they come (the
    server's follow stream); Ctrl-C asks the server to kill it."""
    signal.signal(signal.SIGTERM, _interrupt)
    progress = TerminalProgress(interactive=sys.stderr.isatty())
    shown = 0
    execution: Execution | None = None
    try:
        for execution in client.watch(execution_id):
            entries = client.logs(execution.id, after=shown)
            for entry in entries:
                progress.log(entry)
            shown += len(entries)
            progress.show(execution)
    except KeyboardInterrupt:
        progress.close()
        with contextlib.suppress(PlaitError):
            client.kill(execution_id)
        click.echo(f"interrupted: the server was asked to kill execution {execution_id}", err=True)
        sys.exit(EXIT_FAILED)
    progress.close()
    assert execution is not None  # watch yields at least once
    finish(execution, as_json=as_json)


def finish(execution: Execution, *, as_json: bool) -> NoReturn:
    """Print the ended execution (its summary, or its document) and exit with its status."""
    if as_json:
        print_json(execution.to_document())
    else:
        click.echo(summary(execution))
    sys.exit(EXIT_OK if execution.state.is_successful else EXIT_FAILED)


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
