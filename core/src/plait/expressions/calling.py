"""How registered filters and functions are called from templates.

Plugins write plain Python callables; this module adapts them: undefined arguments fail with
the name that is missing, errors name the filter, and callables marked with
:func:`plait_sdk.expressions.needs_context` receive the services of the render in progress.
Those services travel in a context variable rather than in the template's variables, so no
template can reach the object itself.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from jinja2 import pass_context
from jinja2.exceptions import TemplateError
from jinja2.runtime import Context
from plait_sdk.expressions import NEEDS_CONTEXT_ATTR, ExpressionServices
from plait_sdk.kv import KVStore

from plait.errors import ExpressionError
from plait.expressions.errors import CallFailed
from plait.expressions.sandbox import PebbleUndefined

F = TypeVar("F", bound=Callable[..., Any])

ACCEPTS_UNDEFINED_ATTR = "__plait_accepts_undefined__"
MAX_RENDER_DEPTH = 20
"""Nested ``render()`` calls allowed: a template that renders itself must stop with a clear
error well before Python's recursion limit."""

Renderer = Callable[[Any, "RenderServices"], Any]


def accepts_undefined(fn: F) -> F:
    """Mark a filter that receives None for a missing value instead of failing (``default``)."""
    setattr(fn, ACCEPTS_UNDEFINED_ATTR, True)
    return fn


class RenderServices:
    """The :class:`ExpressionServices` a filter sees: the executor's, when an execution runs,
    plus ``render`` and ``variables``, which only need the render in progress."""

    def __init__(
        self,
        renderer: Renderer,
        variables: Mapping[str, Any],
        outer: ExpressionServices | None,
        depth: int = 0,
    ) -> None:
        self._renderer = renderer
        self._variables = variables
        self._outer = outer
        self._depth = depth
        self.execution_id = outer.execution_id if outer is not None else None

    def read(self, uri: str) -> str:
        return self._running("read").read(uri)

    def file_size(self, uri: str) -> int:
        return self._running("fileSize").file_size(uri)

    def error_logs(self) -> list[dict[str, Any]]:
        return self._running("errorLogs").error_logs()

    def secret(self, name: str) -> str:
        return self._running("secret").secret(name)

    def render(self, template: str) -> Any:
        if self._depth >= MAX_RENDER_DEPTH:
            raise ExpressionError(f"render() nested more than {MAX_RENDER_DEPTH} times")
        nested = RenderServices(self._renderer, self._variables, self._outer, self._depth + 1)
        return self._renderer(template, nested)

    def variables(self) -> dict[str, Any]:
        return dict(self._variables)

    def kv(self, namespace: str | None = None) -> KVStore:
        return self._running("kv").kv(namespace)

    def _running(self, function: str) -> ExpressionServices:
        if self._outer is None:
            raise ExpressionError(f"{function}() is only available while an execution runs")
        return self._outer


_current: ContextVar[RenderServices | None] = ContextVar("plait_render_services", default=None)


@contextmanager
def rendering_with(services: RenderServices) -> Iterator[None]:
    """Make ``services`` the ones context-aware filters receive while the block runs."""
    token = _current.set(services)
    try:
        yield
    finally:
        _current.reset(token)


def adapt(kind: str, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a registered filter (``kind="filter"``) or function for calls from templates.

    The wrapper asks Jinja for the render context, which is also what keeps Jinja from
    calling it once at compile time on constant arguments: a plugin's filter may not be pure,
    and compiled templates are cached.
    """
    lenient = getattr(fn, ACCEPTS_UNDEFINED_ATTR, False)
    with_services = getattr(fn, NEEDS_CONTEXT_ATTR, False)

    @pass_context
    def call(_context: Context, *args: Any, **kwargs: Any) -> Any:
        args = tuple(_defined(value, lenient) for value in args)
        kwargs = {key: _defined(value, lenient) for key, value in kwargs.items()}
        if with_services:
            args = (_services(name), *args)
        try:
            return fn(*args, **kwargs)
        except (ExpressionError, TemplateError):
            raise
        except Exception as error:
            raise CallFailed(kind, name, error) from error

    return functools.wraps(fn)(call)


def _services(name: str) -> RenderServices:
    services = _current.get()
    if services is None:
        raise ExpressionError(f"{name}() is only available while an expression renders")
    return services


def _defined(value: Any, lenient: bool) -> Any:
    if isinstance(value, PebbleUndefined):
        if lenient and not value.is_unsafe:
            return None
        value._fail_with_undefined_error()
    return value
