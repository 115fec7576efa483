"""Size checks made *before* the operations that can turn a small expression into a huge value.

Checking a result's size afterwards is too late for ``'x'.center(10**10)``: the memory is gone
by then. Each guard here computes the size an operation would produce from its arguments and
fails through :func:`plait.expressions.budget.check_size` first. The sandbox calls them for
operators and methods; the engine wraps every filter with :func:`guard_filter`.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from string import Formatter
from typing import Any

from jinja2 import filters as jinja_filters

from plait.expressions.budget import (
    check_int_bits,
    check_printable,
    check_result,
    check_size,
    check_time,
)

_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Fail before ``left <operator> right`` builds a value over the budget."""
    if operator == "*":
        _check_repeat(left, right)
        _check_repeat(right, left)
        if _is_int(left) and _is_int(right):
            check_int_bits(left.bit_length() + right.bit_length())
    elif operator == "**":
        if _is_int(left) and _is_int(right) and abs(left) > 1 and right > 0:
            check_int_bits(math.ceil(right * math.log2(abs(left))))
    elif operator == "+":
        if isinstance(left, str | list | tuple) and type(left) is type(right):
            check_size(len(left) + len(right))
    elif operator == "%" and isinstance(left, str):
        check_percent_format(left, right)


def check_percent_format(template: str, args: Any) -> None:
    """Fail when a ``%`` format asks for a width or precision over the budget."""
    values = list(args) if isinstance(args, tuple) else [args]
    for match in _PERCENT_SPEC.finditer(template):
        for number in match.groups():
            if number == "*":
                width = values.pop(0) if values else 0
                check_size(abs(width) if _is_int(width) else 0, "a padded text")
            elif number:
                check_size(int(number), "a padded text")


def check_call(method: Any, args: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
    """Fail before a method of a string, bytes or integer builds a value over the budget."""
    owner = getattr(method, "__self__", None)
    name = getattr(method, "__name__", "")
    if isinstance(owner, str | bytes):
        _check_text_method(owner, name, args, kwargs)
    elif _is_int(owner) and name == "to_bytes":
        length = args[0] if args else kwargs.get("length", 1)
        check_size(length if _is_int(length) else 0, "bytes")


def _check_text_method(
    text: str | bytes, name: str, args: Sequence[Any], kwargs: Mapping[str, Any]
) -> None:
    arguments = [*args, *kwargs.values()]
    if name in ("center", "ljust", "rjust", "zfill") and arguments and _is_int(arguments[0]):
        check_size(arguments[0], "a padded text")
    elif name == "expandtabs":
        size = arguments[0] if arguments and _is_int(arguments[0]) else 8
        tabs = text.count("\t" if isinstance(text, str) else b"\t")
        check_size(len(text) + tabs * max(0, size), "a text")
    elif name == "replace" and len(arguments) >= 2:
        check_replace(text, arguments[0], arguments[1], arguments[2] if len(arguments) > 2 else -1)
    elif name == "join" and arguments:
        _check_join(text, arguments[0])
    elif name == "translate" and arguments and isinstance(arguments[0], Mapping):
        longest = max((len(v) for v in arguments[0].values() if isinstance(v, str)), default=1)
        check_size(len(text) * max(1, longest), "a text")


def check_replace(text: Any, old: Any, new: Any, count: Any = -1) -> None:
    """Fail before replacing ``old`` with a longer ``new`` would build too much text."""
    if not (isinstance(text, str | bytes) and isinstance(old, type(text))):
        return
    if not isinstance(new, type(text)) or len(new) <= len(old):
        return
    found = text.count(old) if old else len(text) + 1
    if _is_int(count) and count >= 0:
        found = min(found, count)
    check_size(len(text) + found * (len(new) - len(old)), "a text")


def _check_join(separator: Any, items: Any) -> None:
    if not isinstance(items, list | tuple):
        return
    check_size(len(items) * len(separator), "a text")
    size = 0
    for item in items:
        size += len(item) if isinstance(item, str | bytes) else 1
    check_size(size + max(0, len(items) - 1) * len(separator), "a text")


def check_str_format(template: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
    """Fail before ``template.format(...)`` pads to a width, or prints a value, over the budget.

    A width given as a nested field (``'{:{}}'.format(x, n)``) comes from the arguments, so
    then every integer argument is checked as a width.
    """
    nested = False
    for _text, field, spec, _conversion in Formatter().parse(template):
        if field is None or not spec:
            continue
        nested = nested or "{" in spec
        for number in re.findall(r"\d+", spec):
            check_size(int(number), "a padded text")
    values = [*args, *kwargs.values()]
    for value in values:
        check_printable(value)
        if nested and _is_int(value):
            check_size(abs(value), "a padded text")


# --- Jinja's own filters that can amplify ---------------------------------------------------
# Each check receives the filter's arguments starting with the value filtered.

Precheck = Callable[[tuple[Any, ...], dict[str, Any]], None]


def _number_argument(keyword: str) -> Precheck:
    def check(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        number = args[1] if len(args) > 1 else kwargs.get(keyword)
        if _is_int(number):
            check_size(abs(number), "a padded text")

    return check


def _check_indent(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    text = args[0] if args and isinstance(args[0], str) else ""
    width = args[1] if len(args) > 1 else kwargs.get("width", 4)
    size = len(width) if isinstance(width, str) else abs(width) if _is_int(width) else 0
    check_size(len(text) + (text.count("\n") + 1) * size, "a text")


def _check_replace_filter(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if len(args) >= 3:
        count = args[3] if len(args) > 3 else kwargs.get("count", -1)
        check_replace(args[0], args[1], args[2], -1 if count is None else count)


def _check_join_filter(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    separator = args[1] if len(args) > 1 else kwargs.get("d", "")
    if args and isinstance(separator, str):
        _check_join(separator, args[0])


def _check_format_filter(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if args and isinstance(args[0], str):
        check_percent_format(args[0], tuple(args[1:]))


def _check_printed(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if args:
        check_printable(args[0])


def _check_sum(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    start = args[2] if len(args) > 2 else kwargs.get("start", 0)
    if not isinstance(start, int | float):
        raise ValueError("sum adds numbers: its start must be a number")


JINJA_PRECHECKS: dict[str, Precheck] = {
    "center": _number_argument("width"),
    "indent": _check_indent,
    "replace": _check_replace_filter,
    "join": _check_join_filter,
    "format": _check_format_filter,
    "batch": _number_argument("linecount"),
    "slice": _number_argument("slices"),
    "truncate": _number_argument("length"),
    "wordwrap": _number_argument("width"),
    "string": _check_printed,
    "pprint": _check_printed,
    "sum": _check_sum,
}
"""Jinja built-in filters whose arguments decide how much they build, with their checks."""


def guard_filter(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` checking the render's time before it runs and its result's size after; Jinja's
    amplifying built-ins (see :data:`JINJA_PRECHECKS`) also check their arguments first."""
    precheck = JINJA_PRECHECKS.get(name) if jinja_filters.FILTERS.get(name) is fn else None
    passed = 1 if getattr(fn, "jinja_pass_arg", None) is not None else 0

    def guarded(*args: Any, **kwargs: Any) -> Any:
        check_time()
        if precheck is not None:
            precheck(args[passed:], kwargs)
        return check_result(fn(*args, **kwargs))

    return functools.wraps(fn)(guarded)


def _check_repeat(sequence: Any, times: Any) -> None:
    if isinstance(sequence, str | bytes | list | tuple) and _is_int(times):
        check_size(len(sequence) * times, "a text" if isinstance(sequence, str) else "a list")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
