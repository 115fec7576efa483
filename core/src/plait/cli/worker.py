"""``plait worker``: run task runs from the work queue of a shared repository (PostgreSQL)."""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType

import click
from plait_sdk.queue import WorkQueueStore

from plait.api import Engine
from plait.cli.engine import open_engine
from plait.cli.main import user_errors
from plait.cli.output import EXIT_INVALID, fail

EXIT_INTERRUPTED = 130


def require_shared_store(engine: Engine, command: str) -> WorkQueueStore:
    """The engine's shared work queue; exit 2 saying why when the repository has none."""
    store = engine.shared_queue_store()
    if store is None:
        fail(
            f"`{command}` needs a shared repository: the '{engine.settings.repository}' "
            "repository keeps task runs in the process that drives their execution. Set "
            "PLAIT_REPOSITORY=postgres and PLAIT_POSTGRES_DSN (see docs/scale-out.md)",
            EXIT_INVALID,
        )
    assert store is not None
    return store


@click.command()
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=None,
    help="Task runs run at once  [default: one per core]",
)
@user_errors
def worker(concurrency: int | None) -> None:
    """Run task runs from the shared work queue until stopped.

    Needs a shared repository (PLAIT_REPOSITORY=postgres, PLAIT_POSTGRES_DSN) and the same
    PLAIT_HOME storage as the servers (a shared mount), with the plugins the flows use. Any
    number of workers on any machines pull from one database; `plait server` drives the
    executions. A task run is leased for PLAIT_WORKER_LEASE_SECONDS (default 30), renewed
    while it runs: if this worker dies, another one runs it again as a new attempt once the
    lease expired. SIGTERM or Ctrl-C: claim nothing more, finish the task runs in progress
    and exit; a second one exits at once (their leases then expire).
    """
    from plait.executor.shared_queue import lease_seconds
    from plait.executor.worker_pool import WorkerPool, default_concurrency

    with open_engine() as engine:
        engine.task_workers = False  # a subflow this worker starts puts its tasks on the queue
        store = require_shared_store(engine, "plait worker")
        pool = WorkerPool(engine, store, concurrency or default_concurrency(), lease_seconds())
        stop = threading.Event()

        def stop_gracefully(signum: int, frame: FrameType | None) -> None:
            if stop.is_set():
                raise KeyboardInterrupt
            click.echo("plait worker: finishing the task runs in progress", err=True)
            stop.set()

        signal.signal(signal.SIGTERM, stop_gracefully)
        signal.signal(signal.SIGINT, stop_gracefully)
        click.echo(
            f"plait worker {pool.name} on {engine.settings.repository} "
            f"(concurrency {pool.concurrency})",
            err=True,
        )
        try:
            pool.run(stop)
        except KeyboardInterrupt:  # the second signal: leave now, the leases will expire
            sys.exit(EXIT_INTERRUPTED)
