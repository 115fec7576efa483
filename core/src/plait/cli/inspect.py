"""Looking at executions after the fact: outputs, logs, and the expression evaluator (local, or
on a server with ``--server``)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any

import click

from plait.cli.engine import open_engine
from plait.cli.main import user_errors
from plait.cli.output import EXIT_FAILED, print_json
from plait.cli.remote import Client, server_option
from plait.errors import PlaitError
from plait.executor.runner import ExecutionRun
from plait.executor.variables import chain_of, output_keys, store_output
from plait.state.model import Execution, TaskRun
from plait.storage.uris import SCHEME


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
@server_option
@user_errors
def outputs(execution_id: str, as_json: bool, server: str | None) -> None:
    """The Outputs view: every task's outputs, those of tasks inside loops keyed by loop value
    as expressions address them (outputs.task[value].name); storage URIs are marked [file]."""
    if server:
        execution = Client.connect(server).execution(execution_id)
    else:
        with open_engine() as engine:
            execution = engine.repository.get(execution_id)
    addressed = addressed_outputs(execution)
    by_task = {run.task_id: addressed.get(run.task_id, {}) for run in execution.task_runs}
    if as_json:
        print_json({"tasks": by_task, "flow": execution.outputs or {}})
        return
    for task_id, values in by_task.items():
        click.echo(f"{task_id}:")
        _print_tree(_mark_files(values) or "(no outputs)", 1)
    if execution.outputs:
        click.echo("flow outputs:")
        _print_tree(_mark_files(execution.outputs), 1)


def addressed_outputs(execution: Execution) -> dict[str, Any]:
    """Every task run's outputs where expressions find them: ``outputs[task][v1]...[vn]``."""
    runs = {run.id: run for run in execution.task_runs}
    found: dict[str, Any] = {}
    for run in execution.task_runs:
        if run.outputs is not None:
            store_output(found, run.task_id, output_keys(chain_of(runs, run)), run.outputs)
    return found


@click.command("eval")
@click.argument("execution_id")
@click.argument("expression")
@click.option("--task", "task_id", help="Evaluate as a run of task TASK_ID saw it.")
@click.option("--value", help="With --task: the run for this loop value (inside a ForEach).")
@click.option("--task-run", "taskrun_id", help="Evaluate as this task run saw it (its id).")
@server_option
def evaluate(
    execution_id: str,
    expression: str,
    task_id: str | None,
    value: str | None,
    taskrun_id: str | None,
    server: str | None,
) -> None:
    """Evaluate EXPRESSION against an execution, as the Outputs page's evaluator does.

    EXPRESSION is a template such as "{{ outputs.api.body | jq('.products') | first }}" or a bare
    expression such as "outputs.api.code". With --task (and --value inside a loop) or
    --task-run it sees what that task run saw: taskrun.value, parent, outputs keyed by the
    same loop values. The value alone goes to stdout (maps and lists as JSON); errors go to
    stderr with exit status 1. With --server the server evaluates it.
    """
    try:
        if server:
            result = _evaluate_remote(server, execution_id, expression, task_id, value, taskrun_id)
        else:
            result = _evaluate_local(execution_id, expression, task_id, value, taskrun_id)
    except PlaitError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    if isinstance(result, (dict, list)):
        print_json(result)
    else:
        click.echo("" if result is None else _text(result))


def _evaluate_local(
    execution_id: str,
    expression: str,
    task_id: str | None,
    value: str | None,
    taskrun_id: str | None,
) -> Any:
    view: ExecutionRun | None = None
    try:
        with open_engine() as engine:
            execution = engine.repository.get(execution_id)
            view = ExecutionRun.stored(engine, execution)
            if task_id is not None and view.flow.task(task_id) is None:
                known = ", ".join(task.id for task in view.flow.walk())
                raise PlaitError(
                    f"no task '{task_id}' in flow {execution.flow_id} (its tasks: {known})"
                )
            run = chosen_run(execution, task_id, value, taskrun_id)
            variables = view.variables_for(run) if run else view.base_variables()
            # Secrets read by the expression are masked like everywhere else.
            return view.masker.mask_value(
                view.evaluate(expression, variables, task_id=run.task_id if run else None)
            )
    except PlaitError as exc:
        if view is None:
            raise
        raise PlaitError(view.masker.mask(str(exc))) from None


