"""Turning whatever went wrong inside Jinja into one :class:`~plait.errors.ExpressionError`
that names the task, the expression (the ``{{ }}`` at fault, not the whole script) and why."""

from __future__ import annotations

from types import TracebackType

from jinja2.exceptions import SecurityError, TemplateError, TemplateSyntaxError

from plait.errors import ExpressionError
from plait.expressions.pebble import Prepared, Segment, restore_operators
from plait.expressions.sandbox import MissingValue

TEMPLATE_FILENAME = "<plait-expression>"
"""Filename templates are compiled under, to find their frames in a traceback."""


class CallFailed(Exception):
    """A filter or function raised; carries which one, for the message."""

    def __init__(self, kind: str, name: str, error: Exception) -> None:
        reason = str(error) or type(error).__name__
        if not isinstance(error, ValueError | LookupError | OSError | ExpressionError):
            reason = f"{type(error).__name__}: {reason}"
        super().__init__(f"{kind} `{name}` failed: {reason}")


class UndefinedNameError(ExpressionError):
    """A name or key used by an expression does not exist (Kestra's wording)."""

    def __init__(
        self,
        name: object,
        *,
        expression: str,
        line: int | None,
        task_id: str | None,
        reason: str | None = None,
    ) -> None:
        message = f"Unable to find `{name}` used in the expression `{expression}`"
        if line is not None:
            message += f" at line {line}"
        if reason:
            message += f": {reason}"
        super().__init__(message, task_id=task_id, line=line)
        self.expression = expression
        self.missing = name


def translate(error: Exception, prepared: Prepared, task_id: str | None) -> ExpressionError:
    """The user-facing error for ``error`` raised while parsing or rendering ``prepared``.

    The tag at fault is found from the failing line: the error's own for syntax errors, the
    innermost template frame of the traceback otherwise.
    """
    if isinstance(error, ExpressionError) and error.expression is not None:
        return error  # raised by a nested render(): it already names its own expression
    line = error.lineno if isinstance(error, TemplateSyntaxError) else _template_line(error)
    segment = prepared.segment_at(line) or _only_segment(prepared)
    expression = prepared.text(segment) if segment else prepared.template
    where = _where(prepared, segment, line)
    if isinstance(error, MissingValue):
        return UndefinedNameError(
            error.name,
            expression=expression,
            line=where[0] if where and "\n" in prepared.template else None,
            task_id=task_id,
            reason=error.reason,
        )
    if isinstance(error, TemplateSyntaxError):
        reason = restore_operators(error.message or "invalid syntax")
        if where:
            reason = f"syntax error at line {where[0]}, column {where[1]}: {reason}"
        else:
            reason = f"syntax error: {reason}"
        line, column = where or (None, None)
        return ExpressionError(
            reason, expression=expression, task_id=task_id, line=line, column=column
        )
    if isinstance(error, ExpressionError):
        reason = error.reason
    elif isinstance(error, RecursionError):
        reason = "nested too deeply (a macro or render() that calls itself?)"
    elif isinstance(error, SecurityError | TemplateError | CallFailed):
        reason = str(error)
    else:
        reason = f"{type(error).__name__}: {error}"
    return ExpressionError(reason, expression=expression, task_id=task_id)


def _template_line(error: BaseException) -> int | None:
    """The innermost template line in the traceback (Jinja rewrites frames to template lines)."""
    line = None
    tb: TracebackType | None = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == TEMPLATE_FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _only_segment(prepared: Prepared) -> Segment | None:
    return prepared.segments[0] if len(prepared.segments) == 1 else None


def _where(prepared: Prepared, segment: Segment | None, line: int | None) -> tuple[int, int] | None:
    """(line, column) in the original template: the failing line, the tag's column."""
    if segment is None:
        return None
    in_segment = line if line is not None and segment.first_line <= line else segment.first_line
    return prepared.original_line(segment, in_segment), prepared.column(segment)
