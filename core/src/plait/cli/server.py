"""``plait server``: the REST API on the same ``PLAIT_HOME`` as the command line."""

from __future__ import annotations

import ipaddress

import click

from plait.cli.engine import open_engine
from plait.cli.main import user_errors
from plait.cli.worker import require_shared_store
from plait.errors import PlaitError


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8080,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port to listen on.",
)
@click.option(
    "--no-worker",
    is_flag=True,
    help="Run no task runs here: leave them to `plait worker` processes (needs a shared "
    "repository, PLAIT_REPOSITORY=postgres).",
)
@user_errors
def server(host: str, port: int, no_worker: bool) -> None:
    """Serve Kestra's REST API (under /api/v1 and /api/v1/main) and the web UI (/ui/), and
    run executions.

    Listens on 127.0.0.1 unless told otherwise; another address needs authentication:
    PLAIT_SERVER_USERS (user:password,...) for basic auth and/or PLAIT_SERVER_TOKENS
    (token,...) for bearer tokens. Flows' triggers (Schedule, Flow, Webhook) fire while it runs.
    Executions left running by a server that died are carried on at start. Stop it with Ctrl-C.

    On a shared repository (PLAIT_REPOSITORY=postgres) several servers may run at once: each
    drives the executions it creates, runs task runs from the shared queue (unless
    --no-worker), and carries on the executions of a server that died once its leases expired
    (PLAIT_WORKER_LEASE_SECONDS, default 30), without running again what workers finished.
    Stopping such a server leaves its executions running for the others (or for its restart).
    """
    import uvicorn
    from uvicorn.config import STARTUP_FAILURE

    from plait.executor.shared_queue import lease_seconds
    from plait.server.app import TOKENS_ENV, USERS_ENV, Auth, build_app
    from plait.server.runtime import ServerRuntime
    from plait.server.scheduler import Scheduler
    from plait.server.takeover import Takeover

    auth = Auth.from_env()
    if not is_loopback(host) and not auth.enabled:
        raise PlaitError(
            f"refusing to listen on {host} without authentication: set {USERS_ENV} "
            f"(user:password) or {TOKENS_ENV}, or listen on 127.0.0.1"
        )
    with open_engine() as engine:
        runtime = ServerRuntime(engine)
        store = require_shared_store(engine, "plait server --no-worker") if no_worker else None
        store = store or engine.shared_queue_store()
        takeover = None
        if store is None:
            resumed = runtime.recover()
            if resumed:
                click.echo(f"resuming {len(resumed)} execution(s): {', '.join(resumed)}", err=True)
        else:
            engine.task_workers = not no_worker
            engine.queue  # noqa: B018 - starts this server's workers (unless --no-worker) now
            takeover = Takeover(runtime, store, lease_seconds()).start()
        scheduler = Scheduler(runtime)
        scheduler.start()
        click.echo(f"plait server on http://{host}:{port} (home {engine.settings.home})", err=True)
        try:
            app = build_app(runtime, auth, scheduler)
            uvicorn.run(app, host=host, port=port, log_level="warning")
        except SystemExit as exc:  # uvicorn exits 3 when it cannot listen, having said why
            if exc.code != STARTUP_FAILURE:
                raise
            raise PlaitError(f"the server could not listen on {host}:{port} (see above)") from None
        finally:
            scheduler.stop()
            if takeover is not None:
                takeover.stop()
            runtime.close(kill=store is None)
