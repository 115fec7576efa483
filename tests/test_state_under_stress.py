"""Several `plait run` processes on one PLAIT_HOME, and a process killed mid-run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from plait.api import Engine

LONG_CHAIN = "id: chain\nnamespace: dev\ntasks:\n" + "".join(
    f'  - id: t{i}\n    type: plait.core.Return\n    format: "{{{{ {i} }}}}"\n' for i in range(40)
)


def test_concurrent_runs_on_one_home_all_succeed(tmp_path: Path):
    home = tmp_path / "home"
    flow = tmp_path / "flow.yml"
    flow.write_text(LONG_CHAIN)
    env = {**os.environ, "PLAIT_HOME": str(home)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "plait.cli", "run", str(flow), "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    results = [p.communicate(timeout=300) for p in procs]
    for proc, (_, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
        assert "locked" not in err
    engine = Engine.create(home=home)
    try:
        executions = engine.repository.list(limit=100)
        assert len(executions) == 6
        assert all(str(e.state) == "SUCCESS" and len(e.task_runs) == 40 for e in executions)
    finally:
        engine.close()


SLOW_PLUGIN = '''
import time
from plait_sdk import Task, TaskOutputs, TaskProperties, hookimpl

class Sleep(Task[TaskProperties, TaskOutputs]):
    """Sleep a while (test task)."""
    type = "test.Sleep"
    def run(self, props, ctx):
        ctx.log.info("sleeping")
        time.sleep(60)
        return TaskOutputs()

@hookimpl
def register_task_types():
    return [Sleep]
'''


def test_kill_9_mid_run_leaves_a_readable_execution(tmp_path: Path):
    home = tmp_path / "home"
    (tmp_path / "slow_plugin.py").write_text(SLOW_PLUGIN)
    flow = (
        "id: slow\nnamespace: dev\ntasks:\n  - id: before\n    type: plait.core.Return\n"
        "    format: done\n  - id: nap\n    type: test.Sleep\n"
    )
    script = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "import slow_plugin\n"
        "from plait.api import Engine\n"
        "from plait.plugins import build_registry\n"
        "registry = build_registry(load=[], extra=[slow_plugin])\n"
        "engine = Engine.create(home=sys.argv[2], registry=registry)\n"
        "engine.run(sys.argv[3])\n"
    )
    (tmp_path / "flow.yml").write_text(flow)
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path), str(home), str(tmp_path / "flow.yml")]
    )
    engine = None
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            time.sleep(0.2)
            if proc.poll() is not None:
                break
            if not (home / "plait.db").exists():
                continue
            engine = engine or Engine.create(home=home)
            found = engine.repository.list()
            if found and any(r.task_id == "nap" for r in found[0].task_runs):
                break
        assert proc.poll() is None, "the runner ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        engine = engine or Engine.create(home=home)
        execution = engine.repository.list()[0]
        assert str(execution.state) == "RUNNING"
        assert execution.task_run("before").outputs == {"value": "done"}
        assert str(execution.task_run("nap").state) == "RUNNING"
        assert any("sleeping" in e.message for e in engine.repository.logs(execution.id))
    finally:
        if proc.poll() is None:
            proc.kill()
        if engine is not None:
            engine.close()
