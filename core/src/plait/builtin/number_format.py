"""Pebble's ``numberFormat`` filter: numbers written with a Java ``DecimalFormat`` pattern.

Patterns say how many digits to show with ``0`` (always shown) and ``#`` (shown when not
zero), where the decimal point and thousands separators go (``#,##0.00``), and may put text
around the number (``'$'#,##0.00``, ``0.0%``). Rounding is half-even on the number's exact
value, as Java does; separators are English ones, as in Kestra's default locale. Scientific
notation (``0.###E0``) is not supported.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from decimal import MAX_EMAX, MIN_EMIN, ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any

from plait.expressions.budget import check_size
from plait.expressions.javadate import read_quoted

_DIGITS = "0#,."
_MULTIPLIERS = {"%": 100, "\u2030": 1000}


@dataclass(frozen=True, slots=True)
class DecimalPattern:
    """A compiled ``DecimalFormat`` pattern."""

    prefix: str
    suffix: str
    negative_prefix: str
    negative_suffix: str
    min_integer: int
    grouping: int
    """Digits between thousands separators; 0 for none."""
    min_fraction: int
    max_fraction: int
    always_point: bool
    multiplier: int


def _affixes(part: str, pattern: str) -> tuple[str, str, str, int]:
    """Split a subpattern into its prefix, digit part and suffix (quotes removed), and find the
    ``%``/``‰`` multiplier."""
    prefix: list[str] = []
    digits: list[str] = []
    suffix: list[str] = []
    multiplier = 1
    pos = 0
    while pos < len(part):
        char = part[pos]
        if char == "'":
            text, pos = read_quoted(part, pos)
            (suffix if digits else prefix).append(text)
            continue
        if char in _DIGITS and not suffix:
            digits.append(char)
        else:
            if char == "E":
                raise ValueError(f"scientific notation is not supported in '{pattern}'")
            multiplier = _MULTIPLIERS.get(char, multiplier)
            (suffix if digits else prefix).append(char)
        pos += 1
    return "".join(prefix), "".join(digits), "".join(suffix), multiplier


@functools.lru_cache(maxsize=256)
def compile_decimal_pattern(pattern: str) -> DecimalPattern:
    """Read a ``DecimalFormat`` pattern; raises ValueError for one Java would refuse."""
    positive, _, negative = pattern.partition(";")
    prefix, digits, suffix, multiplier = _affixes(positive, pattern)
    if not digits or digits.count(".") > 1:
        raise ValueError(f"'{pattern}' is not a number format (such as '#,##0.00')")
    integer, point, fraction = digits.partition(".")
    if "," in fraction:
        raise ValueError(f"a thousands separator cannot follow the decimal point in '{pattern}'")
    integer_digits = integer.replace(",", "")
    grouping = len(integer) - integer.rfind(",") - 1 if "," in integer else 0
    if negative:
        negative_prefix, _, negative_suffix, _ = _affixes(negative, pattern)
    else:
        negative_prefix, negative_suffix = "-" + prefix, suffix
    return DecimalPattern(
        prefix=prefix,
        suffix=suffix,
        negative_prefix=negative_prefix,
        negative_suffix=negative_suffix,
        min_integer=integer_digits.count("0"),
        grouping=grouping,
        min_fraction=fraction.count("0"),
        max_fraction=len(fraction),
        always_point=bool(point) and not fraction,
        multiplier=multiplier,
    )


def format_decimal(value: Any, pattern: str) -> str:
    """``value`` written with the ``DecimalFormat`` ``pattern``."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError(f"numberFormat needs a number, not a {type(value).__name__}")
    spec = compile_decimal_pattern(pattern)
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("∞" if value > 0 else "-∞")
    rounded = _rounded(value, spec.multiplier, spec.max_fraction)
    negative = rounded < 0
    integer, _, fraction = f"{abs(rounded):f}".partition(".")
    check_size(len(integer) + spec.min_integer + len(fraction), "a text")
    fraction = fraction.rstrip("0").ljust(spec.min_fraction, "0")
    integer = integer.lstrip("0").rjust(spec.min_integer, "0")
    if not integer and not fraction:
        integer = "0"
    if spec.grouping:
        integer = _grouped(integer, spec.grouping)
    text = integer + ("." + fraction if fraction or spec.always_point else "")
    if negative:
        return spec.negative_prefix + text + spec.negative_suffix
    return spec.prefix + text + spec.suffix


def _rounded(value: int | float | Decimal, multiplier: int, places: int) -> Decimal:
    """``value * multiplier`` with at most ``places`` decimals, as Java's ``DecimalFormat``
    does: a float keeps its shortest digits (``3.14``, not its binary expansion) unless it
    must be rounded, and then half-even on its exact value decides ties (``0.125`` to
    ``0.12``, but ``0.135``, just above in binary, to ``0.14``)."""
    shortest = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    exact = Decimal(value)
    # enough precision for every digit of the value and of the pattern: no hidden rounding
    digits = len(exact.as_tuple().digits) + len(str(multiplier)) + places + 8
    with localcontext(prec=digits, Emax=MAX_EMAX, Emin=MIN_EMIN):
        step = Decimal(1).scaleb(-places)
        scaled = shortest * multiplier
        exponent = scaled.as_tuple().exponent
        if isinstance(exponent, int) and exponent >= -places:
            return scaled.quantize(step)
        return (exact * multiplier).quantize(step, ROUND_HALF_EVEN)


def _grouped(digits: str, size: int) -> str:
    head = len(digits) % size or size
    groups = [digits[:head]] + [digits[i : i + size] for i in range(head, len(digits), size)]
    return ",".join(group for group in groups if group)


def number_format(value: Any, format: str) -> str | None:
    """Write a number with a Java ``DecimalFormat`` pattern.

    ``0`` is a digit always shown, ``#`` one shown when not zero, ``,`` separates thousands
    and ``%`` multiplies by 100.

    Example: ``{{ 3.141592653 | numberFormat('#.##') }}`` gives ``3.14``, and
    ``{{ 1234567.891 | numberFormat('#,##0.00') }}`` gives ``1,234,567.89``
    """
    return None if value is None else format_decimal(value, format)


FILTERS = {"numberFormat": number_format}
