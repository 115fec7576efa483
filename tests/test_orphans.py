"""kill -9 of `plait run` during a Python task: the task's processes (its children too) end
with it, and the next command finds the execution KILLED, not RUNNING for ever."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from plait.api import Engine

FLOW = """\
id: orphan
namespace: dev
tasks:
  - id: busy
    type: plait.python.Script
    runner: PROCESS
    script: |
      import os, subprocess, time
      child = subprocess.Popen(["sleep", "120"])
      print(f"pids {os.getpid()} {child.pid}", flush=True)
      time.sleep(120)
"""


def _pids(home: Path) -> list[int]:
    if not (home / "plait.db").exists():
        return []
    engine = Engine.create(home=home, load_plugins=[])
    try:
        found = engine.repository.list(limit=1)
        lines = [e.message for e in engine.repository.logs(found[0].id)] if found else []
    finally:
        engine.close()
    return [int(p) for m in lines if m.startswith("pids ") for p in m.split()[1:]]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; only its parent has not collected it


@pytest.mark.slow
def test_kill_9_of_the_engine_ends_the_task_processes(tmp_path: Path) -> None:
    home, flow = tmp_path / "home", tmp_path / "flow.yml"
    flow.write_text(FLOW)
    env = {**os.environ, "PLAIT_HOME": str(home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "plait.cli", "run", str(flow)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not (pids := _pids(home)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(pids) == 2, "the script never reported its processes"
        assert all(_alive(pid) for pid in pids)
        proc.kill()
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in pids), "a task process outlived the engine"

    listed = subprocess.run(
        [sys.executable, "-m", "plait.cli", "executions", "list", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    [execution] = json.loads(listed.stdout)
    assert execution["state"]["current"] == "KILLED"
    [run] = execution["taskRunList"]
    assert run["state"]["current"] == "KILLED"
    assert "is gone" in run["error"] and "plait executions restart" in run["error"]
