"""Task-level policies the executor applies: retry, allowFailure, logLevel, timeout."""

from __future__ import annotations

import time
import types
from pathlib import Path

import pytest
from plait.api import Engine
from plait_sdk import Task, TaskFailure, TaskOutputs, TaskProperties, hookimpl, prop


class FlakyProperties(TaskProperties):
    failures: int = prop(description="How many attempts fail before one succeeds.")
    marker: str = prop(description="A file counting the attempts.")


class Flaky(Task[FlakyProperties, TaskOutputs]):
    """Fails a given number of times, then succeeds (test task)."""

    type = "test.Flaky"
    Properties = FlakyProperties

    def run(self, props: FlakyProperties, ctx) -> TaskOutputs:
        marker = Path(props.marker)
        attempts = int(marker.read_text()) + 1 if marker.exists() else 1
        marker.write_text(str(attempts))
        ctx.log.debug(f"attempt {attempts}")
        ctx.log.info("info line")
        if attempts <= props.failures:
            raise TaskFailure(f"failure number {attempts}")
        return TaskOutputs()


class Slow(Task[TaskProperties, TaskOutputs]):
    """Sleeps until cancelled (test task)."""

    type = "test.Slow"

    def run(self, props: TaskProperties, ctx) -> TaskOutputs:
        while not ctx.cancelled():
            time.sleep(0.01)
        raise TaskFailure("cancelled")


def _plugin() -> types.ModuleType:
    module = types.ModuleType("policies_plugin")

    @hookimpl
    def register_task_types():
        return [Flaky, Slow]

    module.register_task_types = register_task_types
    return module


@pytest.fixture
def engine(tmp_path: Path):
    engine = Engine.create(home=tmp_path / "home", extra_plugins=[_plugin()])
    yield engine
    engine.close()


def _flow(tmp_path: Path, failures: int, retry: str = "", extra: str = "") -> str:
    return (
        "id: flaky\nnamespace: dev\ntasks:\n  - id: f\n    type: test.Flaky\n"
        f"    failures: {failures}\n    marker: {tmp_path / 'attempts'}\n{retry}{extra}"
    )


def test_constant_retry_until_success(engine, tmp_path):
    retry = "    retry:\n      type: constant\n      interval: PT0.01S\n      maxAttempt: 3\n"
    execution = engine.run(_flow(tmp_path, failures=2, retry=retry))
    run = execution.task_run("f")
    assert str(execution.state) == "SUCCESS"
    assert len(run.attempts) == 3
    messages = [e.message for e in engine.repository.logs(execution.id)]
    assert any("attempt 1 failed: failure number 1" in m for m in messages)


def test_retry_gives_up_after_max_attempts(engine, tmp_path):
    retry = "    retry:\n      type: exponential\n      interval: PT0.01S\n      maxAttempt: 2\n"
    execution = engine.run(_flow(tmp_path, failures=5, retry=retry))
    run = execution.task_run("f")
    assert str(run.state) == "FAILED"
    assert len(run.attempts) == 2
    assert run.error == "failure number 2"


def test_warning_on_retry(engine, tmp_path):
    retry = (
        "    retry:\n      type: constant\n      interval: PT0.01S\n      maxAttempt: 2\n"
        "      warningOnRetry: true\n"
    )
    execution = engine.run(_flow(tmp_path, failures=1, retry=retry))
    assert str(execution.task_run("f").state) == "WARNING"
    assert str(execution.state) == "WARNING"


def test_no_retry_fails_at_once(engine, tmp_path):
    execution = engine.run(_flow(tmp_path, failures=1))
    assert len(execution.task_run("f").attempts) == 1
    assert str(execution.state) == "FAILED"


def test_log_level_drops_lower_lines(engine, tmp_path):
    execution = engine.run(_flow(tmp_path, failures=0, extra="    logLevel: INFO\n"))
    messages = [e.message for e in engine.repository.logs(execution.id, task_id="f")]
    assert messages == ["info line"]
    (tmp_path / "again").mkdir()
    debug = engine.run(_flow(tmp_path / "again", failures=0))
    assert "attempt 1" in [e.message for e in engine.repository.logs(debug.id, task_id="f")]


def test_allow_failure_from_plugin_defaults(engine, tmp_path):
    flow = _flow(tmp_path, failures=1) + (
        "  - id: after\n    type: plait.core.Return\n    format: ran\n"
        "pluginDefaults:\n  - type: test.\n    values:\n      allowFailure: true\n"
    )
    execution = engine.run(flow)
    assert str(execution.state) == "WARNING"
    assert execution.task_run("after").outputs == {"value": "ran"}


def test_engine_timeout_cancels_the_task(engine):
    flow = "id: slow\nnamespace: dev\ntasks:\n  - id: s\n    type: test.Slow\n    timeout: PT0.2S\n"
    execution = engine.run(flow)
    run = execution.task_run("s")
    assert str(run.state) == "FAILED"
    assert "timed out after PT0.2S" in run.error
