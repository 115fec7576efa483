"""Where each output line of a script goes: the task log, the ``vars`` output, the error message."""

from __future__ import annotations

from collections import deque
from typing import Any

from plait_sdk import TaskLogger

from plait_python.control import parse_control_line
from plait_python.streams import STDERR

STDERR_TAIL_LINES = 20


class OutputCollector:
    """Routes lines as they arrive: stdout to INFO, stderr to WARNING, control lines to
    ``vars`` or to the log (metrics at DEBUG); keeps the end of stderr for the error message
    of a failed run."""

    def __init__(self, log: TaskLogger) -> None:
        self._log = log
        self.vars: dict[str, Any] = {}
        self.stderr_lines = 0
        self._stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)

    def __call__(self, stream: str, line: str) -> None:
        control = parse_control_line(line)
        if control is not None:
            self.vars.update(control.outputs)
            for entry in control.logs:
                getattr(self._log, entry.level)(entry.message)
            for metric in control.metrics:
                self._log.debug(metric.describe())
        elif stream == STDERR:
            self.stderr_lines += 1
            self._stderr_tail.append(line)
            self._log.warning(line)
        else:
            self._log.info(line)

    @property
    def stderr_tail(self) -> str:
        return "\n".join(self._stderr_tail)
