"""The Jinja environment expressions run in: sandboxed, strict about undefined names, and
resolving ``a.b`` the way Pebble does.

Templates come from flow files, so they must neither reach Python internals
(``''.__class__.__mro__``), nor mutate the outputs they read (``outputs.api.clear()``), nor
exhaust memory or time: every call, operator and loop spends the render's budget (see
:mod:`plait.expressions.budget` and :mod:`plait.expressions.guards`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from jinja2 import nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.runtime import ChainableUndefined, Context, StrictUndefined, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from plait.expressions import budget
from plait.expressions.guards import check_binop, check_call, check_str_format
from plait.expressions.operators import DIALECT_GLOBALS, DIALECT_TESTS
from plait.expressions.pebble import HAS_VALUE_TEST, ITERATE_FILTER, TEXT_FILTER, PebbleParser
from plait.expressions.text import to_text

WITHDRAWN = {
    "filters": frozenset({"e", "escape", "forceescape", "safe", "tojson", "urlize", "xmlattr"}),
    "tests": frozenset({"escaped"}),
    "globals": frozenset({"cycler", "joiner", "lipsum", "namespace"}),
}
"""Jinja built-ins expressions do without: HTML helpers have no use in a flow (and ``tojson``,
HTML-escaping, would be mistaken for ``toJson``), and the template-layout helpers add nothing
to ``loop`` and ``set`` but surface to secure and document."""


class MissingValue(UndefinedError):
    """A name or key an expression used does not exist; ``name`` is the first one missing."""

    def __init__(self, name: object, reason: str | None = None) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"`{name}` is undefined")


class PebbleUndefined(ChainableUndefined):
    """What a missing name evaluates to.

    It chains (``outputs.nope.body`` stays undefined and remembers ``nope``), so that ``??``,
    ``default`` and ``is defined`` can test it, and fails as soon as it is used otherwise
    (printed, compared, iterated, passed to a filter), as Pebble does in strict mode.
    """

    __slots__ = ()

    @property
    def is_unsafe(self) -> bool:
        """Stands for a refused attribute rather than a missing one."""
        return self._undefined_exception is SecurityError

    def _fail_with_undefined_error(self, *args: Any, **kwargs: Any) -> NoReturn:
        if self.is_unsafe or self._undefined_name is None:
            raise self._undefined_exception(self._undefined_message)
        # A mapping may say why a key is missing (the outputs of a branch that did not run).
        explain = getattr(self._undefined_obj, "explain_missing", None)
        reason = explain(self._undefined_name) if callable(explain) else None
        raise MissingValue(self._undefined_name, reason)


# Undefined and StrictUndefined bind their failing operators to the base class's method; bind
# them to the override above, except the two that ChainableUndefined makes chain.
for _cls in (Undefined, StrictUndefined):
    for _name, _value in list(vars(_cls).items()):
        if _value is Undefined._fail_with_undefined_error and _name not in vars(ChainableUndefined):
            setattr(PebbleUndefined, _name, PebbleUndefined._fail_with_undefined_error)


def _print(value: Any) -> str:
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    budget.check_time()
    return to_text(value)


def _has_value(value: Any) -> bool:
    return value is not None and not isinstance(value, Undefined)


def _null_test(value: Any) -> bool:
    """Whether the value is null (Pebble's ``is null``)."""
    return value is None


def _empty_test(value: Any) -> bool:
    """Whether the value is null, blank text or an empty list or map (Pebble's ``is empty``)."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    try:
        return len(value) == 0
    except TypeError:
        return False


class PebbleEnvironment(ImmutableSandboxedEnvironment):
    """A sandbox that reads Pebble: see :mod:`plait.expressions.pebble` for the grammar."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self) -> None:
        super().__init__(
            autoescape=False,
            keep_trailing_newline=True,
            undefined=PebbleUndefined,
            finalize=_print,
        )
        for kind, names in WITHDRAWN.items():
            table = getattr(self, kind)
            for name in names:
                del table[name]
        self.filters[TEXT_FILTER] = _print
        self.filters[ITERATE_FILTER] = budget.checked_iter
        self.concat = budget.bounded_join  # type: ignore[method-assign]
        self.tests[HAS_VALUE_TEST] = _has_value
        self.tests["null"] = _null_test
        self.tests["empty"] = _empty_test
        self.tests.update(DIALECT_TESTS)
        self.globals.update(DIALECT_GLOBALS)

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        # Jinja's only hook for a parser subclass; the parser's methods themselves are public.
        return PebbleParser(self, source, name, filename).parse()

    def getattr(self, obj: Any, attribute: str) -> Any:
        """``a.b`` reads key ``b`` of a map first (Pebble); names starting with ``_`` are
        private members and never reachable."""
        if isinstance(obj, Undefined):
            return obj  # keep reporting the first name that was missing or refused
        if attribute.startswith("_"):
            return self.unsafe_undefined(obj, attribute)
        if isinstance(obj, Mapping):
            try:
                return obj[attribute]
            except (KeyError, TypeError):
                pass
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        """``a[missing]`` is as undefined as ``missing``, so ``??`` and ``is defined`` can test
        it (Pebble); any other use still fails naming ``missing``."""
        if isinstance(argument, Undefined):
            return argument
        return super().getitem(obj, argument)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        return self.undefined(
            f"access to attribute `{attribute}` of a {type(obj).__name__} is not allowed",
            obj=obj,
            name=attribute,
            exc=SecurityError,
        )

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        check_binop(operator, left, right)
        return budget.check_result(super().call_binop(context, operator, left, right))

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        """Every call spends time; methods that pad, repeat or replace are checked first."""
        budget.check_time()
        check_call(__obj, args, kwargs)
        return budget.check_result(super().call(__context, __obj, *args, **kwargs))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """``str.format`` as Jinja's sandbox runs it, with widths and values checked first."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        template = value.__self__
        is_map = value.__name__ == "format_map"

        def checked(*args: Any, **kwargs: Any) -> str:
            named = args[0] if is_map and args and isinstance(args[0], Mapping) else kwargs
            check_str_format(template, () if is_map else args, named)
            return budget.check_result(wrapped(*args, **kwargs), "a text")

        return checked
