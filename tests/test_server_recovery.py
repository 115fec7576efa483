"""kill -9 of `plait server` mid-execution: the next server on the same home carries the
execution on from its stored task runs, and nothing stays RUNNING or runs twice."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.server import running_server, server_env, wait_for

FLOW = """\
id: long
namespace: dev
inputs:
  - id: dir
    type: STRING
tasks:
  - id: first
    type: plait.python.Script
    runner: PROCESS
    script: |
      with open("{{ inputs.dir }}/first.txt", "a") as f:
          f.write("ran\\n")
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT3S
  - id: last
    type: plait.core.Return
    format: "done after {{ outputs.first.exitCode }}"
"""


@pytest.mark.slow
def test_a_killed_server_is_carried_on_by_the_next_one(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with running_server(home) as server:
        deployed = server.client.post(
            "/api/v1/flows", content=FLOW, headers={"Content-Type": "application/x-yaml"}
        )
        assert deployed.status_code == 200, deployed.text
        created = server.client.post("/api/v1/executions/dev/long", data={"dir": str(tmp_path)})
        assert created.status_code == 200, created.text
        execution_id = created.json()["id"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            runs = server.client.get(f"/api/v1/executions/{execution_id}").json()["taskRunList"]
            if any(r["taskId"] == "nap" and r["state"]["current"] == "RUNNING" for r in runs):
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the execution never reached its Sleep")
        server.process.kill()  # kill -9: nothing gets recorded
        server.process.wait(10)

    with running_server(home) as again:
        done = wait_for(again.client, execution_id, timeout=60)
        assert "resuming 1 execution" in again.stderr()
    assert done["state"]["current"] == "SUCCESS", done
    runs = {r["taskId"]: r for r in done["taskRunList"]}
    assert [a["state"]["current"] for a in runs["nap"]["attempts"]] == ["KILLED", "SUCCESS"]
    assert len(runs["first"]["attempts"]) == 1
    assert (tmp_path / "first.txt").read_text() == "ran\n"
    assert runs["last"]["outputs"] == {"value": "done after 0"}


def test_a_plait_run_beside_the_server_shares_its_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    flow = tmp_path / "beside.yml"
    flow.write_text(
        "id: beside\nnamespace: dev\ntasks:\n  - id: say\n    type: plait.core.Return\n"
        "    format: from the command line\n"
    )
    with running_server(home) as server:
        done = subprocess.run(
            [sys.executable, "-m", "plait.cli", "run", str(flow), "--json"],
            env=server_env(home),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        execution_id = json.loads(done.stdout)["id"]
        seen = server.client.get(f"/api/v1/executions/{execution_id}").json()
        assert seen["taskRunList"][0]["outputs"] == {"value": "from the command line"}
        stored = server.client.get("/api/v1/flows/dev/beside")
        assert stored.status_code == 200 and stored.json()["revision"] == 1
