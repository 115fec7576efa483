"""The storage backend protocol, for plugins that add internal-storage backends (S3-like, ...).

Backends deal in keys (``namespace/path/flow/executions/...``), already checked to be safe by the
kernel; they must write atomically (no reader ever sees a half-written file) and stream.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO, Protocol, runtime_checkable


@runtime_checkable
class StorageBackend(Protocol):
    def put_stream(self, key: str, stream: BinaryIO) -> None: ...
    def put_path(self, key: str, path: Path, *, move: bool = False) -> None: ...
    def open(self, key: str) -> BinaryIO: ...
    def exists(self, key: str) -> bool: ...
    def size(self, key: str) -> int: ...
    def list(self, prefix: str) -> Iterator[str]: ...
    def delete(self, key: str) -> None: ...


StorageFactory = Callable[[Path, Mapping[str, Any]], StorageBackend]
"""Builds a backend from the plait home directory and the backend's options."""
