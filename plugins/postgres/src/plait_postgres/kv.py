"""KV entries and cached task outputs of :class:`plait_postgres.store.PostgresStore`.

Expiry is compared with the database's clock (``now()``): every machine then agrees on what has
expired. ``overwrite=False`` is an ``INSERT ... ON CONFLICT DO NOTHING``, so of two processes
racing for a free key exactly one gets it.
"""

from __future__ import annotations

from typing import Any

import psycopg
from plait_sdk.state import Document
from psycopg.types.json import Json

from plait_postgres.connection import Database
from plait_postgres.rows import kv_document

_COLUMNS = "namespace, key, value, type, created, updated, expires"
_TASK = "namespace = %s AND flow_id = %s AND task_id = %s"


class KVAndCache:
    db: Database

    def kv_get(self, namespace: str, key: str) -> Document | None:
        row = self.db.run(
            lambda conn: conn.execute(
                f"SELECT {_COLUMNS} FROM kv WHERE namespace = %s AND key = %s", (namespace, key)
            ).fetchone()
        )
        return None if row is None else kv_document(row)

    def kv_put(
        self,
        namespace: str,
        key: str,
        value: Any,
        kv_type: str,
        *,
        expires: str | None = None,
        overwrite: bool = True,
    ) -> bool:
        on_conflict = (
            "DO UPDATE SET value = excluded.value, type = excluded.type, "
            "updated = excluded.updated, expires = excluded.expires"
            if overwrite
            else "DO NOTHING"
        )

        def work(conn: psycopg.Connection) -> bool:
            conn.execute("DELETE FROM kv WHERE namespace = %s AND expires <= now()", (namespace,))
            stored = conn.execute(
                f"INSERT INTO kv ({_COLUMNS}) VALUES (%s, %s, %s, %s, now(), now(), %s) "
                f"ON CONFLICT (namespace, key) {on_conflict}",
                (namespace, key, Json(value), kv_type, expires),
            ).rowcount
            return bool(stored)

        return self.db.run(work)

    def kv_delete(self, namespace: str, key: str) -> bool:
        deleted = self.db.run(
            lambda conn: (
                conn.execute(
                    "DELETE FROM kv WHERE namespace = %s AND key = %s", (namespace, key)
                ).rowcount
            )
        )
        return bool(deleted)

    def kv_list(self, namespace: str | None = None) -> list[Document]:
        where, params = ("AND namespace = %s", [namespace]) if namespace is not None else ("", [])
        rows = self.db.run(
            lambda conn: conn.execute(
                f"SELECT {_COLUMNS} FROM kv WHERE (expires IS NULL OR expires > now()) {where} "
                "ORDER BY namespace, key",
                params,
            ).fetchall()
        )
        return [kv_document(row) for row in rows]

    # -- task cache ----------------------------------------------------------------------------

    def cached_outputs(
        self, namespace: str, flow_id: str, task_id: str, key: str, *, since: str | None
    ) -> tuple[Document, str] | None:
        row = self.db.run(
            lambda conn: conn.execute(
                f"SELECT outputs, execution_id FROM task_cache WHERE {_TASK} AND key = %s "
                "AND (%s::timestamptz IS NULL OR created > %s::timestamptz)",
                (namespace, flow_id, task_id, key, since, since),
            ).fetchone()
        )
        return None if row is None else (row[0], row[1])

    def cache_outputs(
        self,
        namespace: str,
        flow_id: str,
        task_id: str,
        key: str,
        outputs: Document,
        execution_id: str,
        *,
        since: str | None,
    ) -> None:
        task = (namespace, flow_id, task_id)

        def work(conn: psycopg.Connection) -> None:
            if since is not None:
                conn.execute(
                    f"DELETE FROM task_cache WHERE {_TASK} AND created <= %s", (*task, since)
                )
            conn.execute(
                "INSERT INTO task_cache (namespace, flow_id, task_id, key, outputs, execution_id,"
                " created) VALUES (%s, %s, %s, %s, %s, %s, clock_timestamp()) "
                "ON CONFLICT (namespace, flow_id, task_id, key) DO UPDATE SET "
                "outputs = excluded.outputs, execution_id = excluded.execution_id, "
                "created = excluded.created",
                (*task, key, Json(outputs), execution_id),
            )

        self.db.run(work)
