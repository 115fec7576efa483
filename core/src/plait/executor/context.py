"""The run context handed to tasks, and the services expressions use during an execution."""

from __future__ import annotations

import contextlib
import shutil
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plait_sdk.context import SubflowRun

from plait.errors import ExpressionError, PlaitError, StorageError
from plait.executor.log_file import LogFile
from plait.executor.masking import SecretMasker
from plait.state.kv import NamespaceKV
from plait.state.model import LogEntry, TaskRun
from plait.storage.internal import TaskRunStorage

if TYPE_CHECKING:
    from plait.executor.runner import ExecutionRun


LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR")
MAX_ERROR_LOGS = 25
"""``errorLogs()`` returns at most this many entries, as Kestra's does."""


class TaskRunLogger:
    """Drops lines below the task's ``logLevel``, then records the line (masked) and passes it
    to the listener."""

    def __init__(
        self,
        run: ExecutionRun,
        task_id: str,
        taskrun_id: str,
        level: str | None = None,
        file: LogFile | None = None,
    ) -> None:
        self._run = run
        self._task_id = task_id
        self._taskrun_id = taskrun_id
        self._threshold = LEVELS.index(level) if level in LEVELS else 0
        self.file = file
        """Where the lines go instead of the logs, when the task has ``logToFile``."""

    def _emit(self, level: str, message: str) -> None:
        if LEVELS.index(level) < self._threshold:
            return
        if self.file is None:
            self._run.record_log(level, message, self._task_id, self._taskrun_id)
            return
        masked = self._run.masker.mask(message)
        entry = log_entry(self._run.execution.id, level, masked, self._task_id, self._taskrun_id)
        self.file.write(entry)
        self._run.listener.log(entry)

    def debug(self, message: str) -> None:
        self._emit("DEBUG", message)

    def info(self, message: str) -> None:
        self._emit("INFO", message)

    def warning(self, message: str) -> None:
        self._emit("WARN", message)

    def error(self, message: str) -> None:
        self._emit("ERROR", message)


class ExecutionServices:
    """What context-aware expression filters and functions may use (plait_sdk.ExpressionServices).

    Reads are limited to the current execution's files; secrets are registered for masking.
    """

    def __init__(
        self,
        run: ExecutionRun,
        variables: Mapping[str, Any],
        render: Callable[[str, Mapping[str, Any]], Any],
    ) -> None:
        self._run = run
        self._variables = dict(variables)
        self._render = render
        self.execution_id: str | None = run.execution.id

    def read(self, uri: str) -> str:
        try:
            with self._run.scoped_storage().open(uri) as stream:
                return stream.read().decode("utf-8")
        except StorageError as exc:
            raise ExpressionError(f"read('{uri}'): {exc}") from None

    def file_size(self, uri: str) -> int:
        try:
            return self._run.scoped_storage().size(uri)
        except StorageError as exc:
            raise ExpressionError(f"fileSize('{uri}'): {exc}") from None

    def error_logs(self) -> list[dict[str, Any]]:
        """Kestra's LogService.errorLogs: the first ERROR entries by time (the worker logs a
        failed task's error at ERROR, so an ``errors`` branch sees why the tasks failed)."""
        entries = self._run.engine.repository.logs(self._run.execution.id)
        errors = sorted((e for e in entries if e.level == "ERROR"), key=lambda e: e.timestamp)
        return [log_variable(self._run, entry) for entry in errors[:MAX_ERROR_LOGS]]

    def secret(self, name: str) -> str:
        return self._run.secret(name)

    def render(self, template: str) -> Any:
        return self._render(template, self._variables)

    def variables(self) -> dict[str, Any]:
        return dict(self._variables)

    def kv(self, namespace: str | None = None) -> NamespaceKV:
        return NamespaceKV(self._run.engine.repository, namespace or self._run.execution.namespace)


