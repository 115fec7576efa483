"""The plugin author's test harness, loaded by pytest through the ``pytest11`` entry point.

Fixtures run one task, or a whole flow, on a temporary ``PLAIT_HOME`` with the real engine (the
``plait`` distribution must be installed in the test environment). Nothing global is touched:
each test gets its own home, state database and internal storage.

    def test_hello(plait_runner):
        result = plait_runner.run_task("plait.core.Return", {"format": "hi"})
        assert result.state == "SUCCESS"
        assert result.outputs["value"] == "hi"
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from plait_sdk.task import Task


@dataclass
class LogLine:
    level: str
    message: str
    task_id: str | None = None
    taskrun_id: str | None = None


@dataclass
class TaskRunResult:
    """One task run: its final state, outputs, error message and log lines."""

    task_id: str
    state: str
    outputs: dict[str, Any]
    error: str | None
    logs: list[LogLine]
    runner: PlaitRunner = field(repr=False)
    value: str | None = None
    """The loop value of the run (a task inside a ForEach runs once per value)."""

    def read(self, uri: str) -> bytes:
        """Bytes of a file the run stored (``plait://`` URI)."""
        return self.runner.read(uri)


@dataclass
class FlowRunResult:
    """A whole execution: state, flow outputs, task runs (all, and the last one by task id),
    all log lines."""

    execution_id: str
    state: str
    outputs: dict[str, Any]
    tasks: dict[str, TaskRunResult]
    logs: list[LogLine]
    document: dict[str, Any]
    runner: PlaitRunner = field(repr=False)
    runs: list[TaskRunResult] = field(default_factory=list)
    """Every task run in order, loop iterations and nested tasks included."""

    def read(self, uri: str) -> bytes:
        return self.runner.read(uri)


class PlaitRunner:
    """Runs flows and single tasks with the real engine on a private home directory."""

    def __init__(
        self,
        home: Path,
        load_plugins: Sequence[str] | None = None,
        plugins: Sequence[ModuleType] = (),
    ) -> None:
        """``load_plugins`` restricts the installed plugins that load (None = all); ``plugins``
        adds plugin modules that are not installed, such as the one under test."""
        try:
            from plait.api import Engine
        except ImportError as exc:  # pragma: no cover - only without the core installed
            raise RuntimeError(
                "the plait test harness needs the `plait` distribution installed next to "
                "plait-sdk (add it to your test dependencies)"
            ) from exc
        self.home = home
        self.engine = Engine.create(home=home, load_plugins=load_plugins, extra_plugins=plugins)

    def run_flow(self, flow: str, inputs: Mapping[str, Any] | None = None) -> FlowRunResult:
        """Run a flow given as YAML text; validation errors raise, task failures do not."""
        execution = self.engine.run(flow, inputs=dict(inputs or {}))
        document = execution.to_document()
        logs = [
            LogLine(entry.level, entry.message, entry.task_id, entry.taskrun_id)
            for entry in self.engine.repository.logs(execution.id)
        ]
        runs = [
            TaskRunResult(
                task_id=run.task_id,
                state=str(run.state),
                outputs=dict(run.outputs or {}),
                error=run.error,
                logs=[line for line in logs if line.taskrun_id == run.id],
                runner=self,
                value=run.value,
            )
            for run in execution.task_runs
        ]
        return FlowRunResult(
            execution_id=execution.id,
            state=str(execution.state),
            outputs=dict(execution.outputs or {}),
            tasks={run.task_id: run for run in runs},
            logs=logs,
            document=document,
            runner=self,
            runs=runs,
        )

    def run_task(
        self,
        task_type: str,
        properties: Mapping[str, Any],
        *,
        task_id: str = "task",
        inputs: Mapping[str, Any] | None = None,
    ) -> TaskRunResult:
        """Run a single task of ``task_type`` with ``properties`` as a one-task flow."""
        import json

        task = {"id": task_id, "type": task_type, **properties}
        # JSON is valid YAML: the flow text keeps every property exactly as given.
        flow = json.dumps({"id": "harness", "namespace": "test.harness", "tasks": [task]})
        return self.run_flow(flow, inputs).tasks[task_id]

    def read(self, uri: str) -> bytes:
        with self.engine.storage.open(uri) as stream:
            return stream.read()


def check_task_type(
    task: type[Task[Any, Any]],
    runner: PlaitRunner,
    *,
    run_examples: bool = True,
    examples_must_run: bool = True,
) -> None:
    """Fail the test unless ``task`` honours the plugin contract, as ``plait plugin check``
    checks it: described schemas, examples that validate (and run to SUCCESS, with outputs
    matching the output schema), unique ids and aliases registered to it.

    ``examples_must_run=False`` tolerates examples that cannot run in the test environment
    (they call a remote service, say); ``run_examples=False`` skips running them."""
    from plait.contract import check_task_type as check
    from plait.contract import problems

    findings = check(task, runner.engine, run=run_examples, must_run=examples_must_run)
    found = problems(findings)
    if found:
        pytest.fail(
            f"{task.type} breaks the plugin contract:\n" + "\n".join(f"  {f}" for f in found),
            pytrace=False,
        )


@contextmanager
def tiny_filesystem(path: Path, size: int, *, read_only: bool = False) -> Iterator[Path]:
    """A real filesystem of ``size`` bytes mounted at ``path`` (a tmpfs) for the block.

    Writing more than ``size`` bytes there fails with the kernel's own "No space left on
    device", and ``read_only=True`` gives "Read-only file system": what a task meets on a full
    or read-only disk, with no mock. Mounting needs root (or CAP_SYS_ADMIN) on Linux; the test
    is skipped where it cannot mount."""
    path.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if read_only else "")
    try:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        problem = mounted.stderr.strip() if mounted.returncode else None
    except OSError as exc:  # no mount command at all
        problem = str(exc)
    if problem is not None:
        pytest.skip(f"cannot mount a tmpfs at {path}: {problem}")
    try:
        yield path
    finally:
        # Lazy: a process that still holds a file open there does not fail the teardown.
        subprocess.run(["umount", "--lazy", str(path)], check=True)


def files_in(folder: Path) -> list[str]:
    """Every file under ``folder`` (relative paths, sorted), hidden temporary files included:
    what a test compares with ``[]`` to show that a failed write left nothing behind."""
    return sorted(
        Path(parent, name).relative_to(folder).as_posix()
        for parent, _, names in os.walk(folder)
        for name in names
    )


@pytest.fixture
def plait_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh ``PLAIT_HOME`` for this test, also set in the environment.

    The shell's plugin selection (``PLAIT_LOAD_PLUGINS``) and installed distribution config
    (``PLAIT_DISTRIBUTION``) are switched off, so a test sees every installed plugin whatever
    the developer's environment says."""
    home = tmp_path / "plait-home"
    home.mkdir()
    monkeypatch.setenv("PLAIT_HOME", str(home))
    monkeypatch.delenv("PLAIT_LOAD_PLUGINS", raising=False)
    monkeypatch.setenv("PLAIT_DISTRIBUTION", "")
    return home


@pytest.fixture
def plait_runner(plait_home: Path) -> Iterator[PlaitRunner]:
    """A :class:`PlaitRunner` on a fresh home, with every installed plugin loaded."""
    runner = PlaitRunner(plait_home)
    yield runner
    runner.engine.close()
