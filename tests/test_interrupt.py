"""An engine stopped with SIGTERM records the execution as KILLED and stops the task's process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from plait.api import Engine

FLOW = """\
id: sleepy
namespace: dev
tasks:
  - id: nap
    type: plait.python.Script
    runner: PROCESS
    script: |
      import os, time
      print(f"pid {os.getpid()}", flush=True)
      time.sleep(120)
"""


def _wait_for_pid(home: Path, deadline: float) -> int | None:
    engine = None
    try:
        while time.monotonic() < deadline:
            time.sleep(0.2)
            if not (home / "plait.db").exists():
                continue
            engine = engine or Engine.create(home=home)
            found = engine.repository.list()
            if not found:
                continue
            for entry in engine.repository.logs(found[0].id):
                if entry.message.startswith("pid "):
                    return int(entry.message.split()[1])
        return None
    finally:
        if engine is not None:
            engine.close()


def test_sigterm_kills_the_execution_and_its_process(tmp_path: Path):
    home = tmp_path / "home"
    flow = tmp_path / "flow.yml"
    flow.write_text(FLOW)
    proc = subprocess.Popen(
        [sys.executable, "-m", "plait.cli", "run", str(flow)],
        env={**os.environ, "PLAIT_HOME": str(home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        script_pid = _wait_for_pid(home, time.monotonic() + 120)
        assert script_pid is not None, proc.stderr.read() if proc.poll() is not None else ""
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1
    assert "KILLED" in err
    assert "Traceback" not in err
    engine = Engine.create(home=home)
    try:
        execution = engine.repository.list()[0]
        assert str(execution.state) == "KILLED"
        assert str(execution.task_run("nap").state) == "KILLED"
    finally:
        engine.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and Path(f"/proc/{script_pid}").exists():
        time.sleep(0.1)
    assert not Path(f"/proc/{script_pid}").exists(), "the script's process outlived the engine"
