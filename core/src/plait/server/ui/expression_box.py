"""The Render expression box: an expression evaluated with the variables of the chosen task
run (inside a loop: its iteration's ``taskrun.value``, ``parent``...), by the same function
as the API's eval endpoint; an error says where in the expression it is (a caret under the
name or token at fault), not only why."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from plait.errors import ExpressionError, PlaitError
from plait.executor.services import EngineServices
from plait.expressions.errors import UndefinedNameError
from plait.server.executions_api import Evaluation, evaluate_on

QUOTED = re.compile(r"'([^']+)'|`([^`]+)`")
"""A name or token an error message quotes (Jinja quotes with '', plait with ``)."""


@dataclass(frozen=True)
class Fault:
    """Where an error points: the ``{{ }}`` at fault, line by line, and the caret under it."""

    lines: list[str]
    line_index: int
    """Which of ``lines`` the caret goes under."""
    column: int
    """0-based column of the caret within that line."""
    width: int
    template_line: int | None
    """The line of the template the ``{{ }}`` starts on (1-based), when the error says."""

    @property
    def caret(self) -> str:
        return " " * self.column + "^" * max(self.width, 1)


@dataclass(frozen=True)
class Rendered:
    """What the box shows for ``expression``: the evaluation, and where its error points."""

    expression: str
    found: Evaluation
    fault: Fault | None = None

    @property
    def value(self) -> Any:
        return self.found.value

    @property
    def error(self) -> str | None:
        return self.found.error


def render_expression(
    engine: EngineServices, execution_id: str, taskrun_id: str | None, expression: str
) -> Rendered:
    found = evaluate_on(engine, execution_id, taskrun_id, expression)
    return Rendered(expression, found, locate(found.exception))


def locate(error: PlaitError | None) -> Fault | None:
    """The caret for ``error``: under the missing name, else under the first token its
    message quotes that the expression contains, else at the closing ``}}`` when the
    expression ended too early, else under the tag's start."""
    if not isinstance(error, ExpressionError) or not error.expression:
        return None
    text = error.expression
    position = _named_position(error, text)
    if position is None:
        start, width = 0, 2
    else:
        start, width = position
    lines = text.split("\n")
    index = text.count("\n", 0, start)
    column = start - (text.rfind("\n", 0, start) + 1)
    return Fault(lines, index, column, width, error.line)


def _named_position(error: ExpressionError, text: str) -> tuple[int, int] | None:
    """(offset, width) in ``text`` of what ``error`` names."""
    names: list[str] = []
    if isinstance(error, UndefinedNameError):
        names.append(str(error.missing))
    for match in QUOTED.finditer(error.reason):
        names.append(match[1] or match[2])
    for name in names:
        if name == text:
            continue  # the message quoting the expression itself
        found = re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text)
        if found is None and not name[:1].isalnum():
            found = re.search(re.escape(name), text)  # a punctuation token: '}' or ')'
        if found is not None:
            return found.start(), len(name)
    if "end of" in error.reason and text.endswith("}}"):
        return len(text) - 2, 2  # it ended while more was expected
    return None
