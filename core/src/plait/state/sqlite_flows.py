"""Flow revisions in the SQLite store: every saved source is a revision; deleting a flow marks
its revisions deleted (executions still find the revision they ran), saving it again revives it
with a new revision."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from plait.errors import NotFoundError
from plait.state.model import StoredFlow, format_datetime, parse_datetime, utcnow


class FlowStore:
    """The flow half of :class:`~plait.state.sqlite.SqliteRepository`."""

    path: Path

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def _read(self, sql: str, params: Sequence[Any]) -> list[Any]:
        raise NotImplementedError

    def _read_one(self, sql: str, params: Sequence[Any]) -> Any:
        raise NotImplementedError

    def save_flow(self, namespace: str, flow_id: str, source: str) -> int:
        with self._write() as conn:
            latest = conn.execute(
                "SELECT revision, source, deleted FROM flows WHERE namespace = ? AND flow_id = ? "
                "ORDER BY revision DESC LIMIT 1",
                (namespace, flow_id),
            ).fetchone()
            if latest is not None and latest[1] == source and not latest[2]:
                return int(latest[0])
            revision = 1 if latest is None else int(latest[0]) + 1
            conn.execute(
                "INSERT INTO flows (namespace, flow_id, revision, source, created) "
                "VALUES (?, ?, ?, ?, ?)",
                (namespace, flow_id, revision, source, format_datetime(utcnow())),
            )
            return revision

    def get_flow(self, namespace: str, flow_id: str, revision: int | None = None) -> StoredFlow:
        sql = (
            "SELECT revision, source, created, deleted FROM flows "
            "WHERE namespace = ? AND flow_id = ?"
        )
        params: list[Any] = [namespace, flow_id]
        if revision is not None:
            sql += " AND revision = ?"
            params.append(revision)
        else:
            sql += " AND deleted = 0"
        row = self._read_one(sql + " ORDER BY revision DESC LIMIT 1", params)
        if row is None:
            raise NotFoundError(self._missing_flow(namespace, flow_id, revision))
        return StoredFlow(
            namespace, flow_id, int(row[0]), row[1], parse_datetime(row[2]), bool(row[3])
        )

    def _missing_flow(self, namespace: str, flow_id: str, revision: int | None) -> str:
        latest = self._read_one(
            "SELECT max(revision) FROM flows WHERE namespace = ? AND flow_id = ?",
            (namespace, flow_id),
        )[0]
        if latest is None:
            return (
                f"flow '{namespace}.{flow_id}' not found: no revision of it is stored in "
                f"{self.path} (a flow is stored when plait runs it)"
            )
        if revision is None:
            return f"flow '{namespace}.{flow_id}' was deleted (its executions keep their revisions)"
        return f"flow '{namespace}.{flow_id}' has no revision {revision} (latest is {latest})"

    def flow_revisions(self, namespace: str, flow_id: str) -> list[StoredFlow]:
        rows = self._read(
            "SELECT revision, source, created, deleted FROM flows "
            "WHERE namespace = ? AND flow_id = ? ORDER BY revision",
            (namespace, flow_id),
        )
        if not rows:
            raise NotFoundError(self._missing_flow(namespace, flow_id, None))
        return [
            StoredFlow(namespace, flow_id, int(r[0]), r[1], parse_datetime(r[2]), bool(r[3]))
            for r in rows
        ]

    def list_flows(self, *, namespace: str | None = None, q: str | None = None) -> list[StoredFlow]:
        """The latest revision of every flow not deleted, by namespace and id; ``namespace``
        matches its children too, ``q`` a part of the id or namespace."""
        rows = self._read(
            "SELECT namespace, flow_id, revision, source, created FROM flows AS f "
            "WHERE revision = (SELECT max(revision) FROM flows AS g "
            "WHERE g.namespace = f.namespace AND g.flow_id = f.flow_id) AND deleted = 0 "
            "ORDER BY namespace, flow_id",
            (),
        )
        found = [StoredFlow(r[0], r[1], int(r[2]), r[3], parse_datetime(r[4])) for r in rows]
        if namespace is not None:
            found = [
                f
                for f in found
                if f.namespace == namespace or f.namespace.startswith(namespace + ".")
            ]
        if q:
            found = [f for f in found if q.lower() in f"{f.namespace}.{f.flow_id}".lower()]
        return found

    def flows_stamp(self) -> tuple[int, int, int]:
        """Revisions are only ever added and deletions only ever set flags, so the count of
        revisions, the newest row and the count of deleted ones change with every change."""
        count, newest, deleted = self._read_one(
            "SELECT count(*), coalesce(max(rowid), 0), coalesce(sum(deleted), 0) FROM flows", ()
        )
        return int(count), int(newest), int(deleted)

    def delete_flow(self, namespace: str, flow_id: str) -> None:
        self.get_flow(namespace, flow_id)  # NotFoundError when absent or already deleted
        with self._write() as conn:
            conn.execute(
                "UPDATE flows SET deleted = 1 WHERE namespace = ? AND flow_id = ?",
                (namespace, flow_id),
            )
