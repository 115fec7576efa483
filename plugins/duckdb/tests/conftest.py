"""Fixtures of the plait-duckdb tests: every test runs the task through the real engine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from plait_sdk.testing import PlaitRunner, TaskRunResult

QUERY = "plait.duckdb.Query"


@pytest.fixture
def run_query(plait_runner: PlaitRunner) -> Callable[..., TaskRunResult]:
    """Run one Query task with the given properties."""

    def run(**properties: Any) -> TaskRunResult:
        return plait_runner.run_task(QUERY, properties)

    return run
