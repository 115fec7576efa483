"""The budget every render runs under: how large a value may grow and how long it may take.

Expressions come from flow files and from boxes on the server, written by people who may not
be trusted, so no expression may take the engine's memory or time. Checks are cooperative and
cheap: sizes are checked before an operation that can amplify (padding, repetition,
replacement, joins) and on every filter result; time is checked at every call, filter, loop
iteration and printed value. A render that breaches either limit fails with a
:class:`BudgetExceeded` naming the limit and the setting that changes it.

Nested renders (``render()``) share their outer render's budget; a task's ``timeout`` bounds the
renders made for it through :func:`deadline_within`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from plait.errors import ExpressionError

MAX_SIZE_ENV = "PLAIT_RENDER_MAX_SIZE"
TIMEOUT_ENV = "PLAIT_RENDER_TIMEOUT"
DEFAULT_MAX_SIZE = 10_000_000
"""Characters of a string, items of a collection, or characters a value prints to."""
DEFAULT_SECONDS = 10.0
MAX_INT_DIGITS = 4300
"""Digits an integer may have: Python's own limit for turning one into text."""
MAX_INT_BITS = 14_284
"""Bits of the largest integer sure to have at most :data:`MAX_INT_DIGITS` digits."""


class BudgetExceeded(ExpressionError):
    """A render went past its size or time limit."""


@dataclass(frozen=True)
class RenderLimits:
    """The limits of one render; the defaults come from the environment."""

    max_size: int = DEFAULT_MAX_SIZE
    seconds: float = DEFAULT_SECONDS

    @classmethod
    def from_env(cls) -> RenderLimits:
        """``PLAIT_RENDER_MAX_SIZE`` and ``PLAIT_RENDER_TIMEOUT`` (seconds), else the defaults;
        an unreadable value is a user error, not a silent default."""
        return cls(
            max_size=int(positive_setting(MAX_SIZE_ENV, DEFAULT_MAX_SIZE)),
            seconds=positive_setting(TIMEOUT_ENV, DEFAULT_SECONDS),
        )


