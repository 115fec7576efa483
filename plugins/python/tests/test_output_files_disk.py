"""A script's files on a real full disk (a tiny tmpfs, which needs root; the tests skip
elsewhere): one line naming the file and the cause, no part of a file left in storage."""

from __future__ import annotations

import re

from plait_python.tasks import SCRIPT_FILE
from plait_sdk.testing import PlaitRunner, files_in, tiny_filesystem

SCRIPT = "plait.python.Script"
MB = 1024 * 1024


def test_output_file_onto_a_full_storage(plait_runner: PlaitRunner) -> None:
    script = 'with open("{{ outputDir }}/big.bin", "wb") as out:\n    out.write(b"x" * 2_000_000)\n'
    with tiny_filesystem(plait_runner.home / "storage", MB) as storage:
        result = plait_runner.run_task(SCRIPT, {"script": script})

        assert result.state == "FAILED"
        assert re.fullmatch(
            r"cannot write plait:///\S+/big\.bin: No space left on device", result.error or ""
        ), result.error
        assert files_in(storage) == []


def test_script_file_onto_a_full_working_directory(plait_runner: PlaitRunner) -> None:
    """The script itself does not fit: named by its path in the working directory."""
    script = "# " + "padding " * 2048 + "\nprint('never runs')\n"
    work = plait_runner.home / "work"
    with tiny_filesystem(work, 4096):
        result = plait_runner.run_task(SCRIPT, {"script": script})

    assert result.state == "FAILED"
    assert re.fullmatch(
        rf"cannot write {re.escape(str(work))}/\w+/\w+/{SCRIPT_FILE}: No space left on device",
        result.error or "",
    ), result.error