class TaskRunContext:
    """One task run's view of the engine (implements plait_sdk.RunContext)."""

    def __init__(
        self,
        job: ExecutionRun,
        run: TaskRun,
        *,
        log_level: str | None = None,
        log_to_file: bool = False,
        attempts_before: int | None = None,
    ) -> None:
        execution = job.execution
        self.attempts_before = attempts_before
        """The attempts this run made before this one (``taskrun.attemptsCount``), when the
        worker counts them (its retries are not in the stored run yet)."""
        self._run = job
        self.run = run
        self.execution_id = execution.id
        self.namespace = execution.namespace
        self.flow_id = execution.flow_id
        self.task_id = task_id = run.task_id
        self.taskrun_id = taskrun_id = run.id
        self.log = TaskRunLogger(
            job, task_id, taskrun_id, log_level, LogFile() if log_to_file else None
        )
        self.storage: TaskRunStorage = job.engine.storage.for_task_run(
            namespace=execution.namespace,
            flow_id=execution.flow_id,
            execution_id=execution.id,
            task_id=task_id,
            taskrun_id=taskrun_id,
        )
        self.variables: dict[str, Any] = {}
        self.warnings: list[str] = []
        self._working_dir: Path | None = None
        self._cancel = threading.Event()

    @property
    def masker(self) -> SecretMasker:
        return self._run.masker

    def render(self, value: Any, variables: Mapping[str, Any] | None = None) -> Any:
        merged = {**self.variables, **(variables or {})}
        return self._run.render(value, merged, task_id=self.task_id)

    def working_dir(self) -> Path:
        if self._working_dir is None:
            path = self._run.engine.settings.home / "work" / self.execution_id / self.taskrun_id
            try:
                path.mkdir(parents=True, exist_ok=True)
            except FileNotFoundError:  # the execution's folder, just made, was removed (empty)
                path.mkdir(parents=True, exist_ok=True)  # by another task run's cleanup
            self._working_dir = path
        return self._working_dir

    def cache_dir(self, name: str) -> Path:
        path = self._run.engine.settings.home / "cache" / safe_cache_name(name)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def flag_warning(self, reason: str) -> None:
        self.warnings.append(reason)

    def mask(self, text: str) -> str:
        return self._run.masker.mask(text)

    def run_subflow(
        self,
        namespace: str,
        flow_id: str,
        inputs: Mapping[str, Any],
        *,
        wait: bool,
        labels: Mapping[str, str] | None = None,
        inherit_labels: bool = False,
    ) -> SubflowRun:
        return self._run.run_subflow(
            namespace,
            flow_id,
            inputs,
            wait=wait,
            stop=self._cancel,
            labels=labels,
            inherit_labels=inherit_labels,
        )

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def kv(self, namespace: str | None = None) -> NamespaceKV:
        return NamespaceKV(self._run.engine.repository, namespace or self.namespace)

    def cancel(self) -> None:
        self._cancel.set()

    def store_log_file(self, attempt: int) -> str | None:
        """With ``logToFile``, store the attempt's lines among the task run's files and say
        where in the logs; returns the file's URI (None without lines or a file)."""
        if self.log.file is None:
            return None
        try:
            uri = self.log.file.store(self.storage, f"log-attempt-{attempt}.txt")
        except (PlaitError, OSError) as exc:
            self._run.record_log("WARN", f"the log file was not stored: {exc}", *self._ids())
            return None
        if uri is not None:
            self._run.record_log("INFO", f"log lines of attempt {attempt}: {uri}", *self._ids())
        return uri

    def _ids(self) -> tuple[str, str]:
        return self.task_id, self.taskrun_id

    def cleanup(self) -> None:
        """Remove the task run's working directory, and the execution's folder above it once
        empty: on a worker machine nothing else would (the driver removes it on its own)."""
        if self._working_dir is not None:
            shutil.rmtree(self._working_dir, ignore_errors=True)
            with contextlib.suppress(OSError):  # another task run of the execution uses it
                self._working_dir.parent.rmdir()


def safe_cache_name(name: str) -> str:
    """One plain path segment: a cache name never reaches outside ``<home>/cache``."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name:
        raise PlaitError(f"invalid cache directory name {name!r}")
    return name


def now() -> datetime:
    return datetime.now(UTC)


def log_entry(
    execution_id: str, level: str, message: str, task_id: str | None, taskrun_id: str | None
) -> LogEntry:
    return LogEntry(
        execution_id=execution_id,
        task_id=task_id,
        taskrun_id=taskrun_id,
        level=level,
        message=message,
        timestamp=now(),
    )


def log_variable(run: ExecutionRun, entry: LogEntry) -> dict[str, Any]:
    """A log entry as expressions see it: the fields of Kestra's LogEntry plait has."""
    return {
        "namespace": run.execution.namespace,
        "flowId": run.execution.flow_id,
        "executionId": entry.execution_id,
        "taskId": entry.task_id,
        "taskRunId": entry.taskrun_id,
        "level": entry.level,
        "message": entry.message,
        "timestamp": entry.timestamp,
    }
