"""The local process runner on its own: live output, and kills that reach every child."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from plait_python.process import run_process
from plait_python.streams import STDERR, STDOUT, Watch

HANDSHAKE = """
import os, sys, time
print("ready", flush=True)
for _ in range(600):
    if os.path.exists("go"):
        print("done")
        break
    time.sleep(0.1)
else:
    print("never saw the go file: output was not read while the process ran")
"""


def _never() -> bool:
    return False


def test_lines_arrive_while_the_process_runs(tmp_path: Path) -> None:
    """The child waits for a file that the reader creates on seeing its first line: buffered
    reading would deadlock until the child gives up."""
    seen: list[tuple[str, str]] = []

    def on_line(stream: str, line: str) -> None:
        seen.append((stream, line))
        if line == "ready":
            (tmp_path / "go").touch()

    finished = run_process(
        [sys.executable, "-c", HANDSHAKE],
        cwd=tmp_path,
        env=dict(os.environ),
        on_line=on_line,
        watch=Watch(cancelled=_never),
    )
    assert finished.exit_code == 0
    assert seen == [(STDOUT, "ready"), (STDOUT, "done")]


def test_streams_keep_their_own_order(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "for i in range(200):\n"
        "    print(f'out {i}')\n"
        "    print(f'err {i}', file=sys.stderr)\n"
    )
    seen: list[tuple[str, str]] = []
    finished = run_process(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=dict(os.environ),
        on_line=lambda stream, line: seen.append((stream, line)),
        watch=Watch(cancelled=_never),
    )
    assert (finished.exit_code, finished.cancelled) == (0, False)
    assert [line for stream, line in seen if stream == STDOUT] == [f"out {i}" for i in range(200)]
    assert [line for stream, line in seen if stream == STDERR] == [f"err {i}" for i in range(200)]


def test_cancel_kills_the_whole_process_group(
    tmp_path: Path, process_gone: Callable[[int], bool]
) -> None:
    script = (
        "(trap '' TERM; sh -c 'echo $$ > child.pid; exec sleep 300') &\n"
        "while [ ! -s child.pid ]; do sleep 0.05; done\n"
        "echo started\n"
        "sleep 300\n"
    )
    seen: list[str] = []
    finished = run_process(
        ["/bin/sh", "-c", script],
        cwd=tmp_path,
        env=dict(os.environ),
        on_line=lambda stream, line: seen.append(line),
        watch=Watch(cancelled=lambda: seen == ["started"]),
    )
    assert finished.cancelled
    assert finished.exit_code != 0
    assert seen == ["started"]
    child = int((tmp_path / "child.pid").read_text())
    assert process_gone(child), f"background child {child} survived the kill"


def test_output_held_by_a_background_child_does_not_block_forever(tmp_path: Path) -> None:
    """The shell exits at once but its background child keeps the pipes open."""
    seen: list[str] = []
    finished = run_process(
        ["/bin/sh", "-c", "echo first; sleep 300 &"],
        cwd=tmp_path,
        env=dict(os.environ),
        on_line=lambda stream, line: seen.append(line),
        watch=Watch(cancelled=_never),
    )
    assert (finished.exit_code, finished.cancelled) == (0, False)
    assert seen == ["first"]
