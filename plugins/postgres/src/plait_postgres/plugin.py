"""Entry point module of plait-postgres: registers the ``postgres`` repository."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from plait_sdk import SDK_MAJOR, hookimpl
from plait_sdk.repository import RepositoryFactory

PLAIT_SDK_MAJOR = SDK_MAJOR


def postgres_repository(home: Path, options: Mapping[str, Any]) -> Any:
    """The state store on the database named by ``options["dsn"]`` or ``$PLAIT_POSTGRES_DSN``;
    imported lazily so that loading the plugin costs nothing when SQLite is used."""
    from plait_postgres.store import open_store

    return open_store(options)


@hookimpl
def register_repositories() -> Mapping[str, RepositoryFactory]:
    return {"postgres": postgres_repository}
