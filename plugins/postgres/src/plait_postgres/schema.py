"""The ``state`` component's tables: executions, task runs, logs, flows, triggers, KV entries,
cached task outputs and kill requests — the SQLite store's semantics on PostgreSQL types.

- Keys and names are ``text COLLATE "C"``: they compare and sort by code point as in SQLite
  (namespaces sort the same everywhere), and an id prefix is an index range scan whatever the
  database's locale.
- Documents are ``json`` (kept as written: ``jsonb`` would reject a ``\\u0000`` in an output).
- Dates the engine compares as instants are ``timestamptz``; a trigger's date is the engine's
  own text (compare-and-set compares it exactly).
- ``seq`` columns (identity) keep insertion order: task runs in the order first stored, logs in
  the order appended, executions created in the same microsecond newest-inserted first.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE executions (
        id text COLLATE "C" PRIMARY KEY,
        seq bigint GENERATED ALWAYS AS IDENTITY,
        namespace text COLLATE "C" NOT NULL,
        flow_id text COLLATE "C" NOT NULL,
        flow_revision integer NOT NULL,
        state text NOT NULL,
        parent_id text COLLATE "C",
        created timestamptz NOT NULL,
        ended timestamptz,
        document json NOT NULL
    );
    CREATE INDEX executions_by_created ON executions (created DESC, seq DESC);
    CREATE INDEX executions_by_flow ON executions (namespace, flow_id, created DESC, seq DESC);
    CREATE INDEX executions_by_flow_state ON executions (namespace, flow_id, state);
    CREATE INDEX executions_by_parent ON executions (parent_id) WHERE parent_id IS NOT NULL;
    CREATE INDEX executions_by_ended ON executions (ended) WHERE ended IS NOT NULL;

    CREATE TABLE task_runs (
        id text COLLATE "C" PRIMARY KEY,
        seq bigint GENERATED ALWAYS AS IDENTITY,
        execution_id text COLLATE "C" NOT NULL,
        document json NOT NULL
    );
    CREATE INDEX task_runs_by_execution ON task_runs (execution_id, seq);

    CREATE TABLE logs (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        execution_id text COLLATE "C" NOT NULL,
        task_id text COLLATE "C",
        taskrun_id text COLLATE "C",
        level text NOT NULL,
        message text NOT NULL,
        timestamp timestamptz NOT NULL
    );
    CREATE INDEX logs_by_execution ON logs (execution_id, seq);

    CREATE TABLE flows (
        namespace text COLLATE "C" NOT NULL,
        flow_id text COLLATE "C" NOT NULL,
        revision integer NOT NULL,
        seq bigint GENERATED ALWAYS AS IDENTITY,
        source text NOT NULL,
        created timestamptz NOT NULL,
        deleted boolean NOT NULL DEFAULT false,
        PRIMARY KEY (namespace, flow_id, revision)
    );

    CREATE TABLE triggers (
        namespace text COLLATE "C" NOT NULL,
        flow_id text COLLATE "C" NOT NULL,
        trigger_id text COLLATE "C" NOT NULL,
        last_date text,
        disabled boolean NOT NULL DEFAULT false,
        PRIMARY KEY (namespace, flow_id, trigger_id)
    );

    CREATE TABLE kv (
        namespace text COLLATE "C" NOT NULL,
        key text COLLATE "C" NOT NULL,
        value json NOT NULL,
        type text NOT NULL,
        created timestamptz NOT NULL,
        updated timestamptz NOT NULL,
        expires timestamptz,
        PRIMARY KEY (namespace, key)
    );

    CREATE TABLE task_cache (
        namespace text COLLATE "C" NOT NULL,
        flow_id text COLLATE "C" NOT NULL,
        task_id text COLLATE "C" NOT NULL,
        key text COLLATE "C" NOT NULL,
        outputs json NOT NULL,
        execution_id text COLLATE "C" NOT NULL,
        created timestamptz NOT NULL,
        PRIMARY KEY (namespace, flow_id, task_id, key)
    );

    CREATE TABLE kill_requests (
        execution_id text COLLATE "C" PRIMARY KEY,
        requested timestamptz NOT NULL
    );
    """,
    # 2: change numbers, so that a worker refreshes the execution it holds with what changed
    # (``changes_since``) instead of reading every task run again. ``changes`` counts the
    # execution's writes (taken under its row lock: in commit order), each task run carries the
    # number of the write that stored it last, ``replaced`` the last write that replaced them
    # all (``save``: task runs may have been removed).
    """
    ALTER TABLE executions
        ADD COLUMN changes bigint NOT NULL DEFAULT 0,
        ADD COLUMN replaced bigint NOT NULL DEFAULT 0;
    ALTER TABLE task_runs ADD COLUMN change bigint NOT NULL DEFAULT 0;
    CREATE INDEX task_runs_by_change ON task_runs (execution_id, change);
    """,
)
"""Migrations of the ``state`` component (see :mod:`plait_postgres.migrations`)."""
