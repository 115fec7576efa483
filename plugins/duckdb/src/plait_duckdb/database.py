"""Which database a query runs on, from Kestra's ``url`` and ``databaseUri`` properties."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from plait_sdk import RunContext, TaskFailure
from plait_sdk.files import Workspace

JDBC_PREFIX = "jdbc:duckdb:"
IN_MEMORY = ":memory:"
REMOTE_PREFIXES = ("md:", "motherduck:")


def url_target(url: str) -> str:
    """What a URL names after its optional ``jdbc:duckdb:`` prefix; empty for a fresh database."""
    target = url[len(JDBC_PREFIX) :] if url.lower().startswith(JDBC_PREFIX) else url
    return "" if target.strip() in ("", IN_MEMORY) else target


def is_remote(target: str) -> bool:
    return target.lower().startswith(REMOTE_PREFIXES)


@dataclass(frozen=True)
class Database:
    connect_to: str
    """What ``duckdb.connect`` receives; may hold a token, so it is never logged."""
    file: Path | None
    """The local database file, if any."""
    temporary: bool
    """The file belongs to this task run alone (storage may take it over)."""

    def describe(self) -> str:
        if self.file is None:
            return "a remote database" if is_remote(self.connect_to) else "a new in-memory database"
        return "a new database file" if self.temporary else f"the database file {self.file}"

    @classmethod
    def resolve(
        cls,
        url: str,
        database_uri: str | None,
        want_file: bool,
        workspace: Workspace,
        ctx: RunContext,
        *,
        confined: bool = False,
    ) -> Database:
        """The database for this run; relative paths are taken in the working directory.

        ``databaseUri`` is downloaded first; without a URL, the database is new for each run:
        in memory, or a file in the working directory when its file is wanted as an output.
        ``confined`` (``fileAccess: WORKING_DIRECTORY``) refuses a file outside the working
        directory: DuckDB opens the database before its confinement starts, so it is checked
        here. (MotherDuck is refused when the properties are validated.)
        """
        target = url_target(url)
        if database_uri:
            file = cls._private_file(workspace)
            ctx.storage.download(database_uri, file)
            return cls(str(file), file, temporary=True)
        if not target:
            if want_file:
                file = cls._private_file(workspace)
                return cls(str(file), file, temporary=True)
            return cls(IN_MEMORY, None, temporary=False)
        if is_remote(target):
            return cls(target, None, temporary=False)
        file = workspace.root / target
        if confined and not _inside(file, workspace.root):
            raise TaskFailure(
                f"`url` names the database file {file}, outside the working directory, and "
                "`fileAccess` is WORKING_DIRECTORY: DuckDB may use only files inside the "
                "working directory (give the database with `databaseUri` or `inputFiles`)"
            )
        file.parent.mkdir(parents=True, exist_ok=True)
        return cls(str(file), file, temporary=False)

    @staticmethod
    def _private_file(workspace: Workspace) -> Path:
        # Unique, so that no flow file meets it, and kept as its name in the internal storage.
        return workspace.root / f"database-{uuid.uuid4().hex[:12]}.duckdb"


def _inside(file: Path, root: Path) -> bool:
    """``file`` is in ``root`` or below, once ``..`` and symbolic links are resolved."""
    return root.resolve() in file.resolve().parents
