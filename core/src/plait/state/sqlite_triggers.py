"""Trigger state in the SQLite store: the last date a trigger fired for (or, for a Flow
trigger, the end date of the last upstream execution it looked at) and whether it is
disabled. Claims are compare-and-set, so two servers on one home never fire the same date."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from plait.state.model import Execution, TriggerState, format_datetime, utcnow


class TriggerStore:
    """The trigger half of :class:`~plait.state.sqlite.SqliteRepository`."""

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def _read(self, sql: str, params: Sequence[Any]) -> list[Any]:
        raise NotImplementedError

    def _load(self, document: str) -> Execution:
        raise NotImplementedError

    def trigger_states(self, namespace: str | None = None) -> list[TriggerState]:
        sql = "SELECT namespace, flow_id, trigger_id, last_date, disabled FROM triggers"
        params: list[Any] = []
        if namespace is not None:
            sql += " WHERE namespace = ?"
            params.append(namespace)
        rows = self._read(sql + " ORDER BY namespace, flow_id, trigger_id", params)
        return [TriggerState(r[0], r[1], r[2], r[3], bool(r[4])) for r in rows]

    def claim_trigger(
        self, namespace: str, flow_id: str, trigger_id: str, previous: str | None, date: str
    ) -> bool:
        """Move a trigger's last date from ``previous`` (None: never fired) to ``date``; False
        when another process moved it first."""
        with self._write() as conn:
            row = conn.execute(
                "SELECT last_date FROM triggers WHERE namespace = ? AND flow_id = ? "
                "AND trigger_id = ?",
                (namespace, flow_id, trigger_id),
            ).fetchone()
            if row is None and previous is None:
                conn.execute(
                    "INSERT INTO triggers (namespace, flow_id, trigger_id, last_date) "
                    "VALUES (?, ?, ?, ?)",
                    (namespace, flow_id, trigger_id, date),
                )
                return True
            if row is None or row[0] != previous:
                return False
            conn.execute(
                "UPDATE triggers SET last_date = ? WHERE namespace = ? AND flow_id = ? "
                "AND trigger_id = ?",
                (date, namespace, flow_id, trigger_id),
            )
            return True

    def set_trigger_disabled(
        self, namespace: str, flow_id: str, trigger_id: str, disabled: bool
    ) -> None:
        # Enabled again, it starts from now: what came due meanwhile does not fire.
        now = None if disabled else format_datetime(utcnow())
        with self._write() as conn:
            conn.execute(
                "INSERT INTO triggers (namespace, flow_id, trigger_id, disabled, last_date) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (namespace, flow_id, trigger_id) "
                "DO UPDATE SET disabled = excluded.disabled, "
                "last_date = coalesce(excluded.last_date, last_date)",
                (namespace, flow_id, trigger_id, int(disabled), now),
            )

    def ended_since(self, after: str, limit: int = 500) -> list[Execution]:
        """Executions that ended after ``after`` (a stored date), oldest end first."""
        rows = self._read(
            "SELECT document FROM executions WHERE ended > ? ORDER BY ended LIMIT ?",
            (after, limit),
        )
        return [self._load(document) for (document,) in rows]
