"""pytest fixtures for tests needing a real PostgreSQL (loaded through the ``pytest11`` entry
point, so any suite with plait-postgres installed has them).

- ``pg_cluster`` (session): one throwaway cluster for the whole run, in a temporary directory
  removed afterwards.
- ``pg_dsn``: a DSN to a fresh, empty database of that cluster, dropped after the test.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from plait_postgres.testing import Cluster, throwaway_cluster


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    # Not tmp_path_factory: pytest's directories are private to root, and the server may run as
    # user postgres.
    base_dir = Path(tempfile.mkdtemp(prefix="plait-pg-"))
    try:
        cluster = throwaway_cluster(base_dir)
        try:
            yield cluster
        finally:
            cluster.stop()
    finally:
        shutil.rmtree(base_dir, ignore_errors=True)


@pytest.fixture
def pg_dsn(pg_cluster: Cluster) -> Iterator[str]:
    name = f"test_{uuid.uuid4().hex[:16]}"
    dsn = pg_cluster.create_database(name)
    yield dsn
    if not pg_cluster.running:  # the test stopped the server: later tests need it
        pg_cluster.start()
    pg_cluster.drop_database(name)
