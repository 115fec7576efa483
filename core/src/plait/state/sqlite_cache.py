"""Task outputs kept for ``taskCache`` in the SQLite store: one row per task and cache key,
with the execution that produced them (its files are copied on reuse) and when. The ``ttl`` is
the task's own at each read (as Kestra checks it); rows older than it are dropped when the task
caches new outputs."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from plait.state.model import format_datetime, json_default, utcnow

_TASK = "namespace = ? AND flow_id = ? AND task_id = ?"


def _since(since: datetime | None) -> str:
    return "" if since is None else format_datetime(since)  # "" sorts before every date


class TaskCacheTable:
    """The task-cache half of :class:`~plait.state.sqlite.SqliteRepository`."""

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def _read(self, sql: str, params: Sequence[Any]) -> list[Any]:
        raise NotImplementedError

    def cached_outputs(
        self, namespace: str, flow_id: str, task_id: str, key: str, *, since: datetime | None
    ) -> tuple[dict[str, Any], str] | None:
        rows = self._read(
            f"SELECT outputs, execution_id FROM task_cache WHERE {_TASK} AND key = ? "
            "AND created > ?",
            (namespace, flow_id, task_id, key, _since(since)),
        )
        return (json.loads(rows[0][0]), rows[0][1]) if rows else None

    def cache_outputs(
        self,
        namespace: str,
        flow_id: str,
        task_id: str,
        key: str,
        outputs: dict[str, Any],
        execution_id: str,
        *,
        since: datetime | None,
    ) -> None:
        text = json.dumps(outputs, default=json_default, ensure_ascii=False)
        with self._write() as conn:
            conn.execute(
                f"DELETE FROM task_cache WHERE {_TASK} AND created <= ?",
                (namespace, flow_id, task_id, _since(since)),
            )
            conn.execute(
                "INSERT OR REPLACE INTO task_cache (namespace, flow_id, task_id, key, outputs, "
                "execution_id, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    namespace,
                    flow_id,
                    task_id,
                    key,
                    text,
                    execution_id,
                    format_datetime(utcnow()),
                ),
            )
