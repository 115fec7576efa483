"""Flow control through the command line, in real processes: restart after kill -9, replay,
eval inside a loop iteration, SIGTERM ending parallel task runs, the tree of task runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from plait.api import Engine

FLOW = "io.kestra.plugin.core.flow"

LOOP = f"""\
id: loop
namespace: dev
tasks:
  - id: each
    type: {FLOW}.ForEach
    values: [a, b]
    tasks:
      - id: first
        type: plait.core.Return
        format: "{{{{ taskrun.value | upper }}}}"
      - id: second
        type: plait.core.Return
        format: "{{{{ outputs.first[taskrun.value].value }}}}!"
"""


def plait(home: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "plait.cli", *args],
        env={**os.environ, "PLAIT_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start(home: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "plait.cli", *args],
        env={**os.environ, "PLAIT_HOME": str(home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until(predicate, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def latest(home: Path) -> dict | None:
    if not (home / "plait.db").exists():
        return None
    engine = Engine.create(home=home, load_plugins=[])
    try:
        found = engine.repository.list(limit=1)
        return found[0].to_document() if found else None
    finally:
        engine.close()


def test_run_json_has_kestras_shape_and_eval_sees_one_iteration(tmp_path: Path) -> None:
    home, flow = tmp_path / "home", tmp_path / "loop.yml"
    flow.write_text(LOOP)
    done = plait(home, "run", str(flow), "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["state"]["current"] == "SUCCESS"
    runs = document["taskRunList"]
    each = next(r for r in runs if r["taskId"] == "each")
    seconds = [r for r in runs if r["taskId"] == "second"]
    assert [(r["value"], r["parentTaskRunId"], r["outputs"]) for r in seconds] == [
        ("a", each["id"], {"value": "A!"}),
        ("b", each["id"], {"value": "B!"}),
    ]
    assert all(r["state"]["current"] == "SUCCESS" and len(r["attempts"]) == 1 for r in seconds)

    execution_id = document["id"]
    by_value = plait(
        home, "eval", execution_id, "{{ outputs.first[taskrun.value].value }}",
        "--task", "second", "--value", "b",
    )  # fmt: skip
    assert (by_value.returncode, by_value.stdout) == (0, "B\n"), by_value.stderr
    by_run = plait(home, "eval", execution_id, "taskrun.value", "--task-run", seconds[0]["id"])
    assert by_run.stdout == "a\n"
    ambiguous = plait(home, "eval", execution_id, "taskrun.value", "--task", "second")
    assert ambiguous.returncode == 1
    assert "ran once per loop value" in ambiguous.stderr and "--value" in ambiguous.stderr
    after = plait(home, "eval", execution_id, "outputs.second['a'].value")
    assert after.stdout == "A!\n"

    shown = plait(home, "executions", "show", execution_id)
    assert shown.returncode == 0
    lines = shown.stdout.splitlines()
    assert any(line.strip() == "[a]" for line in lines)
    assert sum("second" in line and "SUCCESS" in line for line in lines) == 2


RESUMABLE = f"""\
id: resumable
namespace: dev
tasks:
  - id: first
    type: plait.python.Script
    runner: PROCESS
    script: |
      with open("{{{{ inputs.dir }}}}/first.txt", "a") as f:
          f.write("ran\\n")
  - id: wait
    type: plait.python.Script
    runner: PROCESS
    script: |
      import os, time
      print("waiting", flush=True)
      deadline = time.time() + 60
      while not os.path.exists("{{{{ inputs.dir }}}}/go") and time.time() < deadline:
          time.sleep(0.05)
  - id: loop
    type: {FLOW}.ForEach
    values: [x, y]
    tasks:
      - id: last
        type: plait.core.Return
        format: "{{{{ taskrun.value }}}}"
inputs:
  - id: dir
    type: STRING
