"""``plait`` on PostgreSQL, configured by the environment alone: a run stored in the database
(not in PLAIT_HOME's SQLite file) and read back by another ``plait`` process."""

from __future__ import annotations

from pathlib import Path

import psycopg

FLOW = """\
id: on-postgres
namespace: dev.pg
tasks:
  - id: hello
    type: plait.core.Log
    message: "hello from {{ flow.id }}"
  - id: answer
    type: plait.core.Return
    format: "42"
"""


def test_run_stores_in_postgres_and_another_process_reads_it(
    cli, write_flow, pg_dsn: str, tmp_path: Path
) -> None:
    env = {"PLAIT_REPOSITORY": "postgres", "PLAIT_POSTGRES_DSN": pg_dsn}
    done = cli("run", str(write_flow(FLOW)), "--json", env=env)
    assert done.code == 0, done.stderr
    execution_id = done.json()["id"]
    assert not (tmp_path / "home" / "plait.db").exists(), "nothing stored in SQLite"
    with psycopg.connect(pg_dsn) as conn:
        stored = conn.execute(
            "SELECT namespace, flow_id, state, ended IS NOT NULL FROM executions WHERE id = %s",
            (execution_id,),
        ).fetchone()
        runs = conn.execute(
            "SELECT count(*) FROM task_runs WHERE execution_id = %s", (execution_id,)
        ).fetchone()
        revisions = conn.execute("SELECT flow_id, revision FROM flows").fetchall()
    assert stored == ("dev.pg", "on-postgres", "SUCCESS", True)
    assert runs == (2,)
    assert revisions == [("on-postgres", 1)]

    shown = cli("executions", "show", execution_id[:8], env=env)
    assert shown.code == 0, shown.stderr
    assert execution_id in shown.stdout and "SUCCESS" in shown.stdout
    logs = cli("logs", execution_id, "--task", "hello", env=env)
    assert "hello from on-postgres" in logs.stdout
    outputs = cli("outputs", execution_id, "--json", env=env)
    assert outputs.json()["tasks"]["answer"]["value"] == "42"
    on_sqlite = cli("executions", "show", execution_id, env={"PLAIT_REPOSITORY": "sqlite"})
    assert on_sqlite.code != 0 and "not found" in on_sqlite.stderr


def test_postgres_without_a_dsn_is_one_clear_line(cli, write_flow) -> None:
    done = cli(
        "run",
        str(write_flow(FLOW)),
        env={"PLAIT_REPOSITORY": "postgres", "PLAIT_POSTGRES_DSN": ""},
    )
    assert done.code != 0
    assert "needs a database: set PLAIT_POSTGRES_DSN=" in done.stderr
    assert "Traceback" not in done.stderr


def manifest(tmp_path: Path, dsn: str) -> dict[str, str]:
    path = tmp_path / "plait-distribution.toml"
    path.write_text(
        'name = "acme-pg"\nversion = "1.0"\nplugins = ["plait-postgres"]\n\n'
        f'[state]\ntype = "postgres"\ndsn = "{dsn}"\n',
        encoding="utf-8",
    )
    return {"PLAIT_DISTRIBUTION": str(path), "PLAIT_REPOSITORY": "", "PLAIT_POSTGRES_DSN": ""}


def test_a_distribution_manifest_selects_postgres_and_dist_info_hides_the_password(
    cli, write_flow, pg_dsn: str, tmp_path: Path
) -> None:
    secret_dsn = pg_dsn.replace("postgres@", "postgres:pa55word@")
    env = manifest(tmp_path, secret_dsn)
    done = cli("run", str(write_flow(FLOW)), "--json", env=env)
    assert done.code == 0, done.stderr
    with psycopg.connect(pg_dsn) as conn:
        stored = conn.execute("SELECT id FROM executions").fetchall()
    assert stored == [(done.json()["id"],)]
    info = cli("dist", "info", env=env)
    assert info.code == 0, info.stderr
    assert "state:        postgres (dsn=postgresql://postgres:***@127.0.0.1:" in info.stdout
    assert "pa55word" not in info.stdout


def test_plait_repository_overrides_the_manifest_without_its_options(
    cli, write_flow, pg_dsn: str, tmp_path: Path
) -> None:
    env = {**manifest(tmp_path, pg_dsn), "PLAIT_REPOSITORY": "sqlite"}
    done = cli("run", str(write_flow(FLOW)), "--json", env=env)
    assert done.code == 0, done.stderr
    assert (tmp_path / "home" / "plait.db").is_file()
    with psycopg.connect(pg_dsn) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'executions'"
        ).fetchone()
    assert tables == (0,), "PostgreSQL untouched"
