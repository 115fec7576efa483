"""The output of an environment build (dependency installs, setup commands): logged as it comes,
its end kept for the error message when the build fails."""

from __future__ import annotations

from collections import deque

from plait_sdk import TaskFailure, TaskLogger

from plait_python.process import Finished

TAIL_LINES = 20


class InstallLog:
    """``on_line`` for a build's process or container; ``check`` judges how it ended."""

    def __init__(self, log: TaskLogger, what: str) -> None:
        self._log = log
        self._what = what
        self._tail: deque[str] = deque(maxlen=TAIL_LINES)

    def __call__(self, stream: str, line: str) -> None:
        self._tail.append(line)
        self._log.info(line)

    def check(self, finished: Finished) -> None:
        if finished.cancelled:
            raise TaskFailure(f"stopped while {self._what} (timeout or kill)")
        if finished.exit_code != 0:
            raise TaskFailure(
                f"{self._what} failed (exit code {finished.exit_code}):\n" + "\n".join(self._tail)
            )
