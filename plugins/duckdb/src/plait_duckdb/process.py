"""Starting the DuckDB worker process from the engine, and ending it when the run is cancelled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path

from plait_sdk import RunContext, TaskFailure
from plait_sdk.files import host_environment
from plait_sdk.processes import supervised

from plait_duckdb.protocol import QueryRequest, QueryResponse

WORKER_COMMAND = (sys.executable, "-P", "-m", "plait_duckdb.worker")
POLL_SECONDS = 0.25
STDERR_TAIL = 2000


def run_worker(
    ctx: RunContext, request: QueryRequest, cwd: Path, env: Mapping[str, str]
) -> QueryResponse:
    """Run ``request`` in a worker whose current directory is ``cwd``; SQL errors raise."""
    with subprocess.Popen(
        supervised(WORKER_COMMAND),  # ends with the engine, even on kill -9
        cwd=cwd,
        env=host_environment(env),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    ) as worker:
        try:
            stdout, stderr = _communicate(ctx, worker, request.to_json().encode())
        finally:
            if worker.poll() is None:
                with suppress(ProcessLookupError):
                    os.killpg(worker.pid, signal.SIGKILL)  # the watcher and the worker
                worker.wait()
    for line in stderr.decode(errors="replace").splitlines():
        ctx.log.warning(line)
    if worker.returncode != 0:
        raise TaskFailure(ctx.mask(_crash_message(worker.returncode, stderr)))
    response = QueryResponse.from_json(stdout.decode())
    if response.error:
        raise TaskFailure(ctx.mask(response.error))
    return response


def _communicate(
    ctx: RunContext, worker: subprocess.Popen[bytes], payload: bytes | None
) -> tuple[bytes, bytes]:
    """Exchange the request and response, checking for cancellation meanwhile."""
    while True:
        try:
            return worker.communicate(payload, timeout=POLL_SECONDS)
        except subprocess.TimeoutExpired:
            payload = None  # already handed over: communicate() carries on writing it
            if ctx.cancelled():
                with suppress(ProcessLookupError):
                    os.killpg(worker.pid, signal.SIGKILL)
                worker.communicate()
                raise TaskFailure("the query was cancelled") from None


def _crash_message(code: int, stderr: bytes) -> str:
    if code > 128 and code - 128 in signal.Signals._value2member_map_:
        code = 128 - code  # the watcher reports a signal as 128 + its number, as shells do
    if code < 0:
        cause = f"was killed by signal {signal.Signals(-code).name}"
        if -code == signal.SIGKILL:
            cause += " (out of memory?)"
    else:
        cause = f"ended with exit code {code}"
    tail = stderr.decode(errors="replace")[-STDERR_TAIL:].strip()
    return f"the DuckDB worker process {cause}" + (f":\n{tail}" if tail else "")
