"""fetchType STORE onto a real full disk (a tiny tmpfs, which needs root; the tests skip
elsewhere): one line naming the file and the cause, no part of the result left in storage."""

from __future__ import annotations

import re
from collections.abc import Callable

from plait_sdk.testing import PlaitRunner, TaskRunResult, files_in, tiny_filesystem

RunQuery = Callable[..., TaskRunResult]
MB = 1024 * 1024
BIG_RESULT = "SELECT range AS n, repeat('x', 100) AS pad FROM range(100000)"
"""About 12 MB of JSON lines."""


def test_result_onto_a_full_storage(plait_runner: PlaitRunner, run_query: RunQuery) -> None:
    """The result is written in the working directory, then copied to storage (another disk)."""
    with tiny_filesystem(plait_runner.home / "storage", MB) as storage:
        result = run_query(sql=BIG_RESULT, fetchType="STORE")

        assert result.state == "FAILED"
        assert re.fullmatch(
            r"cannot write plait:///\S+/result-\w+\.jsonl: No space left on device",
            result.error or "",
        ), result.error
        assert files_in(storage) == []


def test_result_onto_a_full_working_directory(
    plait_runner: PlaitRunner, run_query: RunQuery
) -> None:
    """DuckDB itself cannot write the result: its JSON-laden IO Error becomes the same line."""
    work = plait_runner.home / "work"
    with tiny_filesystem(work, MB):
        result = run_query(sql=BIG_RESULT, fetchType="STORE")

        assert result.state == "FAILED"
        assert re.fullmatch(
            rf"cannot write {re.escape(str(work))}/\w+/\w+/result-\w+\.jsonl: "
            "No space left on device",
            result.error or "",
        ), result.error
        assert files_in(work) == []
    assert files_in(plait_runner.home / "storage") == []
