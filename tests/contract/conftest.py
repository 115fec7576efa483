"""The repository contract suite runs every test on each backend: the built-in SQLite store and
plait-postgres's store through the core's document adapter (a fresh database per test).

``open_repository()`` opens another repository object on the same backing database (its own
connection or pool), as another process would: concurrency tests race several of them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from plait.state.documents import DocumentRepository
from plait.state.repository import ExecutionRepository
from plait.state.sqlite import SqliteRepository
from plait_postgres.store import open_store

Opener = Callable[[], ExecutionRepository]


@pytest.fixture(params=["sqlite", "postgres"])
def open_repository(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    opened: list[ExecutionRepository] = []
    if request.param == "sqlite":

        def build() -> ExecutionRepository:
            return SqliteRepository(tmp_path / "plait.db")
    else:
        dsn = request.getfixturevalue("pg_dsn")

        def build() -> ExecutionRepository:
            return DocumentRepository(open_store({"dsn": dsn}))

    def open_one() -> ExecutionRepository:
        opened.append(build())
        return opened[-1]

    yield open_one
    for repository in opened:
        repository.close()


@pytest.fixture
def repository(open_repository: Opener) -> ExecutionRepository:
    return open_repository()
