"""`plait run` of a flow that needs none of them loads no Docker SDK, HTTP client, cron parser,
jq, DuckDB or server: each is imported by the task, trigger or command that uses it, so a
one-task run starts fast (benchmarks/whole_process.py has the figures)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = (
    "docker",
    "requests",
    "httpx",
    "croniter",
    "jq",
    "duckdb",
    "starlette",
    "uvicorn",
    "polars",
    "urllib.request",
)
"""The same modules as ``NOT_FOR_A_LOG_TASK`` in benchmarks/whole_process.py, which times the
run this test checks."""
PROBE = """\
import sys
from plait.cli.main import main
sys.argv = ["plait", "run", sys.argv[1]]
try:
    main()
except SystemExit as end:
    code = end.code
print("loaded:", *sorted(m for m in {heavy!r} if m in sys.modules))
print("exit:", code)
"""


def _run_and_list(flow: Path, home: Path) -> tuple[list[str], str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), str(flow)],
        capture_output=True,
        text=True,
        env={**os.environ, "PLAIT_HOME": str(home)},
        timeout=120,
    )
    lines = dict(line.split(":", 1) for line in done.stdout.splitlines() if ":" in line)
    assert "loaded" in lines, done.stdout + done.stderr
    return lines["loaded"].split(), lines["exit"].strip()


def test_a_log_task_loads_no_heavy_module(tmp_path: Path) -> None:
    flow = tmp_path / "log.yml"
    flow.write_text(
        "id: one\nnamespace: test\ntasks:\n  - id: hi\n    type: plait.core.Log\n    message: hi\n"
    )
    loaded, code = _run_and_list(flow, tmp_path / "home")
    assert code in ("0", "None")
    assert loaded == []


@pytest.mark.slow
def test_a_python_task_in_a_local_process_loads_no_docker_sdk(tmp_path: Path) -> None:
    """The probe itself can fail: a flow whose HTTP task runs does load httpx."""
    flow = tmp_path / "py.yml"
    flow.write_text(
        "id: py\nnamespace: test\ntasks:\n"
        "  - id: py\n    type: io.kestra.plugin.scripts.python.Script\n    runner: PROCESS\n"
        "    script: print('hi')\n"
        "  - id: http\n    type: io.kestra.plugin.core.http.Request\n"
        "    uri: http://127.0.0.1:9/unreachable\n"
        "    allowFailure: true\n"
    )
    loaded, _ = _run_and_list(flow, tmp_path / "home")
    assert "docker" not in loaded and "requests" not in loaded
    assert "httpx" in loaded
