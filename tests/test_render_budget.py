"""Hostile expressions, as a flow author or a user of the server's eval box would type them:
each ends within its time limit, under 400 MB of memory for the whole process tree, with a
one-line error naming the expression and the limit, and the process stays usable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.cli import PLAIT, run_plait
from support.server import running_server

TIMEOUT_SECONDS = 2
BUDGET_ENV = {"PLAIT_RENDER_TIMEOUT": str(TIMEOUT_SECONDS)}
MAX_RSS_MB = 400

FLOW = """\
id: budget
namespace: dev
variables:
  twice: "{{ render(vars.twice) }}{{ render(vars.twice) }}"
tasks:
  - id: api
    type: plait.core.Return
    format: '{"items": [1, 2, 3]}'
"""

SLOW_PROPERTY_FLOW = """\
id: slow-property
namespace: dev
tasks:
  - id: spin
    type: plait.core.Log
    timeout: PT1S
    message: "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"
"""

HOSTILE = [
    ("{{ '{:>999999999}'.format(1) }}", "more than the 10,000,000 allowed"),
    ("{{ 'x' | center(999999999) }}", "more than the 10,000,000 allowed"),
    ("{{ (1).to_bytes(999999999, 'big') }}", "more than the 10,000,000 allowed"),
    (
        "{{ ('x' * 1000).replace('x', 'x' * 1000).replace('x', 'x' * 1000) }}",
        "more than the 10,000,000 allowed",
    ),
    ("{{ [[[[1] * 1000] * 1000] * 1000] * 1000 }}", "more than the 10,000,000 allowed"),
    ("{{ 9 ** 9999 }}", "at most about 4300 digits"),
    ("{{ 1 | jq('[range(1e9)]') }}", "allowed"),
    ("{{ 1 | jq('def f: f; f') }}", "took longer than the 2 s allowed"),
    ("{{ '\"a\"' | jq('. * 1000000000') }}", "MiB of memory allowed"),
    (
        "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
        "took longer than the 2 s allowed",
    ),
    ("{{ render(vars.twice) }}", "render() nested more than"),
]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("budget") / "home"


@pytest.fixture(scope="module")
def execution_id(home: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    flow = tmp_path_factory.mktemp("flows") / "flow.yml"
    flow.write_text(FLOW)
    done = run_plait("run", str(flow), "--json", home=home, env=BUDGET_ENV, timeout=120)
    assert done.code == 0, done.stderr
    return str(done.json()["id"])


MEASURE = """\
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
result = {"code": done.returncode, "stdout": done.stdout, "stderr": done.stderr}
print(json.dumps({**result, "rss": rss}))
"""


@pytest.mark.parametrize(("expression", "reason"), HOSTILE)
def test_plait_eval_of_a_hostile_expression_ends_clearly(
    home: Path, execution_id: str, expression: str, reason: str
) -> None:
    env = {**os.environ, "PLAIT_HOME": str(home), **BUDGET_ENV}
    started = time.monotonic()
    measured = subprocess.run(
        [sys.executable, "-c", MEASURE, *PLAIT, "eval", execution_id, expression],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    elapsed = time.monotonic() - started
    result = json.loads(measured.stdout)
    assert result["code"] == 1, result
    assert result["stdout"] == ""
    assert reason in result["stderr"]
    named = result["stderr"].split("expression `", 1)[1].split("`: ", 1)[0]
    assert named in expression  # the tag at fault, or the whole expression
    assert "Traceback" not in result["stderr"]
    assert result["rss"] < MAX_RSS_MB, f"{result['rss']} MB"
    assert elapsed < TIMEOUT_SECONDS + 30, "the render did not stop at its limit"


def test_a_task_timeout_covers_rendering_its_properties(tmp_path: Path) -> None:
    flow = tmp_path / "flow.yml"
    flow.write_text(SLOW_PROPERTY_FLOW)
    done = run_plait(
        "run",
        str(flow),
        "--json",
        home=tmp_path / "home",
        env={"PLAIT_RENDER_TIMEOUT": "600"},
        timeout=120,
    )
    assert done.code == 1
    assert "rendering did not finish within the task's timeout" in done.stdout + done.stderr
    assert done.json()["state"]["current"] == "FAILED"
    assert "Traceback" not in done.stderr


def test_the_server_eval_box_survives_hostile_expressions(home: Path, execution_id: str) -> None:
    with running_server(home, env=BUDGET_ENV) as server:
        path = f"/api/v1/main/executions/{execution_id}/eval"
        for expression, reason in HOSTILE[6:10]:
            answer = server.client.post(path, content=expression, timeout=60)
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert body["result"] is None
            assert reason in body["error"]
        fine = server.client.post(path, content="{{ outputs.api.value | jq('.items[1]') }}")
        assert fine.json() == {"result": "[2]", "error": None, "stackTrace": None}
