"""Built-in plugin: the local-filesystem storage backend and the SQLite execution repository.

Registered through the same hooks an S3 or server-database plugin would use, so the kernel has no
special path for its own defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from plait_sdk import hookimpl
from plait_sdk.repository import RepositoryFactory
from plait_sdk.storage import StorageFactory

from plait.state.sqlite import SqliteRepository
from plait.storage.local import LocalStorage

STORAGE_FOLDER = "storage"
DATABASE_FILE = "plait.db"


def local_storage(home: Path, options: Mapping[str, Any]) -> LocalStorage:
    """``<home>/storage``, or the folder given by the ``root`` option."""
    return LocalStorage(Path(options.get("root") or home / STORAGE_FOLDER))


def sqlite_repository(home: Path, options: Mapping[str, Any]) -> SqliteRepository:
    """``<home>/plait.db``, or the file given by the ``path`` option."""
    return SqliteRepository(Path(options.get("path") or home / DATABASE_FILE))


@hookimpl
def register_storage_backends() -> Mapping[str, StorageFactory]:
    return {"local": local_storage}


@hookimpl
def register_repositories() -> Mapping[str, RepositoryFactory]:
    return {"sqlite": sqlite_repository}
