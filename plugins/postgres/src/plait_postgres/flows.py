"""Flow revisions and trigger state of :class:`plait_postgres.store.PostgresStore`.

Saving a revision reads the latest and inserts the next under an advisory lock on the flow, so
two servers saving the same flow at once get consecutive revisions, not a key conflict. A
trigger claim is one conditional ``UPDATE`` (or ``INSERT ... ON CONFLICT DO NOTHING`` for a
trigger never seen): the row lock makes a concurrent claim re-check the date and lose.
"""

from __future__ import annotations

from typing import Any

import psycopg
from plait_sdk.errors import StateNotFound
from plait_sdk.state import Document

from plait_postgres.connection import Database
from plait_postgres.rows import FLOW_LOCK, flow_document, in_namespace, iso, now

_FLOW = "namespace = %s AND flow_id = %s"
_TRIGGER = "namespace = %s AND flow_id = %s AND trigger_id = %s"


class FlowsAndTriggers:
    db: Database

    def save_flow(self, namespace: str, flow_id: str, source: str) -> int:
        def work(conn: psycopg.Connection) -> int:
            conn.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                (FLOW_LOCK, f"{namespace}\n{flow_id}"),
            )
            latest = conn.execute(
                f"SELECT revision, source, deleted FROM flows WHERE {_FLOW} "
                "ORDER BY revision DESC LIMIT 1",
                (namespace, flow_id),
            ).fetchone()
            if latest is not None and latest[1] == source and not latest[2]:
                return int(latest[0])
            revision = 1 if latest is None else int(latest[0]) + 1
            conn.execute(
                "INSERT INTO flows (namespace, flow_id, revision, source, created) "
                "VALUES (%s, %s, %s, %s, %s)",
                (namespace, flow_id, revision, source, now()),
            )
            return revision

        return self.db.run(work)

    def get_flow(self, namespace: str, flow_id: str, revision: int | None = None) -> Document:
        return self.db.run(lambda conn: self._flow(conn, namespace, flow_id, revision))

    def _flow(
        self, conn: psycopg.Connection, namespace: str, flow_id: str, revision: int | None
    ) -> Document:
        which = "revision = %s" if revision is not None else "NOT deleted"
        params: list[Any] = [namespace, flow_id] + ([revision] if revision is not None else [])
        row = conn.execute(
            f"SELECT revision, source, created, deleted FROM flows WHERE {_FLOW} AND {which} "
            "ORDER BY revision DESC LIMIT 1",
            params,
        ).fetchone()
        if row is None:
            raise StateNotFound(self._missing_flow(conn, namespace, flow_id, revision))
        return flow_document(namespace, flow_id, row)

    def _missing_flow(
        self, conn: psycopg.Connection, namespace: str, flow_id: str, revision: int | None
    ) -> str:
        (latest,) = conn.execute(
            f"SELECT max(revision) FROM flows WHERE {_FLOW}", (namespace, flow_id)
        ).fetchone() or (None,)
        if latest is None:
            return (
                f"flow '{namespace}.{flow_id}' not found: no revision of it is stored in "
                f"{self.db.redacted_dsn} (a flow is stored when plait runs it)"
            )
        if revision is None:
            return f"flow '{namespace}.{flow_id}' was deleted (its executions keep their revisions)"
        return f"flow '{namespace}.{flow_id}' has no revision {revision} (latest is {latest})"

    def flow_revisions(self, namespace: str, flow_id: str) -> list[Document]:
        def work(conn: psycopg.Connection) -> list[Document]:
            rows = conn.execute(
                f"SELECT revision, source, created, deleted FROM flows WHERE {_FLOW} "
                "ORDER BY revision",
                (namespace, flow_id),
            ).fetchall()
            if not rows:
                raise StateNotFound(self._missing_flow(conn, namespace, flow_id, None))
            return [flow_document(namespace, flow_id, row) for row in rows]

        return self.db.run(work)

    def list_flows(self, *, namespace: str | None = None, q: str | None = None) -> list[Document]:
        where, params = in_namespace(namespace) if namespace is not None else ("true", [])
        rows = self.db.run(
            lambda conn: conn.execute(
                "SELECT namespace, flow_id, revision, source, created, deleted FROM ("
                "SELECT DISTINCT ON (namespace, flow_id) * FROM flows "
                f"WHERE {where} ORDER BY namespace, flow_id, revision DESC) AS latest "
                "WHERE NOT deleted ORDER BY namespace, flow_id",
                params,
            ).fetchall()
        )
        found = [flow_document(row[0], row[1], row[2:]) for row in rows]
        if q:  # in Python: PostgreSQL's lower() under "C" only folds ASCII
            found = [f for f in found if q.lower() in f"{f['namespace']}.{f['id']}".lower()]
        return found

    def flows_stamp(self) -> tuple[int, int, int]:
        count, newest, deleted = self.db.run(
            lambda conn: conn.execute(
                "SELECT count(*), coalesce(max(seq), 0), count(*) FILTER (WHERE deleted) FROM flows"
            ).fetchone()
        )
        return int(count), int(newest), int(deleted)

    def delete_flow(self, namespace: str, flow_id: str) -> None:
        def work(conn: psycopg.Connection) -> None:
            self._flow(conn, namespace, flow_id, None)  # StateNotFound when absent or deleted
            conn.execute(f"UPDATE flows SET deleted = true WHERE {_FLOW}", (namespace, flow_id))

        self.db.run(work)

    # -- triggers ------------------------------------------------------------------------------

    def trigger_states(self, namespace: str | None = None) -> list[Document]:
        where, params = ("WHERE namespace = %s", [namespace]) if namespace is not None else ("", [])
        rows = self.db.run(
            lambda conn: conn.execute(
                "SELECT namespace, flow_id, trigger_id, last_date, disabled FROM triggers "
                f"{where} ORDER BY namespace, flow_id, trigger_id",
                params,
            ).fetchall()
        )
        return [
            {"namespace": r[0], "flowId": r[1], "triggerId": r[2], "date": r[3], "disabled": r[4]}
            for r in rows
        ]

    def claim_trigger(
        self, namespace: str, flow_id: str, trigger_id: str, previous: str | None, date: str
    ) -> bool:
        key = (namespace, flow_id, trigger_id)

        def work(conn: psycopg.Connection) -> bool:
            moved = conn.execute(
                f"UPDATE triggers SET last_date = %s WHERE {_TRIGGER} "
                "AND last_date IS NOT DISTINCT FROM %s",
                (date, *key, previous),
            ).rowcount
            if moved or previous is not None:
                return bool(moved)
            created = conn.execute(
                "INSERT INTO triggers (namespace, flow_id, trigger_id, last_date) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (*key, date),
            ).rowcount
            return bool(created)

        return self.db.run(work)

    def set_trigger_disabled(
        self, namespace: str, flow_id: str, trigger_id: str, disabled: bool
    ) -> None:
        # Enabled again, it starts from now: what came due meanwhile does not fire.
        since = None if disabled else iso(now())
        self.db.run(
            lambda conn: conn.execute(
                "INSERT INTO triggers (namespace, flow_id, trigger_id, disabled, last_date) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (namespace, flow_id, trigger_id) "
                "DO UPDATE SET disabled = excluded.disabled, "
                "last_date = coalesce(excluded.last_date, triggers.last_date)",
                (namespace, flow_id, trigger_id, disabled, since),
            )
        )
