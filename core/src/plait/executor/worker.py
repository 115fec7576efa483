"""Workers: run one task run (render its properties, call the task type, retry, time out) and
report a result. A worker never decides what runs next; the executor does."""

from __future__ import annotations

import threading
import time
import traceback
from typing import TYPE_CHECKING, Any

from plait_sdk import TaskFailure, os_error_message
from plait_sdk.task import Task

from plait.durations import parse_duration
from plait.errors import PlaitError
from plait.executor import task_cache
from plait.executor.context import TaskRunContext
from plait.executor.properties import render_properties, validate_properties
from plait.executor.queue import WorkItem, WorkResult
from plait.executor.retry import RetryPolicy
from plait.expressions import budget
from plait.flows import Flow, TaskDef, with_plugin_defaults
from plait.state.model import Attempt, State

if TYPE_CHECKING:
    from plait.executor.runner import ExecutionRun
    from plait.executor.services import EngineServices


class Worker:
    """Runs the items of the executions this process drives (the embedded queue's runner)."""

    def __init__(self) -> None:
        self._jobs: dict[str, ExecutionRun] = {}
        self._lock = threading.Lock()

    def register(self, job: ExecutionRun) -> None:
        with self._lock:
            self._jobs[job.execution.id] = job

    def unregister(self, job: ExecutionRun) -> None:
        with self._lock:
            self._jobs.pop(job.execution.id, None)

    def run(self, item: WorkItem) -> WorkResult:
        with self._lock:
            job = self._jobs.get(item.execution_id)
        if job is None:  # the execution ended (killed) before the item was claimed
            return WorkResult(item.execution_id, item.taskrun_id, item.attempt, State.KILLED)
        return run_task_run(job, item)

    def cancel(self, execution_id: str) -> None:
        with self._lock:
            job = self._jobs.get(execution_id)
        if job is not None:
            job.cancel_tasks()


def run_task_run(job: ExecutionRun, item: WorkItem) -> WorkResult:
    """One task run to its end, with its retries: SUCCESS, WARNING, FAILED or KILLED."""
    run = job.index.runs[item.taskrun_id]
    task = job.index.task(run.task_id)
    result = WorkResult(item.execution_id, run.id, item.attempt, State.FAILED)
    started = time.monotonic()
    number = item.attempt
    while True:
        attempt, attempt_number = Attempt.new(), number  # ``number`` moves on before a retry
        result.attempts.append(attempt)
        ctx = TaskRunContext(
            job,
            run,
            log_level=task.log_level,
            log_to_file=_logs_to_file(job, task),
            attempts_before=number - 1,
        )
        job.track(run.id, ctx)
        try:
            if job.cancelled:
                raise TaskFailure("killed")
            outputs = call_task(job, task_class(job, task), task, ctx)
        except Exception as exc:
            message = failure_message(job, exc, ctx, task, run.id)
            killed = job.cancelled
            policy = RetryPolicy.from_config(task.retry)
            elapsed = time.monotonic() - started
            wait = None if killed or policy is None else policy.delay(number, elapsed)
            attempt.transition(State.KILLED if killed else State.FAILED)
            if wait is None:
                result.state, result.error = attempt.state, "killed" if killed else message
                if not killed:
                    job.record_log("ERROR", message, task.id, run.id)
                return result
            job.record_log(
                "WARN",
                f"attempt {number} failed: {message}; retrying in {wait:g}s",
                task.id,
                run.id,
            )
            time.sleep(wait)
            number += 1
        else:
            for reason in ctx.warnings:
                job.record_log("WARN", reason, task.id, run.id)
            retried = len(result.attempts) > 1 and _warns_on_retry(task)
            warned = bool(ctx.warnings) or retried
            attempt.transition(State.WARNING if warned else State.SUCCESS)
            result.state, result.outputs = attempt.state, outputs
            return result
        finally:
            attempt.log_file = ctx.store_log_file(attempt_number)
            job.untrack(run.id)
            ctx.cleanup()


def effective_task(engine: EngineServices, flow: Flow, task: TaskDef) -> TaskDef:
    """The task as it runs: plugin defaults applied (as written when its type is unknown)."""
    cls = engine.registry.find_task_type(task.type)
    if cls is None:
        return task
    return with_plugin_defaults(
        task,
        cls.type,
        flow.plugin_defaults,
        aliases=cls.aliases,
        global_defaults=engine.global_defaults,
    )


