"""The KV store: small values kept per namespace across executions (Kestra's KV store).

Tasks reach it through :meth:`plait_sdk.RunContext.kv`, expression functions through
:meth:`plait_sdk.expressions.ExpressionServices.kv`; both give a :class:`KVStore` bound to one
namespace, the flow's own by default.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal, Protocol, get_args, runtime_checkable

KVType = Literal["STRING", "NUMBER", "BOOLEAN", "DATETIME", "DATE", "DURATION", "JSON"]
"""How a stored value is typed (Kestra's ``KVType``); dates and durations are ISO-8601 text."""
KV_TYPES: tuple[str, ...] = get_args(KVType)
"""The names of :data:`KVType`, for code that checks or offers them at run time."""


class KVMissing(KeyError):
    """No value is stored under the key (or it expired); the message says which."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "missing key"


@runtime_checkable
class KVStore(Protocol):
    """The KV store of one namespace."""

    namespace: str

    def get(self, key: str) -> Any:
        """The value stored under ``key``; raises :class:`KVMissing` when there is none or it
        expired."""
        ...

    def put(
        self,
        key: str,
        value: Any,
        *,
        ttl: timedelta | None = None,
        overwrite: bool = True,
        kv_type: str | None = None,
    ) -> None:
        """Store a JSON-friendly value; ``ttl`` makes it expire, ``overwrite=False`` refuses a
        key that holds a value, ``kv_type`` (one of :data:`KV_TYPES`) is inferred when None."""
        ...

    def delete(self, key: str) -> bool:
        """Remove ``key``; False when nothing was stored under it."""
        ...

    def keys(self, prefix: str | None = None) -> list[str]:
        """The keys holding a value that has not expired, sorted, optionally by prefix."""
        ...
