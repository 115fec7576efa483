"""The executor: runs a validated flow's tasks in order and records everything as it goes.

Every state change is saved in its own transaction, so a crash leaves a readable execution that
shows how far it got.
"""

from __future__ import annotations

import contextlib
import threading
import time
import traceback
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from plait_sdk import SubflowRun, TaskFailure
from plait_sdk.task import Task

from plait.durations import parse_duration
from plait.errors import (
    ExpressionError,
    FlowValidationError,
    NotFoundError,
    PlaitError,
    Problem,
    StorageError,
)
from plait.executor.context import ExecutionServices, TaskRunContext, log_entry
from plait.executor.events import ExecutionListener, NoListener
from plait.executor.masking import SecretMasker
from plait.executor.properties import render_properties, validate_properties
from plait.executor.retry import RetryPolicy
from plait.flows import Flow, InputDef, TaskDef, parse_flow, resolve_inputs, with_plugin_defaults
from plait.flows.input_types import InputValueError, coerce
from plait.state.model import Execution, State, TaskRun
from plait.storage import uris
from plait.storage.internal import TaskRunStorage

if TYPE_CHECKING:
    from plait.api import Engine


def new_taskrun_id() -> str:
    return uuid.uuid4().hex[:22]


class ExecutionRun:
    """One execution in progress: its state, variables, secrets and listener."""

    def __init__(
        self,
        engine: Engine,
        flow: Flow,
        execution: Execution,
        listener: ExecutionListener,
    ) -> None:
        self.engine = engine
        self.flow = flow
        self.execution = execution
        self.listener = listener
        self.masker = SecretMasker()
        self.outputs: dict[str, Any] = {}
        self.inputs: dict[str, Any] = {}
        self._children: list[threading.Thread] = []

    @classmethod
    def inspect(cls, engine: Engine, execution: Execution) -> ExecutionRun:
        """A finished execution's expression context, for evaluating expressions after the fact
        (secrets stay masked: only the masked values were stored)."""
        stored = engine.repository.get_flow(
            execution.namespace, execution.flow_id, execution.flow_revision
        )
        flow = parse_flow(stored.source, file=f"{execution.namespace}.{execution.flow_id}")
        view = cls(engine, flow, execution, NoListener())
        view.inputs = dict(execution.inputs)
        view.outputs = {run.task_id: run.outputs for run in execution.task_runs if run.outputs}
        return view

    def task_variables(self, task_id: str) -> dict[str, Any]:
        """Variables as task ``task_id`` saw them: base variables plus ``task``/``taskrun``."""
        if all(t.id != task_id for t in self.flow.tasks):
            known = ", ".join(t.id for t in self.flow.tasks)
            raise PlaitError(
                f"no task '{task_id}' in flow {self.flow.namespace}.{self.flow.id} "
                f"(its tasks: {known})"
            )
        variables = self.base_variables()
        run = self.execution.task_run(task_id)
        task = next((t for t in self.flow.tasks if t.id == task_id), None)
        if task is not None:
            variables["task"] = {"id": task.id, "type": task.type}
        if run is not None:
            variables["taskrun"] = {"id": run.id, "startDate": run.started, "attemptsCount": 1}
        return variables

    # -- services used by contexts -------------------------------------------------------
    def record_log(
        self, level: str, message: str, task_id: str | None, taskrun_id: str | None
    ) -> None:
        entry = log_entry(self.execution.id, level, self.masker.mask(message), task_id, taskrun_id)
        self.engine.repository.append_logs([entry])
        self.listener.log(entry)

    def secret(self, name: str) -> str:
        for provider in self.engine.registry.secret_providers.values():
            value = provider(name)
            if value is not None:
                self.masker.add(value)
                return value
        raise ExpressionError(f"secret '{name}' is not defined by any secret provider")

    def scoped_storage(self) -> TaskRunStorage:
        """Storage limited to this execution, for expression reads."""
        return self.engine.storage.for_task_run(
            namespace=self.execution.namespace,
            flow_id=self.execution.flow_id,
            execution_id=self.execution.id,
            task_id="_expressions",
            taskrun_id="_",
        )

    def base_variables(self) -> dict[str, Any]:
        execution = self.execution
        return {
            "flow": {
                "id": execution.flow_id,
                "namespace": execution.namespace,
                "revision": execution.flow_revision,
            },
            "execution": {
                "id": execution.id,
                "startDate": execution.created,
                "originalId": execution.id,
            },
            "inputs": self.inputs,
            "vars": self.flow.variables,
            "labels": execution.labels,
            "outputs": self.outputs,
        }

    def _services(self, variables: Mapping[str, Any], task_id: str | None) -> ExecutionServices:
        engine = self.engine.expressions

        def render_template(template: str, names: Mapping[str, Any]) -> Any:
            return engine.render_value(template, names, services=services, task_id=task_id)

        services = ExecutionServices(self, variables, render_template)
        return services

    def render(self, value: Any, variables: Mapping[str, Any], *, task_id: str | None) -> Any:
        services = self._services(variables, task_id)
        return self.engine.expressions.render_value(
            value, variables, services=services, task_id=task_id
        )

    def evaluate(
        self, expression: str, variables: Mapping[str, Any], *, task_id: str | None
    ) -> Any:
        """Evaluate a template or bare expression (``plait eval``)."""
        services = self._services(variables, task_id)
        return self.engine.expressions.evaluate(
            expression, variables, services=services, task_id=task_id
        )

    def run_subflow(
        self, namespace: str, flow_id: str, inputs: Mapping[str, Any], *, wait: bool
    ) -> SubflowRun:
        try:
            stored = self.engine.repository.get_flow(namespace, flow_id)
        except NotFoundError as exc:
            raise NotFoundError(
                f"{exc}; store it first with `plait flows deploy FILE` (or run it once)"
            ) from None
        flow = parse_flow(stored.source, file=f"{namespace}.{flow_id}@{stored.revision}")
        child = self.engine.prepare(flow, dict(inputs), parent=self.execution)
        if wait:
            done = self.engine.execute(child)
            return SubflowRun(done.execution.id, str(done.execution.state), done.outputs_document())
        thread = threading.Thread(target=self.engine.execute, args=(child,), daemon=True)
        thread.start()
        self.engine.track(thread)
        return SubflowRun(child.execution.id, str(State.CREATED), {})

    # -- the run itself -------------------------------------------------------------------
    def save(self) -> None:
        self.engine.repository.save(self.execution)

    def run(self) -> Execution:
        execution = self.execution
        execution.transition(State.RUNNING)
        self.save()
        try:
            failed, warned = self._run_tasks()
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM (the CLI turns it into this): record it
            self._kill()
            raise
        if not failed:
            failed = not self._render_flow_outputs()
        execution.transition(State.FAILED if failed else State.WARNING if warned else State.SUCCESS)
        self.save()
        self._cleanup_working_root()
        return execution

    def _run_tasks(self) -> tuple[bool, bool]:
        """Run the tasks in order; return (failed, warned)."""
        warned = False
        for task in self.flow.tasks:
            if task.disabled:
                continue
            state, allowed_to_fail = self._run_task(task)
            if state is State.WARNING:
                warned = True
            elif state.is_failed:
                if not allowed_to_fail:
                    return True, warned
                warned = True
        return False, warned

    def _kill(self) -> None:
        for run in self.execution.task_runs:
            if not run.state.is_terminal:
                run.error = "interrupted"
                run.transition(State.KILLED)
        self.execution.transition(State.KILLED)
        self.save()
        self.record_log("WARN", "execution interrupted: KILLED", None, None)

    def outputs_document(self) -> dict[str, Any]:
        return dict(self.execution.outputs or {})

    def _render_flow_outputs(self) -> bool:
        if not self.flow.outputs:
            return True
        variables = self.base_variables()
        values: dict[str, Any] = {}
        try:
            for out in self.flow.outputs:
                value = self.render(out.value, variables, task_id=None)
                values[out.id] = typed_output(out.id, out.type, value)
        except PlaitError as exc:
            self.record_log("ERROR", f"flow output failed: {exc}", None, None)
            return False
        self.execution.outputs = self.masker.mask_value(_json_safe(values))
        return True

    def _run_task(self, task: TaskDef) -> tuple[State, bool]:
        """Run one task, with its retries; return its final state and whether it may fail."""
        execution = self.execution
        run = TaskRun(id=new_taskrun_id(), task_id=task.id, state=State.CREATED)
        execution.task_runs.append(run)
        run.transition(State.RUNNING)
        self.save()
        self.listener.task_started(execution, run)
        started = time.monotonic()
        while True:
            ctx = TaskRunContext(self, task.id, run.id, log_level=task.log_level)
            try:
                cls, task = self._resolve(task)
                outputs = self._call_task(cls, task, run, ctx)
            except Exception as exc:
                message = self._failure_message(exc, ctx, task, run)
                policy = RetryPolicy.from_config(task.retry)
                wait = policy.delay(run.attempts, time.monotonic() - started) if policy else None
                if wait is None:
                    self._fail(run, message)
                    break
                self.record_log(
                    "WARN",
                    f"attempt {run.attempts} failed: {message}; retrying in {wait:g}s",
                    task.id,
                    run.id,
                )
                time.sleep(wait)
                run.attempts += 1
                continue
            else:
                run.outputs = self.masker.mask_value(outputs)
                self.outputs[task.id] = outputs
                for reason in ctx.warnings:
                    self.record_log("WARN", reason, task.id, run.id)
                warned = bool(ctx.warnings) or (run.attempts > 1 and _warns_on_retry(task))
                run.transition(State.WARNING if warned else State.SUCCESS)
                break
            finally:
                ctx.cleanup()
        self.save()
        self.listener.task_ended(execution, run)
        return run.state, task.allow_failure

    def _failure_message(
        self, exc: Exception, ctx: TaskRunContext, task: TaskDef, run: TaskRun
    ) -> str:
        if isinstance(exc, (TaskFailure, PlaitError)):
            return ctx.mask(str(exc))
        # A bug in a task type: keep the traceback in the logs (at DEBUG).
        self.record_log("DEBUG", ctx.mask(traceback.format_exc()), task.id, run.id)
        return ctx.mask(f"{type(exc).__name__}: {exc}")

    def _resolve(self, task: TaskDef) -> tuple[type[Task[Any, Any]], TaskDef]:
        """The task's type and the task as it runs (plugin defaults applied)."""
        cls = self.engine.registry.find_task_type(task.type)
        if cls is None:  # validated before the run; a plugin may have vanished since
            raise TaskFailure(self.engine.registry.unknown_task_type_message(task.type))
        effective = with_plugin_defaults(
            task,
            cls.type,
            self.flow.plugin_defaults,
            aliases=cls.aliases,
            global_defaults=self.engine.global_defaults,
        )
        return cls, effective

    def _fail(self, run: TaskRun, message: str) -> None:
        run.error = message
        self.record_log("ERROR", message, run.task_id, run.id)
        run.transition(State.FAILED)

    def _call_task(
        self, cls: type[Task[Any, Any]], task: TaskDef, run: TaskRun, ctx: TaskRunContext
    ) -> dict[str, Any]:
        instance: Task[Any, Any] = cls()
        raw = task.properties
        variables = self.task_variables(task.id)
        ctx.variables = variables
        variables.update(instance.variables(raw, ctx))
        ctx.variables = variables
        rendered = render_properties(
            cls.Properties, raw, lambda value: self.render(value, variables, task_id=task.id)
        )
        props = validate_properties(cls.Properties, rendered)
        result = self._call_with_timeout(task, instance, props, ctx)
        if not isinstance(result, cls.Outputs):
            raise TaskFailure(
                f"task type {cls.type} returned {type(result).__name__}, "
                f"expected {cls.Outputs.__name__}"
            )
        return result.model_dump(mode="json", by_alias=True)

    def _call_with_timeout(
        self, task: TaskDef, instance: Task[Any, Any], props: Any, ctx: TaskRunContext
    ) -> Any:
        if not task.timeout:
            return instance.run(props, ctx)
        duration = parse_duration(task.timeout)
        if duration is None:  # validated before the run
            raise TaskFailure(f"invalid timeout '{task.timeout}': expected ISO-8601 like PT5M")
        seconds = duration.total_seconds()
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                box["result"] = instance.run(props, ctx)
            except BaseException as exc:
                box["error"] = exc

        worker = threading.Thread(target=target, name=f"task-{task.id}", daemon=True)
        worker.start()
        worker.join(seconds)
        if worker.is_alive():
            ctx.cancel()
            worker.join(5)
            raise TaskFailure(f"task '{task.id}' timed out after {task.timeout}")
        if "error" in box:
            raise box["error"]
        return box["result"]

    def _cleanup_working_root(self) -> None:
        root = self.engine.settings.home / "work" / self.execution.id
        with contextlib.suppress(OSError):  # not empty: a task left files (kept for debugging)
            root.rmdir()