"""


@pytest.mark.slow
def test_kill_9_mid_run_then_restart_finishes_the_same_execution(tmp_path: Path) -> None:
    home, flow = tmp_path / "home", tmp_path / "flow.yml"
    flow.write_text(RESUMABLE)
    proc = start(home, "run", str(flow), "-i", f"dir={tmp_path}")
    try:
        wait_until(
            lambda: (
                (doc := latest(home)) is not None
                and any(
                    r["taskId"] == "wait" and r["state"]["current"] == "RUNNING"
                    for r in doc["taskRunList"]
                )
            )
        )
        proc.kill()  # kill -9: nothing gets recorded
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    stale = latest(home)
    assert stale["state"]["current"] == "RUNNING"
    first_id = next(r["id"] for r in stale["taskRunList"] if r["taskId"] == "first")
    (tmp_path / "go").touch()

    restarted = plait(home, "executions", "restart", stale["id"], "--json")

    assert restarted.returncode == 0, restarted.stderr
    document = json.loads(restarted.stdout)
    assert document["id"] == stale["id"]
    assert document["state"]["current"] == "SUCCESS"
    runs = {(r["taskId"], r["value"]): r for r in document["taskRunList"]}
    assert runs[("first", None)]["id"] == first_id
    assert (tmp_path / "first.txt").read_text() == "ran\n"
    attempts = [a["state"]["current"] for a in runs[("wait", None)]["attempts"]]
    assert attempts == ["KILLED", "SUCCESS"]
    assert {("last", "x"), ("last", "y")} <= set(runs)
    again = plait(home, "executions", "restart", stale["id"])
    assert again.returncode == 1
    assert "nothing to restart" in again.stderr and "Traceback" not in again.stderr


def test_replay_from_the_cli(tmp_path: Path) -> None:
    home, flow = tmp_path / "home", tmp_path / "loop.yml"
    flow.write_text(LOOP)
    first = json.loads(plait(home, "run", str(flow), "--json").stdout)
    replayed = plait(home, "executions", "replay", first["id"], "--from", "second", "--json")
    assert replayed.returncode == 0, replayed.stderr
    document = json.loads(replayed.stdout)
    assert document["originalId"] == first["id"] and document["id"] != first["id"]
    assert [r["taskId"] for r in document["taskRunList"]].count("second") == 2
    unknown = plait(home, "executions", "replay", first["id"], "--from", "nope")
    assert unknown.returncode == 1 and "no task run or task 'nope'" in unknown.stderr


PARALLEL_SCRIPTS = f"""\
id: busy
namespace: dev
tasks:
  - id: all
    type: {FLOW}.Parallel
    tasks:
      - id: one
        type: plait.python.Script
        runner: PROCESS
        script: |
          import os, time
          print(f"pid {{os.getpid()}}", flush=True)
          time.sleep(120)
      - id: two
        type: plait.python.Script
        runner: PROCESS
        script: |
          import os, time
          print(f"pid {{os.getpid()}}", flush=True)
          time.sleep(120)
      - id: nap
        type: {FLOW}.Sleep
        duration: PT120S
"""


@pytest.mark.slow
def test_sigterm_ends_every_parallel_branch_and_its_process(tmp_path: Path) -> None:
    home, flow = tmp_path / "home", tmp_path / "flow.yml"
    flow.write_text(PARALLEL_SCRIPTS)
    proc = start(home, "run", str(flow))
    pids: list[int] = []

    def both_started() -> bool:
        doc = latest(home)
        if doc is None:
            return False
        engine = Engine.create(home=home, load_plugins=[])
        try:
            lines = [e.message for e in engine.repository.logs(doc["id"])]
        finally:
            engine.close()
        pids[:] = [int(m.split()[1]) for m in lines if m.startswith("pid ")]
        return len(pids) == 2

    try:
        wait_until(both_started, 120)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1 and "Traceback" not in err
    document = latest(home)
    assert document["state"]["current"] == "KILLED"
    assert {r["taskId"]: r["state"]["current"] for r in document["taskRunList"]} == {
        "all": "KILLED",
        "one": "KILLED",
        "two": "KILLED",
        "nap": "KILLED",
    }
    wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in pids), 10)
