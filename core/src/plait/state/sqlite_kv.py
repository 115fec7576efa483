"""The KV store in the SQLite store: one row per namespace and key, the value as JSON with its
type and dates. Expiry is checked when read; expired rows of a namespace are dropped the next
time that namespace is written, so the table never grows with keys nobody reads."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from plait.state.kv import KVEntry, storable
from plait.state.model import format_datetime, parse_datetime, utcnow

_COLUMNS = "namespace, key, value, type, created, updated, expires"


def _entry(row: Sequence[Any]) -> KVEntry:
    namespace, key, value, kind, created, updated, expires = row
    return KVEntry(
        namespace,
        key,
        json.loads(value),
        kind,
        parse_datetime(created),
        parse_datetime(updated),
        None if expires is None else parse_datetime(expires),
    )


class KVStoreTable:
    """The KV half of :class:`~plait.state.sqlite.SqliteRepository`."""

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def _read(self, sql: str, params: Sequence[Any]) -> list[Any]:
        raise NotImplementedError

    def kv_get(self, namespace: str, key: str) -> KVEntry | None:
        rows = self._read(
            f"SELECT {_COLUMNS} FROM kv WHERE namespace = ? AND key = ?", (namespace, key)
        )
        return _entry(rows[0]) if rows else None

    def kv_put(
        self,
        namespace: str,
        key: str,
        value: Any,
        kv_type: str,
        *,
        expires: datetime | None = None,
        overwrite: bool = True,
    ) -> bool:
        text = storable(value)
        now = format_datetime(utcnow())
        with self._write() as conn:
            conn.execute(
                "DELETE FROM kv WHERE namespace = ? AND expires IS NOT NULL AND expires <= ?",
                (namespace, now),
            )
            if not overwrite:
                taken = conn.execute(
                    "SELECT 1 FROM kv WHERE namespace = ? AND key = ?", (namespace, key)
                ).fetchone()
                if taken:
                    return False
            conn.execute(
                f"INSERT INTO kv ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, "
                "type = excluded.type, updated = excluded.updated, expires = excluded.expires",
                (
                    namespace,
                    key,
                    text,
                    kv_type,
                    now,
                    now,
                    None if expires is None else format_datetime(expires),
                ),
            )
        return True

    def kv_delete(self, namespace: str, key: str) -> bool:
        with self._write() as conn:
            deleted = conn.execute(
                "DELETE FROM kv WHERE namespace = ? AND key = ?", (namespace, key)
            ).rowcount
        return deleted > 0

    def kv_list(self, namespace: str | None = None) -> list[KVEntry]:
        sql = f"SELECT {_COLUMNS} FROM kv WHERE (expires IS NULL OR expires > ?)"
        params: list[Any] = [format_datetime(utcnow())]
        if namespace is not None:
            sql += " AND namespace = ?"
            params.append(namespace)
        return [_entry(row) for row in self._read(sql + " ORDER BY namespace, key", params)]
