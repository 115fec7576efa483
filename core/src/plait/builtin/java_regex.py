"""Java regular expressions, which Kestra's regex filters and ``replace(..., regexp=true)`` take,
run with the :mod:`regex` module.

A pattern can backtrack for ever in C (``(a|aa)+$``), where the render budget's checks cannot
reach; :mod:`regex` stops a match at a timeout, which is what the render has left.

The two dialects share almost all their syntax; this module translates what differs in the
patterns flows actually use: named groups (``(?<name>...)``, ``\\k<name>``), quoted sections
(``\\Q...\\E``), and replacement strings, which write group references as ``$1`` and ``${name}``
and escape ``$`` and ``\\`` with a backslash. What Python cannot run (``\\p{Alpha}`` classes)
fails with a message that names it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from plait.expressions import budget
from plait.expressions.budget import check_size
from plait.expressions.guards import check_replace

if TYPE_CHECKING:
    import regex  # imported by the first pattern compiled: most runs use none

_NAMED_GROUP = re.compile(r"\(\?<([A-Za-z][A-Za-z0-9]*)>")
_BACKREFERENCE = re.compile(r"\\k<([A-Za-z][A-Za-z0-9]*)>")
_QUOTED = re.compile(r"\\Q(.*?)(?:\\E|$)", re.DOTALL)
_UNSUPPORTED = re.compile(r"\\[pP]\{")
_REPLACEMENT_PART = re.compile(r"\\(.)|\$(\d+)|\$\{([A-Za-z][A-Za-z0-9]*)\}|(\$)", re.DOTALL)


@functools.lru_cache(maxsize=256)
def compile_java(pattern: str) -> regex.Pattern[str]:
    """A Python pattern that matches what the Java ``pattern`` matches."""
    if _UNSUPPORTED.search(pattern):
        raise ValueError(
            f"the regular expression '{pattern}' uses a \\p{{...}} character class, which is not "
            "supported; write the characters out (e.g. [A-Za-z] for \\p{Alpha})"
        )
    python = _QUOTED.sub(lambda match: re.escape(match.group(1)), pattern)
    python = _NAMED_GROUP.sub(r"(?P<\1>", python)
    python = _BACKREFERENCE.sub(r"(?P=\1)", python)
    import regex

    try:
        return regex.compile(python)
    except regex.error as error:
        raise ValueError(f"invalid regular expression '{pattern}': {error}") from None


def java_search(pattern: str, text: str) -> regex.Match[str] | None:
    """The first match of the Java ``pattern`` in ``text``, within the render's time."""
    try:
        return compile_java(pattern).search(text, timeout=_seconds_left())
    except TimeoutError:
        raise budget.out_of_time() from None


def _seconds_left() -> float:
    return max(budget.seconds_left(), 0.001)  # a timeout of 0 would mean none


@dataclass(frozen=True, slots=True)
class _Group:
    """A group reference in a replacement: its number or its name."""

    key: int | str


@functools.lru_cache(maxsize=256)
def _replacement_parts(replacement: str) -> tuple[str | _Group, ...]:
    """A Java replacement string as literal texts and group references."""
    parts: list[str | _Group] = []
    pos = 0
    for match in _REPLACEMENT_PART.finditer(replacement):
        parts.append(replacement[pos : match.start()])
        escaped, number, name, lone = match.groups()
        if lone is not None:
            raise ValueError(f"illegal group reference in the replacement '{replacement}'")
        parts.append(escaped if escaped is not None else _Group(int(number) if number else name))
        pos = match.end()
    parts.append(replacement[pos:])
    return tuple(part for part in parts if part != "")


def java_sub(pattern: str, replacement: str, text: str) -> str:
    """Java's ``String.replaceAll``: every match of ``pattern`` in ``text`` replaced, ``$1`` and
    ``${name}`` in ``replacement`` standing for groups. Fails before the result grows past the
    render's size limit."""
    compiled = compile_java(pattern)
    parts = _replacement_parts(replacement)
    size = len(text)

    def substitute(match: regex.Match[str]) -> str:
        nonlocal size
        replaced = "".join(
            part if isinstance(part, str) else _group(match, part.key) for part in parts
        )
        size += len(replaced) - (match.end() - match.start())
        check_size(size, "a text")
        return replaced

    try:
        return compiled.sub(substitute, text, timeout=_seconds_left())
    except TimeoutError:
        raise budget.out_of_time() from None


def _group(match: regex.Match[str], key: int | str) -> str:
    try:
        return match.group(key) or ""
    except IndexError:
        raise ValueError(f"no group {key} in the regular expression") from None


def sized_replace(text: str, old: str, new: str, count: int = -1) -> str:
    """``text.replace(old, new, count)``, failing first when the result would be over the
    render's size limit (a short text whose every character is replaced by a long one)."""
    check_replace(text, old, new, count)
    return text.replace(old, new, count)
