"""Running a command line as a local process, in its own process group so a kill reaches every
child it started."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from plait_sdk import TaskFailure
from plait_sdk.processes import supervised

from plait_python.streams import STDERR, STDOUT, LinePump, Watch, supervise

TERM_GRACE_SECONDS = 3.0
"""Time a killed process group gets to exit after SIGTERM before SIGKILL."""


@dataclass(frozen=True)
class Finished:
    exit_code: int
    cancelled: bool
    """The engine asked for the run to stop and it was killed."""


def run_process(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    on_line: Callable[[str, str], None],
    watch: Watch,
) -> Finished:
    try:
        process = subprocess.Popen(
            supervised(argv),  # ends with the engine, even on kill -9
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise TaskFailure(f"cannot start {argv[0]!r}: {exc.strerror or exc}") from exc
    assert process.stdout is not None and process.stderr is not None
    pump = LinePump()
    pump.add(STDOUT, _chunks(process.stdout))
    pump.add(STDERR, _chunks(process.stderr))
    try:
        cancelled = supervise(
            pump,
            on_line,
            kill=lambda: _kill_group(process),
            watch=watch,
            exited=lambda: process.poll() is not None,
        )
        return Finished(process.wait(), cancelled)
    finally:
        if process.poll() is None:  # interrupted engine: take the whole group down with us
            _kill_group(process)
        process.stdout.close()
        process.stderr.close()


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    """Whatever bytes are available, as soon as they are: no waiting for a full buffer."""
    read = getattr(stream, "read1", stream.read)
    return iter(lambda: read(65536), b"")


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, then SIGKILL what is left after a grace period (children that
    ignore SIGTERM or outlive the leader)."""
    _signal_group(process.pid, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        process.wait(TERM_GRACE_SECONDS)
    _signal_group(process.pid, signal.SIGKILL)


def _signal_group(group: int, sig: signal.Signals) -> None:
    with suppress(ProcessLookupError):
        os.killpg(group, sig)
