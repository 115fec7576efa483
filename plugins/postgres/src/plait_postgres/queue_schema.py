"""Schema of the work queue (migrations component ``queue``): append a migration, never edit one.

- ``plait_work_items``: one row per task run waiting for or held by a worker (``queued`` or
  ``claimed``); a claim has a worker, a fencing ``token`` and a lease; ``lost`` records the
  claims whose lease expired (each an attempt that failed); ``cancelled`` marks a kill.
- ``plait_work_results``: what workers completed, ``taken`` by the execution's driver (all
  untaken again when another driver takes the execution over), dropped once it ended.
- ``plait_drivers``: which process drives which execution, until when (a lease renewed by
  heartbeats; an expired one may be taken over by another server).
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    """
    CREATE TABLE plait_work_items (
        execution_id text NOT NULL,
        taskrun_id text NOT NULL,
        attempt integer NOT NULL,
        seq bigserial NOT NULL,
        state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'claimed')),
        worker text,
        token uuid,
        claimed_at timestamptz,
        lease_until timestamptz,
        lost jsonb NOT NULL DEFAULT '[]',
        cancelled boolean NOT NULL DEFAULT false,
        PRIMARY KEY (execution_id, taskrun_id)
    );
    CREATE INDEX plait_work_items_queued ON plait_work_items (seq) WHERE state = 'queued';
    CREATE INDEX plait_work_items_leases ON plait_work_items (lease_until)
        WHERE state = 'claimed';
    CREATE UNIQUE INDEX plait_work_items_token ON plait_work_items (token);
    CREATE TABLE plait_work_results (
        seq bigserial PRIMARY KEY,
        execution_id text NOT NULL,
        taskrun_id text NOT NULL,
        attempt integer NOT NULL,
        document jsonb NOT NULL,
        taken boolean NOT NULL DEFAULT false
    );
    CREATE INDEX plait_work_results_execution ON plait_work_results (execution_id, seq);
    CREATE TABLE plait_drivers (
        execution_id text PRIMARY KEY,
        driver text NOT NULL,
        lease_until timestamptz NOT NULL
    );
    """,
]
