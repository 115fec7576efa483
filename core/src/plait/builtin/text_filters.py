"""Kestra's text filters: indentation, substrings, prefixes, escaping, URL decoding, regular
expressions and Pebble's ``replace``.

``indent`` and ``replace`` replace Jinja's filters of the same name, whose arguments differ
(Jinja's ``indent(width, first, blank)``); ``replace`` still accepts Jinja's
``replace(old, new)`` form. Like every built-in filter, each docstring's first line and example
are the reference documentation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote_plus

from plait.builtin.java_regex import java_search, java_sub, sized_replace
from plait.expressions.budget import check_size
from plait.expressions.text import to_text

_LINE_BREAKS = ("\r\n", "\n\r", "\n", "\r")


# --- indentation ----------------------------------------------------------------------------


def indent(value: Any, amount: int, prefix: str = " ") -> str | None:
    """Indent every line but the first by ``amount`` times ``prefix`` (a space by default).

    For a block pasted after text already indented, such as YAML in a template. Blank lines
    are indented too; the line break kept is the text's own (``\\r\\n``, ``\\n`` or ``\\r``).
    Example: ``{{ outputs.config.yaml | indent(4) }}``
    """
    return _indented(value, amount, prefix, leading=False)


def nindent(value: Any, amount: int, prefix: str = " ") -> str | None:
    """Start a new line, then indent every line by ``amount`` times ``prefix``.

    Example: ``{{ {'a': 1} | yaml | nindent(4) }}``
    """
    return _indented(value, amount, prefix, leading=True)


def _indented(value: Any, amount: int, prefix: str, *, leading: bool) -> str | None:
    if value is None:
        return None
    text = to_text(value)
    if not text:
        return text
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise ValueError(f"the amount must be a whole number of 0 or more, not {amount!r}")
    if not isinstance(prefix, str):
        raise ValueError(f"the prefix must be text, not {type(prefix).__name__}")
    newline = next((brk for brk in _LINE_BREAKS if brk in text), "\n")
    if leading:
        text = newline + text
    breaks = text.count(newline)
    check_size(len(text) + breaks * amount * len(prefix), "a text")
    return text.replace(newline, newline + prefix * amount)


# --- substrings and prefixes ----------------------------------------------------------------


def substring_before(value: Any, separator: str) -> str | None:
    """The text before the first occurrence of ``separator`` (all of it when absent).

    Example: ``{{ 'a.b.c' | substringBefore('.') }}`` gives ``a``
    """
    if value is None:
        return None
    text = to_text(value)
    found = text.find(separator)
    return text if found < 0 else text[:found]


def substring_after(value: Any, separator: str) -> str | None:
    """The text after the first occurrence of ``separator`` (empty when absent).

    Example: ``{{ 'a.b.c' | substringAfter('.') }}`` gives ``b.c``
    """
    if value is None:
        return None
    text = to_text(value)
    found = text.find(separator)
    return "" if found < 0 else text[found + len(separator) :]


def substring_before_last(value: Any, separator: str) -> str | None:
    """The text before the last occurrence of ``separator`` (all of it when absent).

    Example: ``{{ 'a.b.c' | substringBeforeLast('.') }}`` gives ``a.b``
    """
    if value is None:
        return None
    text = to_text(value)
    found = text.rfind(separator) if separator else -1
    return text if found < 0 else text[:found]


def substring_after_last(value: Any, separator: str) -> str | None:
    """The text after the last occurrence of ``separator`` (empty when absent).

    Example: ``{{ 'a.b.c' | substringAfterLast('.') }}`` gives ``c``
    """
    if value is None:
        return None
    text = to_text(value)
    found = text.rfind(separator) if separator else -1
    return "" if found < 0 else text[found + len(separator) :]


def starts_with(text: Any, value: str) -> bool:
    """Whether the text starts with ``value``.

    Example: ``{{ 'Hello World' | startsWith('Hello') }}`` gives ``true``
    """
    return text is not None and to_text(text).startswith(to_text(value))


def ends_with(text: Any, value: str) -> bool:
    """Whether the text ends with ``value``.

    Example: ``{{ 'Hello World' | endsWith('World') }}`` gives ``true``
    """
    return text is not None and to_text(text).endswith(to_text(value))


# --- escaping -------------------------------------------------------------------------------

_ESCAPES = {"single": ("'", "\\'"), "double": ('"', '\\"'), "shell": ("'", "'\\''")}


def escape_char(value: Any, type: str) -> Any:
    """Escape the quotes of a text (or of every text in a list or map) to paste it in quotes.

    ``type`` is ``single`` (``'`` becomes ``\\'``), ``double`` (``"`` becomes ``\\"``) or
    ``shell`` (``'`` becomes ``'\\''``, for a single-quoted shell word).

    Example: ``{{ "L'eau" | escapeChar('single') }}`` gives ``L\\'eau``
    """
    escape = _ESCAPES.get(str(type).lower()) if isinstance(type, str) else None
    if escape is None:
        raise ValueError(f"the type must be 'single', 'double' or 'shell', not {type!r}")
    original, replacement = escape
    return _each_text(value, lambda text: sized_replace(text, original, replacement))


def _each_text(value: Any, change: Callable[[str], str]) -> Any:
    """``change`` applied to a text, or to every value of a list or map (keys are kept); other
    values are turned into text first, as Kestra does."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return {key: _each_text(item, change) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_each_text(item, change) for item in value]
    return change(to_text(value))