def positive_setting(name: str, default: float) -> float:
    """The positive number in environment variable ``name``, else ``default``."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        raise ExpressionError(f"{name}={raw!r} is not a positive number")
    return value


@dataclass(frozen=True)
class _Budget:
    limits: RenderLimits
    deadline: float
    by_task: bool
    """Whether the deadline is the task's timeout rather than the render's own limit."""


_active: ContextVar[_Budget | None] = ContextVar("plait_render_budget", default=None)
_task_deadline: ContextVar[float | None] = ContextVar("plait_task_deadline", default=None)
_fallback = RenderLimits()


@contextmanager
def rendering(limits: RenderLimits) -> Iterator[None]:
    """Run a render under ``limits``, unless one is already running (a nested ``render()``
    spends its caller's budget)."""
    if _active.get() is not None:
        yield
        return
    own = time.monotonic() + limits.seconds
    task = _task_deadline.get()
    by_task = task is not None and task < own
    budget = _Budget(limits, task if by_task and task is not None else own, by_task)
    token = _active.set(budget)
    try:
        yield
    finally:
        _active.reset(token)


@contextmanager
def deadline_within(deadline: float | None) -> Iterator[None]:
    """Make renders started in this block end by ``deadline`` (a ``time.monotonic()`` value),
    such as a task's timeout; ``None`` leaves them their own limit."""
    token = _task_deadline.set(deadline)
    try:
        yield
    finally:
        _task_deadline.reset(token)


def max_size() -> int:
    """The size limit of the render in progress (the default one outside a render)."""
    budget = _active.get()
    return (budget.limits if budget else _fallback).max_size


def remaining() -> float | None:
    """Seconds left to the render in progress, or None outside a render."""
    budget = _active.get()
    return None if budget is None else max(0.0, budget.deadline - time.monotonic())


def seconds_left() -> float:
    """Seconds left to the render in progress; outside a render, the configured render time
    (for work such as jq or a regex that must bound itself)."""
    left = remaining()
    return RenderLimits.from_env().seconds if left is None else left


def check_time() -> None:
    """Fail when the render in progress has run out of time."""
    budget = _active.get()
    if budget is not None and time.monotonic() > budget.deadline:
        raise out_of_time(budget)


def out_of_time(budget: _Budget | None = None) -> BudgetExceeded:
    """The error of a render that ran out of time."""
    budget = budget or _active.get()
    if budget is not None and budget.by_task:
        return BudgetExceeded("rendering did not finish within the task's timeout")
    seconds = (budget.limits if budget else _fallback).seconds
    return BudgetExceeded(
        f"rendering took longer than the {seconds:g} s allowed (setting {TIMEOUT_ENV})"
    )


def check_size(size: int, what: str = "a value") -> None:
    """Fail when ``size`` (characters or items) is over the render's size limit."""
    limit = max_size()
    if size > limit:
        raise BudgetExceeded(
            f"the expression would build {what} of {size:,} characters or items, more than "
            f"the {limit:,} allowed (setting {MAX_SIZE_ENV})"
        )


def check_int(value: int) -> None:
    """Fail on integers too large to print (more than :data:`MAX_INT_DIGITS` digits)."""
    check_int_bits(value.bit_length())


def check_int_bits(bits: int) -> None:
    """Fail before computing an integer of ``bits`` bits, too large to print."""
    if bits > MAX_INT_BITS:
        raise BudgetExceeded(f"an integer may have at most about {MAX_INT_DIGITS} digits")


def shallow_size(value: Any) -> int:
    """Characters of a string or items of a collection (0 for other values)."""
    if isinstance(value, str | bytes | list | tuple | Mapping | set | frozenset):
        return len(value)
    return 0


def check_result(value: Any, what: str = "a value") -> Any:
    """``value``, once its own size (not its items') and, for an integer, its digits pass."""
    if isinstance(value, int) and not isinstance(value, bool):
        check_int(value)
    else:
        check_size(shallow_size(value), what)
    return value


def check_printable(value: Any) -> None:
    """Fail when ``value`` would print to more characters than allowed, before printing it.

    Nested collections are walked (a list repeating one large list prints far more than its
    length says), each shared one once, stopping as soon as the limit is passed.
    """
    limit = max_size()
    try:
        size = _printed_size(value, limit, {})
    except RecursionError:
        raise BudgetExceeded("the value is nested too deeply to print") from None
    check_size(size, "a text")


def _printed_size(value: Any, limit: int, known: dict[int, int]) -> int:
    """About how many characters ``value`` prints to as JSON, or more than ``limit``."""
    if isinstance(value, str | bytes):
        return len(value)
    if isinstance(value, int):
        bits = value.bit_length()
        check_int_bits(bits)
        return 1 + bits * 3 // 10
    if not isinstance(value, Mapping | list | tuple | set | frozenset):
        return 1
    seen = known.get(id(value))
    if seen is not None:
        return seen
    items: Iterable[Any] = value
    total = 2 + len(value)
    if isinstance(value, Mapping):
        items = (*value.keys(), *value.values()) if total <= limit else ()
        total += len(value)
    for item in items if total <= limit else ():
        total += 1 if item is None or isinstance(item, float) else _printed_size(item, limit, known)
        if total > limit:
            break
    known[id(value)] = total
    return total


def checked_iter(iterable: Iterable[Any]) -> Iterator[Any]:
    """``iterable``, checking the render's time as it goes (a ``for`` loop's items)."""
    for count, item in enumerate(iterable):
        if not count & 255:
            check_time()
        yield item


def bounded_join(parts: Iterable[str]) -> str:
    """The output of a template, failing as soon as it grows over the size limit."""
    limit = max_size()
    pieces = []
    size = 0
    for part in parts:
        size += len(part)
        if size > limit:
            check_size(size, "a text")
        pieces.append(part)
    return "".join(pieces)
