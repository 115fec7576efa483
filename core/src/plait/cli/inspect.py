"""Looking at executions after the fact: list, show, outputs, logs, and the expression evaluator."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from plait.cli.engine import open_engine
from plait.cli.main import user_errors
from plait.cli.output import EXIT_FAILED, print_json, table
from plait.errors import PlaitError
from plait.executor.runner import ExecutionRun
from plait.state.model import Execution
from plait.storage.uris import SCHEME


@click.group()
def executions() -> None:
    """List and show executions."""


@executions.command("list")
@click.option("--namespace", help="Only executions of this namespace.")
@click.option("--flow", "flow_id", help="Only executions of this flow id.")
@click.option("--limit", default=20, show_default=True, help="How many, newest first.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON documents.")
@user_errors
def list_executions(namespace: str | None, flow_id: str | None, limit: int, as_json: bool) -> None:
    """List executions, newest first."""
    with open_engine() as engine:
        found = engine.repository.list(namespace=namespace, flow_id=flow_id, limit=limit)
    if as_json:
        print_json([e.to_document() for e in found])
        return
    rows = [
        (e.id, e.namespace, e.flow_id, str(e.state), e.created.isoformat(timespec="seconds"))
        for e in found
    ]
    click.echo(table(["ID", "NAMESPACE", "FLOW", "STATE", "CREATED"], rows))


@executions.command("show")
@click.argument("execution_id")
@click.option("--json", "as_json", is_flag=True, help="Print the execution document.")
@user_errors
def show_execution(execution_id: str, as_json: bool) -> None:
    """Show one execution (an id or a unique id prefix): state, task runs, errors."""
    execution = _load(execution_id)
    if as_json:
        print_json(execution.to_document())
        return
    click.echo(
        f"execution {execution.id}\nflow      {execution.namespace}.{execution.flow_id} "
        f"(revision {execution.flow_revision})\nstate     {execution.state}"
    )
    if execution.inputs:
        click.echo(f"inputs    {json.dumps(execution.inputs, default=str)}")
    rows = [(r.task_id, r.id, str(r.state), r.error or "") for r in execution.task_runs]
    click.echo(table(["TASK", "TASKRUN", "STATE", "ERROR"], rows, max_width=80))


def _load(execution_id: str) -> Execution:
    with open_engine() as engine:
        return engine.repository.get(execution_id)


def _mark_files(value: Any) -> Any:
    """Mark storage URIs so the Outputs view shows which values are downloadable files."""
    if isinstance(value, str) and value.startswith(f"{SCHEME}://"):
        return f"{value}  [file]"
    if isinstance(value, dict):
        return {k: _mark_files(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mark_files(v) for v in value]
    return value


def _print_tree(value: Any, indent: int) -> None:
    pad = "  " * indent
    if isinstance(value, dict) and value:
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                click.echo(f"{pad}{key}:")
                _print_tree(item, indent + 1)
            else:
                click.echo(f"{pad}{key}: {_scalar(item)}")
    elif isinstance(value, list) and value:
        for item in value:
            click.echo(f"{pad}- {_scalar(item)}")
    else:
        click.echo(f"{pad}{_scalar(value)}")


def _scalar(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= 200 else text[:199] + "…"


@click.command()
@click.argument("execution_id")
@click.option("--json", "as_json", is_flag=True, help="Print {task id: outputs} as JSON.")
@user_errors
def outputs(execution_id: str, as_json: bool) -> None:
    """The Outputs view: every task's outputs; storage URIs are marked [file]."""
    execution = _load(execution_id)
    by_task = {run.task_id: run.outputs or {} for run in execution.task_runs}
    if as_json:
        print_json({"tasks": by_task, "flow": execution.outputs or {}})
        return
    for task_id, values in by_task.items():
        click.echo(f"{task_id}:")
        _print_tree(_mark_files(values) or "(no outputs)", 1)
    if execution.outputs:
        click.echo("flow outputs:")
        _print_tree(_mark_files(execution.outputs), 1)


@click.command("eval")
@click.argument("execution_id")
@click.argument("expression")
@click.option("--task", "task_id", help="Evaluate as task TASK_ID saw it (task, taskrun).")
def evaluate(execution_id: str, expression: str, task_id: str | None) -> None:
    """Evaluate EXPRESSION against an execution, as the Outputs page's evaluator does.

    EXPRESSION is a template such as "{{ outputs.api.body | jq('.products') | first }}" or a bare
    expression such as "outputs.api.code". The value alone goes to stdout (maps and lists as
    JSON); errors go to stderr with exit status 1.
    """
    view: ExecutionRun | None = None
    try:
        with open_engine() as engine:
            execution = engine.repository.get(execution_id)
            view = ExecutionRun.inspect(engine, execution)
            variables = view.task_variables(task_id) if task_id else view.base_variables()
            # Secrets read by the expression are masked like everywhere else.
            value = view.masker.mask_value(view.evaluate(expression, variables, task_id=task_id))
    except PlaitError as exc:
        message = view.masker.mask(str(exc)) if view is not None else str(exc)
        click.echo(f"error: {message}", err=True)
        sys.exit(EXIT_FAILED)
    if isinstance(value, (dict, list)):
        print_json(value)
    else:
        click.echo("" if value is None else _text(value))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@click.command()
@click.argument("execution_id")
@click.option("--task", "task_id", help="Only the logs of this task id.")
@user_errors
def logs(execution_id: str, task_id: str | None) -> None:
    """Print an execution's logs in order."""
    with open_engine() as engine:
        execution = engine.repository.get(execution_id)
        entries = engine.repository.logs(execution.id, task_id=task_id)
    for entry in entries:
        stamp = entry.timestamp.isoformat(timespec="milliseconds")
        where = f"[{entry.task_id}] " if entry.task_id else ""
        click.echo(f"{stamp} {entry.level:<5} {where}{entry.message}")


def register(cli: click.Group) -> None:
    cli.add_command(executions)
    cli.add_command(outputs)
    cli.add_command(evaluate)
    cli.add_command(logs)