def urldecode(value: Any) -> str | None:
    """Decode URL-encoded text: ``%XX`` sequences (UTF-8) and ``+`` for a space.

    Example: ``{{ 'The+string+%C3%BC%40foo-bar' | urldecode }}`` gives ``The string ü@foo-bar``
    """
    return None if value is None else unquote_plus(to_text(value))


# --- replacing and regular expressions ------------------------------------------------------


def replace(
    value: Any,
    replace_pairs: Any,
    new: str | None = None,
    count: int | None = None,
    regexp: bool = False,
) -> Any:
    """Replace each key of the map ``replace_pairs`` by its value, in a text (or list or map).

    Every text of a list or map is changed. With ``regexp=true`` the keys are Java regular
    expressions and ``$1`` in a value stands for a group. Jinja's form,
    ``replace(old, new[, count])``, works too.

    Example: ``{{ 'john doe is john doe' | replace({'john': 'jane'}) }}`` gives
    ``jane doe is jane doe``, and ``{{ 'aa1bb2' | replace({'(\\\\d)': '-$1-'}, regexp=true) }}``
    gives ``aa-1-bb-2-``
    """
    if value is None:
        return None
    if not isinstance(replace_pairs, Mapping):
        if new is None:
            raise ValueError("replace needs a map of replacements, or the text and its replacement")
        old, times = to_text(replace_pairs), -1 if count is None else count
        return sized_replace(to_text(value), old, to_text(new), times)
    pairs = [(to_text(key), to_text(item)) for key, item in replace_pairs.items()]

    def change(text: str) -> str:
        for old, replacement in pairs:
            if regexp:
                text = java_sub(old, replacement, text)
            else:
                text = sized_replace(text, old, replacement)
        return text

    return _each_text(value, change)


def regex_match(value: Any, regex: str) -> bool:
    """Whether a Java regular expression matches somewhere in the text (false for null).

    Example: ``{{ 'order-12345-done' | regexMatch('\\\\d+') }}`` gives ``true``
    """
    return value is not None and java_search(regex, to_text(value)) is not None


def regex_replace(value: Any, regex: str, replacement: str) -> str | None:
    """Replace every match of a Java regular expression.

    ``$1`` or ``${name}`` in the replacement stands for a group.

    Example: ``{{ 'aa1bb2' | regexReplace('(\\\\d)', '[$1]') }}`` gives ``aa[1]bb[2]``
    """
    return None if value is None else java_sub(regex, to_text(replacement), to_text(value))


def regex_extract(value: Any, regex: str, group: int = 0) -> str | None:
    """The first match of a Java regular expression, or its ``group``-th group.

    Null when the text does not match.

    Example: ``{{ 'order-12345-done' | regexExtract('order-(\\\\d+)', group=1) }}`` gives ``12345``
    """
    if value is None:
        return None
    found = java_search(regex, to_text(value))
    if found is None:
        return None
    try:
        return found.group(group)
    except IndexError:
        raise ValueError(f"the regular expression has no group {group}") from None


FILTERS: dict[str, Callable[..., Any]] = {
    "indent": indent,
    "nindent": nindent,
    "substringBefore": substring_before,
    "substringAfter": substring_after,
    "substringBeforeLast": substring_before_last,
    "substringAfterLast": substring_after_last,
    "startsWith": starts_with,
    "endsWith": ends_with,
    "escapeChar": escape_char,
    "urldecode": urldecode,
    "replace": replace,
    "regexMatch": regex_match,
    "regexReplace": regex_replace,
    "regexExtract": regex_extract,
}
