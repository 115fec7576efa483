"""A timed-out query ends its DuckDB worker process: nothing keeps computing after the run."""

from __future__ import annotations

from pathlib import Path

from plait_sdk.testing import PlaitRunner

SLOW_FLOW = """\
id: slow
namespace: test

tasks:
  - id: slow
    type: plait.duckdb.Query
    timeout: PT1S
    sql: SELECT sum(hash(range)) AS total FROM range(1000000000000)
    fetchType: FETCH_ONE
"""


def _workers_of(home: Path) -> list[int]:
    """Worker processes started for this test's plait home, found through /proc."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command = (proc / "cmdline").read_bytes()
            environment = (proc / "environ").read_bytes()
        except OSError:
            continue
        if b"plait_duckdb.worker" in command and str(home).encode() in environment:
            found.append(int(proc.name))
    return found


def test_timeout_kills_the_worker(plait_runner: PlaitRunner, plait_home: Path) -> None:
    run = plait_runner.run_flow(SLOW_FLOW)
    task = run.tasks["slow"]
    assert task.state == "FAILED"
    assert "timed out" in task.error
    assert _workers_of(plait_home) == []
