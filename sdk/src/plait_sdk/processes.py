"""Processes that die with the engine: a task's command line, wrapped so that ``kill -9`` of
the engine ends it and every process it started.

:func:`supervised` puts a tiny watcher in front of the command. The watcher leads the process
group (start it with ``start_new_session=True``), asks Linux to signal it when the engine's
thread that started it dies (``PR_SET_PDEATHSIG``), and then kills the whole group; otherwise it
waits for the command and exits with its status. SIGTERM to the group (the engine cancelling a
task) reaches the command as before: the watcher ignores it and leaves with the command. Where
death signals do not exist (not Linux) the command runs as given.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

WATCHER = r"""
import ctypes, os, signal, sys
engine = int(sys.argv[1])
def end_group(*_):
    os.killpg(0, signal.SIGKILL)
signal.signal(signal.SIGUSR1, end_group)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
ctypes.CDLL(None).prctl(1, signal.SIGUSR1)  # PR_SET_PDEATHSIG
if os.getppid() != engine:  # the engine died before the death signal was armed
    end_group()
child = os.fork()
if child == 0:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGUSR1, signal.SIG_DFL)
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    except OSError as exc:
        print(f"cannot start {sys.argv[2]!r}: {exc.strerror or exc}", file=sys.stderr)
        os._exit(127)
while True:
    try:
        _, status = os.waitpid(child, 0)
        break
    except InterruptedError:
        continue
code = os.waitstatus_to_exitcode(status)
sys.exit(128 - code if code < 0 else code)
"""


def supervised(argv: Sequence[str]) -> list[str]:
    """``argv`` behind the watcher (Linux), to start with ``start_new_session=True``."""
    if not sys.platform.startswith("linux"):
        return list(argv)
    return [sys.executable, "-I", "-S", "-c", WATCHER, str(os.getpid()), *argv]
