"""What expression filters and functions may ask of the running execution."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar, runtime_checkable

from plait_sdk.kv import KVStore

F = TypeVar("F", bound=Callable[..., Any])

NEEDS_CONTEXT_ATTR = "__plait_needs_context__"


def needs_context(fn: F) -> F:
    """Mark a filter or function that receives :class:`ExpressionServices` as first argument."""
    setattr(fn, NEEDS_CONTEXT_ATTR, True)
    return fn


@runtime_checkable
class ExpressionServices(Protocol):
    """Execution-bound services for context-aware filters and functions."""

    execution_id: str | None

    def read(self, uri: str) -> str:
        """Text of a file of the current execution; other executions' URIs are refused."""
        ...

    def file_size(self, uri: str) -> int:
        """Size in bytes of a file of the current execution, refused like :meth:`read`."""
        ...

    def error_logs(self) -> list[dict[str, Any]]:
        """The execution's ERROR log entries so far, oldest first (at most 25, as Kestra)."""
        ...

    def secret(self, name: str) -> str:
        """A secret's value; it is masked in logs and outputs from then on."""
        ...

    def render(self, template: str) -> Any:
        """Render a string holding expressions, with the same variables."""
        ...

    def variables(self) -> dict[str, Any]:
        """The variables the current expression is evaluated with."""
        ...

    def kv(self, namespace: str | None = None) -> KVStore:
        """The KV store of ``namespace`` (the flow's namespace by default)."""
        ...
