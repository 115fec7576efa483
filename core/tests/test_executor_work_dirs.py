"""Task runs' working directories: ``PLAIT_HOME/work/<execution>/<task run>``, removed when the
task run ends, and the execution's folder with the last one (a worker machine has no driver to
remove it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from plait.api import Engine
from plait.executor.context import TaskRunContext
from plait.executor.runner import ExecutionRun
from plait.state.model import TaskRun

FLOW = """
id: dirs
namespace: tests
tasks:
  - id: a
    type: io.kestra.plugin.core.debug.Return
    format: x
"""


@pytest.fixture
def job(tmp_path: Path):
    engine = Engine.create(home=tmp_path / "home")
    try:
        yield engine.prepare(engine.load(FLOW))
    finally:
        engine.close()


def _context(job: ExecutionRun) -> TaskRunContext:
    return TaskRunContext(job, TaskRun.new("a"))


def test_the_last_task_run_cleaned_up_removes_the_execution_folder(job: ExecutionRun) -> None:
    first, second = _context(job), _context(job)
    (first.working_dir() / "out.txt").write_text("1")
    (second.working_dir() / "out.txt").write_text("2")
    execution_folder = first.working_dir().parent
    assert execution_folder == job.engine.settings.home / "work" / job.execution.id

    first.cleanup()
    assert sorted(p.name for p in execution_folder.iterdir()) == [second.taskrun_id]

    second.cleanup()
    assert not execution_folder.exists()
    assert (job.engine.settings.home / "work").is_dir()  # only the execution's own folder goes


def test_a_task_run_starting_after_the_folder_went_makes_it_again(job: ExecutionRun) -> None:
    first = _context(job)
    first.working_dir()
    first.cleanup()

    again = _context(job)
    folder = again.working_dir()
    assert folder.is_dir()
    again.cleanup()
    assert not folder.parent.exists()
