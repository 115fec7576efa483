"""Progress events, so a front end (the CLI's live view) can follow an execution as it runs."""

from __future__ import annotations

from typing import Protocol

from plait.state.model import Execution, LogEntry, TaskRun


class ExecutionListener(Protocol):
    def task_started(self, execution: Execution, run: TaskRun) -> None: ...
    def task_ended(self, execution: Execution, run: TaskRun) -> None: ...
    def log(self, entry: LogEntry) -> None: ...


class NoListener:
    """The listener used when nobody watches (the Python API, tests)."""

    def task_started(self, execution: Execution, run: TaskRun) -> None:
        pass

    def task_ended(self, execution: Execution, run: TaskRun) -> None:
        pass

    def log(self, entry: LogEntry) -> None:
        pass
