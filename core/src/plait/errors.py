"""User-facing errors: each names what is at fault (file, line, task id, expression, input) so
the CLI can print it without a traceback."""

from __future__ import annotations

from dataclasses import dataclass


class PlaitError(Exception):
    """An error caused by user input or environment; printed as its message, never a traceback."""


@dataclass(frozen=True)
class Problem:
    """One validation problem, located in a flow file."""

    message: str
    file: str = "<flow>"
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}"


class FlowValidationError(PlaitError):
    """A flow (or its inputs) is invalid; every problem is reported at once."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class ExpressionError(PlaitError):
    """An expression failed to render; names the task and the expression at fault."""

    def __init__(
        self,
        message: str,
        *,
        expression: str | None = None,
        task_id: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ):
        self.reason = message
        self.expression = expression
        self.task_id = task_id
        self.line = line
        """Where the ``{{ }}`` at fault starts in its template (1-based), when known: the UI
        points at it."""
        self.column = column
        parts = []
        if task_id:
            parts.append(f"task '{task_id}'")
        if expression is not None:
            parts.append(f"expression `{expression}`")
        prefix = ", ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class StorageError(PlaitError):
    """A storage URI is invalid, unsafe, outside the current execution, or missing."""


class PluginError(PlaitError):
    """A plugin could not be loaded or conflicts with another one."""


class NotFoundError(PlaitError):
    """An execution, flow or file that was asked for does not exist."""


class ConflictError(PlaitError):
    """The request conflicts with the state of what it names (restart a running execution)."""