def typed_output(output_id: str, type_name: str, value: Any) -> Any:
    """A flow output converted to its declared type (as inputs are), or a PlaitError naming the
    output and the type; FILE outputs must be storage URIs."""
    if type_name == "FILE":
        if not (isinstance(value, str) and value.startswith(f"{uris.SCHEME}://")):
            raise PlaitError(f"flow output '{output_id}': expected FILE (a plait:// URI)")
        return value
    try:
        return coerce(InputDef(id=output_id, type=type_name), value)
    except InputValueError as exc:
        raise PlaitError(f"flow output '{output_id}': {exc}") from None


def _warns_on_retry(task: TaskDef) -> bool:
    policy = RetryPolicy.from_config(task.retry)
    return policy is not None and policy.warning_on_retry


def _json_safe(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def _adopt_file_inputs(
    engine: Engine,
    flow: Flow,
    execution: Execution,
    parent: Execution | None,
    resolved: dict[str, Any],
) -> None:
    """FILE inputs given as storage URIs: a parent execution's file is copied into this
    execution (a subflow can only read its own files); any other execution's is refused."""
    problems = []
    for definition in flow.inputs:
        value = resolved.get(definition.id)
        if definition.type != "FILE" or not uris.is_uri(value):
            continue
        own = uris.execution_prefix(flow.namespace, flow.id, execution.id)
        if uris.is_under(uris.to_key(value), own):
            continue  # a local file, just uploaded
        if parent is None:
            problems.append(
                Problem(
                    f"input '{definition.id}': {value} belongs to another execution; "
                    "give a local file path",
                    file=flow.file,
                    line=definition.line,
                    column=definition.column,
                )
            )
            continue
        try:
            key = uris.key_in_execution(value, parent.namespace, parent.flow_id, parent.id)
        except StorageError as exc:
            problems.append(Problem(f"input '{definition.id}': {exc}", file=flow.file))
            continue
        name = key.rsplit("/", 1)[-1]
        target = uris.input_key(flow.namespace, flow.id, execution.id, definition.id, name)
        with engine.storage.open(value) as stream:
            resolved[definition.id] = engine.storage.put_stream(target, stream)
    if problems:
        raise FlowValidationError(problems)


def prepare_execution(
    engine: Engine,
    flow: Flow,
    inputs: Mapping[str, Any],
    *,
    parent: Execution | None,
    listener: ExecutionListener | None = None,
) -> ExecutionRun:
    """Resolve inputs and create the execution; raises FlowValidationError before anything runs."""
    revision = engine.repository.save_flow(flow.namespace, flow.id, flow.source)
    execution = Execution.new(
        flow.namespace,
        flow.id,
        revision,
        {},
        dict(flow.labels),
        parent_id=parent.id if parent else None,
    )
    run = ExecutionRun(engine, flow, execution, listener or NoListener())

    def store_file(input_id: str, path: Any) -> str:
        key = uris.input_key(flow.namespace, flow.id, execution.id, input_id, path.name)
        return engine.storage.put_path(key, path)

    resolved = resolve_inputs(flow, inputs, store_file=store_file)
    _adopt_file_inputs(engine, flow, execution, parent, resolved)
    secret_ids = {i.id for i in flow.inputs if i.type.upper() == "SECRET"}
    for input_id in secret_ids:
        if isinstance(resolved.get(input_id), str):
            run.masker.add(resolved[input_id])
    run.inputs = resolved
    execution.inputs = run.masker.mask_value(_json_safe(resolved))
    return run
