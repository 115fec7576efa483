"""Versioned schema migrations, applied when a process opens the database.

Each component of the schema (``state``: executions and the rest; ``queue``: the work queue)
has its own list of migrations and its own version in ``plait_schema``, so that each part of
the plugin evolves on its own. Several servers and workers start at once: migrating runs under a
transaction-scoped advisory lock, so one process migrates while the others wait and then find
nothing left to do. A database migrated by a newer plait-postgres is refused, not damaged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import psycopg
from plait_sdk.errors import StateError

from plait_postgres import queue_schema, schema
from plait_postgres.connection import Database

Migrations = Sequence[str]
"""SQL scripts (several statements each allowed); script N brings its component from version
N - 1 to N. Only ever append: a shipped script may already have run somewhere."""

COMPONENTS: dict[str, Migrations] = {"state": schema.MIGRATIONS, "queue": queue_schema.MIGRATIONS}

LOCK_KEY = 0x706C616974  # "plait": the advisory lock serializing migrations
"""The ``pg_advisory_xact_lock`` key held while migrating."""


def migrate(db: Database, components: Mapping[str, Migrations] = COMPONENTS) -> None:
    """Bring every component to its latest version, in one transaction."""
    db.run(lambda conn: _apply(conn, components))


def _apply(conn: psycopg.Connection, components: Mapping[str, Migrations]) -> None:
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
    conn.execute(
        "CREATE TABLE IF NOT EXISTS plait_schema "
        "(component text PRIMARY KEY, version integer NOT NULL)"
    )
    versions = dict(conn.execute("SELECT component, version FROM plait_schema").fetchall())
    for component, migrations in components.items():
        current = versions.get(component, 0)
        if current > len(migrations):
            raise StateError(
                f"the {component} schema of the PostgreSQL database is at version {current}, "
                f"newer than this plait-postgres knows ({len(migrations)}): it was migrated by "
                "a newer release; upgrade plait-postgres"
            )
        if current == len(migrations):
            continue
        for script in migrations[current:]:
            conn.execute(script)
        conn.execute(
            "INSERT INTO plait_schema (component, version) VALUES (%s, %s) "
            "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
            (component, len(migrations)),
        )
