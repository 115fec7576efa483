"""The tree of task runs: loops grouped by value (long ones summed up), redrawn live in a
terminal, plain log lines elsewhere."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

from plait.cli.tree import VALUES_SHOWN, TaskRunTree
from support.flows import make_engine, run_text

LOOP = """\
id: many
namespace: dev
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: {values}
    tasks:
      - id: child
        type: io.kestra.plugin.core.execution.Fail
        condition: "{{{{ taskrun.value == 'v3' }}}}"
        allowFailure: true
"""


def test_long_loops_are_summed_up_but_notable_values_stay(tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "home")
    try:
        values = [f"v{i}" for i in range(20)]
        execution = run_text(engine, LOOP.format(values=values))
    finally:
        engine.close()
    lines = TaskRunTree(execution).lines()
    shown = [line.strip() for line in lines if line.strip().startswith("[")]
    assert shown == [f"[v{i}]" for i in range(VALUES_SHOWN)]
    assert lines[-1].strip() == f"… {20 - VALUES_SHOWN} more values: {20 - VALUES_SHOWN} SUCCESS"
    warned = next(i for i, line in enumerate(lines) if line.strip() == "[v3]")
    assert "WARNING" in lines[warned + 1]
    assert lines[0].split()[:2] == ["each", "WARNING"]


def test_the_live_tree_is_redrawn_in_a_terminal(tmp_path: Path) -> None:
    flow = tmp_path / "flow.yml"
    flow.write_text(
        "id: live\nnamespace: dev\ntasks:\n  - id: both\n"
        "    type: io.kestra.plugin.core.flow.Parallel\n    tasks:\n"
        "      - id: nap\n        type: io.kestra.plugin.core.flow.Sleep\n"
        "        duration: PT0.5S\n"
        "      - id: hello\n        type: plait.core.Log\n        message: hello\n"
    )
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "plait.cli", "run", str(flow)],
        env={**os.environ, "PLAIT_HOME": str(tmp_path / "home"), "COLUMNS": "100"},
        stdout=subprocess.PIPE,
        stderr=follower,
        text=True,
    )
    os.close(follower)
    seen = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the process closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    out, _ = proc.communicate(timeout=30)
    os.close(leader)
    terminal = seen.decode()
    assert proc.returncode == 0
    assert "\x1b[" in terminal, "the tree was never redrawn in place"
    assert "nap" in terminal and "RUNNING" in terminal
    assert "INFO  [hello] hello" in terminal
    assert out.splitlines()[1].split()[:2] == ["both", "SUCCESS"]


def test_without_a_terminal_only_log_lines_are_printed(tmp_path: Path) -> None:
    flow = tmp_path / "flow.yml"
    flow.write_text(
        "id: plain\nnamespace: dev\ntasks:\n  - id: hello\n    type: plait.core.Log\n"
        "    message: hello\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "plait.cli", "run", str(flow)],
        env={**os.environ, "PLAIT_HOME": str(tmp_path / "home")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stderr == "INFO  [hello] hello\n"