def _evaluate_remote(
    server: str,
    execution_id: str,
    expression: str,
    task_id: str | None,
    value: str | None,
    taskrun_id: str | None,
) -> Any:
    client = Client.connect(server)
    execution = client.execution(execution_id)
    run = chosen_run(execution, task_id, value, taskrun_id)
    answer = client.evaluate(execution.id, run.id if run else None, expression)
    if answer.get("error"):
        raise PlaitError(str(answer["error"]))
    return _decoded(answer.get("result"))


def _decoded(result: Any) -> Any:
    """The server's ``result``: maps, lists and values other than text come JSON-encoded."""
    if not isinstance(result, str):
        return result
    try:
        value = json.loads(result)
    except ValueError:
        return result
    if isinstance(value, str):  # a date or time, as ``plait eval`` prints them locally
        return _temporal(value)
    return value if value is None or isinstance(value, (dict, list)) else result


def _temporal(text: str) -> Any:
    kinds: tuple[type[dt.date] | type[dt.time], ...] = (dt.date, dt.time)
    for kind in (dt.datetime, *kinds) if "T" in text else kinds:
        try:
            return kind.fromisoformat(text)
        except ValueError:
            continue
    return text


def chosen_run(
    execution: Execution, task_id: str | None, value: str | None, taskrun_id: str | None
) -> TaskRun | None:
    """The task run ``plait eval`` evaluates in (None: the execution as a whole)."""
    if taskrun_id is not None:
        found = [run for run in execution.task_runs if run.id.startswith(taskrun_id)]
        if len(found) != 1:
            what = "no" if not found else "more than one"
            raise PlaitError(f"{what} task run of execution {execution.id} has id '{taskrun_id}'")
        return found[0]
    if task_id is None:
        if value is not None:
            raise PlaitError("--value needs --task: the task whose loop value it is")
        return None
    runs_by_id = {run.id: run for run in execution.task_runs}
    runs = [run for run in execution.task_runs if run.task_id == task_id]
    if value is not None:
        runs = [run for run in runs if value in _values(runs_by_id, run)]
    if not runs:
        where = f" for value '{value}'" if value is not None else ""
        raise PlaitError(f"task '{task_id}' did not run{where} in execution {execution.id}")
    values = {tuple(_values(runs_by_id, run)) for run in runs}
    if value is None and len(values) > 1:
        shown = ", ".join(sorted(v[-1] for v in values if v)[:10])
        raise PlaitError(
            f"task '{task_id}' ran once per loop value ({shown}...): choose one with --value "
            "or --task-run"
        )
    return runs[-1]


def _values(runs: dict[str, TaskRun], run: TaskRun) -> list[str]:
    return output_keys(chain_of(runs, run))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@click.command()
@click.argument("execution_id")
@click.option("--task", "task_id", help="Only the logs of this task id.")
@server_option
@user_errors
def logs(execution_id: str, task_id: str | None, server: str | None) -> None:
    """Print an execution's logs in order."""
    if server:
        entries = Client.connect(server).logs(execution_id, task_id=task_id)
    else:
        with open_engine() as engine:
            execution = engine.repository.get(execution_id)
            entries = engine.repository.logs(execution.id, task_id=task_id)
    for entry in entries:
        stamp = entry.timestamp.isoformat(timespec="milliseconds")
        where = f"[{entry.task_id}] " if entry.task_id else ""
        click.echo(f"{stamp} {entry.level:<5} {where}{entry.message}")
