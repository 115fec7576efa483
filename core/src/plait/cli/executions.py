"""``plait executions``: list, show, kill, restart and replay executions (local, or on a
server with ``--server``)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence

import click

from plait.cli.engine import open_engine
from plait.cli.main import user_errors
from plait.cli.output import EXIT_FAILED, EXIT_OK, print_json, table
from plait.cli.remote import Client, server_option
from plait.cli.run import follow, follow_remote
from plait.cli.tree import tree_text
from plait.executor.abandoned import end_abandoned
from plait.executor.kill import request_kill
from plait.executor.runner import KILL_CHECK_SECONDS, KILL_GRACE_SECONDS
from plait.state.model import Execution, State

KILL_WAIT_MARGIN_SECONDS = 10.0
"""How much longer than the kill grace ``plait executions kill`` waits for the end."""


@click.group()
def executions() -> None:
    """List, show, kill, restart and replay executions (with --server: a plait server's)."""


@executions.command("list")
@click.option("--namespace", help="Only executions of this namespace.")
@click.option("--flow", "flow_id", help="Only executions of this flow id.")
@click.option(
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(min=1),
    help="How many, newest first.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON documents.")
@server_option
@user_errors
def list_executions(
    namespace: str | None, flow_id: str | None, limit: int, as_json: bool, server: str | None
) -> None:
    """List executions, newest first."""
    if server:
        found = Client.connect(server).search(namespace, flow_id, limit)
    else:
        with open_engine() as engine:
            end_abandoned(engine.repository)  # nothing shows RUNNING when its process died
            found = engine.repository.list(namespace=namespace, flow_id=flow_id, limit=limit)
    print_executions(found, as_json=as_json)


def print_executions(found: Sequence[Execution], *, as_json: bool) -> None:
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
@server_option
@user_errors
def show_execution(execution_id: str, as_json: bool, server: str | None) -> None:
    """Show one execution (an id or a unique id prefix): state, task runs, errors."""
    if server:
        execution = Client.connect(server).execution(execution_id)
    else:
        with open_engine() as engine:
            end_abandoned(engine.repository)
            execution = engine.repository.get(execution_id)
    print_execution(execution, as_json=as_json)


def print_execution(execution: Execution, *, as_json: bool) -> None:
    if as_json:
        print_json(execution.to_document())
        return
    click.echo(
        f"flow      {execution.namespace}.{execution.flow_id} (revision {execution.flow_revision})"
    )
    if execution.original_id and execution.original_id != execution.id:
        click.echo(f"replays   {execution.original_id}")
    if execution.inputs:
        click.echo(f"inputs    {json.dumps(execution.inputs, default=str)}")
    click.echo(tree_text(execution))


@executions.command("kill")
@click.argument("execution_id")
@server_option
@user_errors
def kill(execution_id: str, server: str | None) -> None:
    """Kill a running execution, whichever process drives it (a `plait run`, a server).

    Prints KILLING, waits until its task runs stopped, then prints KILLED. Exit 1 when it
    ended otherwise meanwhile.
    """
    if server:
        client = Client.connect(server)
        ended = wait_killed(client.kill(execution_id), client.execution)
    else:
        with open_engine() as engine:
            repository = engine.repository
            ended = wait_killed(request_kill(repository, execution_id), repository.get)
    sys.exit(EXIT_OK if ended.state is State.KILLED else EXIT_FAILED)


def wait_killed(execution: Execution, get: Callable[[str], Execution]) -> Execution:
    """Print the state the kill request answered (KILLING), then the execution once it ended
    (its driver takes up to the kill grace to stop its task runs)."""
    click.echo(f"execution {execution.id}: {execution.state}")
    if execution.state.is_terminal:
        return execution  # its process was gone: ended at once
    deadline = time.monotonic() + KILL_GRACE_SECONDS + KILL_WAIT_MARGIN_SECONDS
    while not execution.state.is_terminal and time.monotonic() < deadline:
        time.sleep(KILL_CHECK_SECONDS)
        execution = get(execution.id)
    click.echo(f"execution {execution.id}: {execution.state}")
    return execution


@executions.command("restart")
@click.argument("execution_id")
@click.option("--json", "as_json", is_flag=True, help="Print the execution document at the end.")
@server_option
@user_errors
def restart(execution_id: str, as_json: bool, server: str | None) -> None:
    """Run a FAILED or KILLED execution again in place (same id), from where it failed.

    Task runs that succeeded keep their outputs and do not run again; failed ones get a new
    attempt. An execution left RUNNING by a process that died (kill -9) is finished. Waits for
    the end and exits like `plait run` (0 ok, 1 failed); with --server the server runs it.
    """
    if server:
        client = Client.connect(server)
        follow_remote(client, client.restart(execution_id).id, as_json=as_json)
    with open_engine() as engine:
        follow(lambda listener: engine.restart(execution_id, listener=listener), as_json=as_json)


@executions.command("replay")
@click.argument("execution_id")
@click.option(
    "--from",
    "start",
    metavar="TASK",
    help="A task id (or task run id): keep what ran before it, run it and what follows again.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the execution document at the end.")
@server_option
@user_errors
def replay(execution_id: str, start: str | None, as_json: bool, server: str | None) -> None:
    """Run an execution again as a new one, with the same flow revision and inputs.

    Without --from everything runs again; with it, the task runs before TASK are kept (outputs
    and files copied). Waits for the end and exits like `plait run`; with --server the server
    runs it.
    """
    if server:
        client = Client.connect(server)
        follow_remote(client, client.replay(execution_id, start).id, as_json=as_json)
    with open_engine() as engine:
        follow(
            lambda listener: engine.replay(execution_id, start=start, listener=listener),
            as_json=as_json,
        )
