"""The throwaway cluster and its fixtures: what every PostgreSQL test stands on."""

from __future__ import annotations

import psycopg
import pytest
from plait_postgres.testing import Cluster


def test_fresh_database_per_test_is_empty_and_writable(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
        conn.execute("CREATE TABLE marker (x int)")
    assert tables == (0,)


def test_restart_breaks_open_connections_and_serves_again(pg_cluster: Cluster, pg_dsn: str) -> None:
    conn = psycopg.connect(pg_dsn, autocommit=True)
    pg_cluster.restart()
    with pytest.raises(psycopg.OperationalError):
        conn.execute("SELECT 1")
    with psycopg.connect(pg_dsn) as again:
        assert again.execute("SELECT 1").fetchone() == (1,)