def task_class(job: ExecutionRun, task: TaskDef) -> type[Task[Any, Any]]:
    """The task's type (the index already holds the task with its plugin defaults)."""
    registry = job.engine.registry
    cls = registry.find_task_type(task.type)
    if cls is None:  # validated before the run; a plugin may have vanished since
        raise TaskFailure(registry.unknown_task_type_message(task.type))
    return cls


def rendered_properties(
    job: ExecutionRun, cls: type[Task[Any, Any]], task: TaskDef, ctx: TaskRunContext
) -> tuple[Task[Any, Any], Any]:
    """The task's properties rendered against the run's variables, as its Properties model."""
    instance: Task[Any, Any] = cls()
    ctx.variables = job.variables_for(ctx.run)
    if ctx.attempts_before is not None:
        ctx.variables["taskrun"]["attemptsCount"] = ctx.attempts_before
    ctx.variables.update(instance.variables(task.properties, ctx))
    variables = ctx.variables
    rendered = render_properties(
        cls.Properties, task.properties, lambda value: job.render(value, variables, task_id=task.id)
    )
    return instance, validate_properties(cls.Properties, rendered)


def call_task(
    job: ExecutionRun, cls: type[Task[Any, Any]], task: TaskDef, ctx: TaskRunContext
) -> dict[str, Any]:
    deadline = _deadline(task)
    with budget.deadline_within(deadline):  # a task's timeout covers rendering it too
        instance, props = rendered_properties(job, cls, task, ctx)
    key = task_cache.cache_key(cls.type, props, ctx.run) if task.cache else None
    if key is not None and (cached := task_cache.reuse(job, task, ctx.run, key)) is not None:
        return cached
    result = _call_with_timeout(task, instance, props, ctx, deadline)
    if not isinstance(result, cls.Outputs):
        raise TaskFailure(
            f"task type {cls.type} returned {type(result).__name__}, "
            f"expected {cls.Outputs.__name__}"
        )
    outputs = dict(result.model_dump(mode="json", by_alias=True))
    if key is not None:
        task_cache.remember(job, task, ctx.run, key, outputs)
    return outputs


def _deadline(task: TaskDef) -> float | None:
    """When the task must be done (``time.monotonic()``), from its ``timeout``."""
    if not task.timeout:
        return None
    duration = parse_duration(task.timeout)
    if duration is None:  # validated before the run
        raise TaskFailure(f"invalid timeout '{task.timeout}': expected ISO-8601 like PT5M")
    return time.monotonic() + duration.total_seconds()


def _call_with_timeout(
    task: TaskDef, instance: Task[Any, Any], props: Any, ctx: TaskRunContext, deadline: float | None
) -> Any:
    if deadline is None:
        return instance.run(props, ctx)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            with budget.deadline_within(deadline):
                box["result"] = instance.run(props, ctx)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, name=f"task-{task.id}", daemon=True)
    thread.start()
    thread.join(max(0.0, deadline - time.monotonic()))
    if thread.is_alive():
        ctx.cancel()
        thread.join(5)
        raise TaskFailure(f"task '{task.id}' timed out after {task.timeout}")
    if "error" in box:
        raise box["error"]
    return box["result"]


def failure_message(
    job: ExecutionRun, exc: Exception, ctx: TaskRunContext, task: TaskDef, taskrun_id: str
) -> str:
    if isinstance(exc, TaskFailure | PlaitError):
        return ctx.mask(str(exc))
    if isinstance(exc, OSError) and (disk_error := os_error_message(exc)):
        return ctx.mask(disk_error)  # the machine's fault (full disk, permissions), not a bug
    # A bug in a task type: keep the traceback in the logs (at DEBUG).
    job.record_log("DEBUG", ctx.mask(traceback.format_exc()), task.id, taskrun_id)
    return ctx.mask(f"{type(exc).__name__}: {exc}")


def _logs_to_file(job: ExecutionRun, task: TaskDef) -> bool:
    """The task's ``logToFile``, else the flow's."""
    return job.flow.log_to_file if task.log_to_file is None else task.log_to_file


def _warns_on_retry(task: TaskDef) -> bool:
    policy = RetryPolicy.from_config(task.retry)
    return policy is not None and policy.warning_on_retry
