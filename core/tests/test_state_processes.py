"""Several real processes on one database, and a process killed with SIGKILL mid-write."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from plait.state import SqliteRepository, State

WORKER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from plait.state import Execution, LogEntry, SqliteRepository, State

    db, go, worker, count = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    while not go.exists():  # start together: schema creation and writes all collide
        time.sleep(0.001)
    repo = SqliteRepository(db)
    revision = repo.save_flow("shared", "flow", "id: flow\\nnamespace: shared\\n")
    for n in range(count):
        execution = Execution.new("shared", f"w{worker}", revision, {"n": n}, {})
        repo.save(execution)
        run = execution.add_task_run("t")
        run.transition(State.RUNNING)
        repo.save(execution)
        repo.append_logs([
            LogEntry(execution.id, "t", run.id, "INFO", f"{worker}:{n}:{line}")
            for line in range(3)
        ])
        run.transition(State.SUCCESS)
        execution.transition(State.SUCCESS)
        repo.save(execution)
        repo.get(execution.id[:10])
    repo.close()
    """
)

CRASHER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from plait.state import Execution, LogEntry, SqliteRepository, State

    repo = SqliteRepository(Path(sys.argv[1]))
    payload = "x" * 40_000  # documents span many pages, so a kill lands mid-write
    n = 0
    while True:
        execution = Execution.new("crash", "loop", 1, {"n": n}, {})
        run = execution.add_task_run("big")
        run.transition(State.RUNNING)
        repo.save(execution)
        repo.append_logs([LogEntry(execution.id, "big", run.id, "INFO", payload)] * 5)
        run.outputs = {"payload": payload, "n": n}
        run.transition(State.SUCCESS)
        execution.transition(State.SUCCESS)
        repo.save(execution)
        print(n, flush=True)
        n += 1
    """
)


def test_concurrent_processes_all_succeed(tmp_path: Path) -> None:
    db, go = tmp_path / "home" / "plait.db", tmp_path / "go"
    workers, per_worker = 6, 40
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(db), str(go), str(w), str(per_worker)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(workers)
    ]
    go.touch()
    failures = []
    for process in processes:
        _, stderr = process.communicate(timeout=300)
        if process.returncode != 0:
            failures.append(stderr)
    assert failures == []

    with SqliteRepository(db) as repo:
        executions = repo.list(limit=10_000)
        assert len(executions) == workers * per_worker
        assert all(e.state is State.SUCCESS for e in executions)
        assert all(len(repo.logs(e.id)) == 3 for e in executions[:30])
        stored = repo.get_flow("shared", "flow")
        assert stored.revision == 1, "concurrent saves of one source keep one revision"


def test_sigkill_mid_write_leaves_a_readable_database(tmp_path: Path) -> None:
    db = tmp_path / "plait.db"
    for round_ in range(3):
        process = subprocess.Popen(
            [sys.executable, "-c", CRASHER, str(db)], stdout=subprocess.PIPE, text=True
        )
        assert process.stdout is not None
        for line in process.stdout:
            if int(line) >= 25:
                break
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        assert process.returncode == -signal.SIGKILL

        with sqlite3.connect(db) as raw:
            assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        with SqliteRepository(db) as repo:
            executions = repo.list(limit=100_000)
            finished = [e for e in executions if e.state is State.SUCCESS]
            # Every execution the child reported as committed is there and complete.
            assert len(finished) >= (round_ + 1) * 26
            for execution in executions:
                again = repo.get(execution.id)
                assert again.task_runs[0].task_id == "big"
                if again.state is State.SUCCESS:
                    assert again.task_runs[0].outputs["payload"] == "x" * 40_000
                assert all(len(entry.message) == 40_000 for entry in repo.logs(execution.id))
