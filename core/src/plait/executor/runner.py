"""The driver of one execution: it applies the state machine's decisions, hands leaf task runs
to the work queue, records results and saves every change (only the task runs that changed,
in one transaction) before acting on it, so that a crash leaves a readable execution that any
process can resume (``plait executions restart``)."""

from __future__ import annotations

import contextlib
import copy
import os
import socket
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from plait_sdk import SubflowRun
from plait_sdk.flowable import FlowableTask, Plan, is_flowable, is_true

from plait.errors import ExpressionError, NotFoundError, PlaitError
from plait.executor.concurrency import end_unstarted, take_slot
from plait.executor.context import ExecutionServices, TaskRunContext, log_entry
from plait.executor.driving import driving
from plait.executor.events import ExecutionListener, NoListener
from plait.executor.machine import Machine, allowed_state
from plait.executor.masking import SecretMasker
from plait.executor.nesting import check_subflow_depth, parent_count
from plait.executor.prepare import env_variables, json_safe, label_variables, typed_output
from plait.executor.queue import WorkItem, WorkResult
from plait.executor.variables import (
    OutputsMap,
    RunIndex,
    in_millis,
    missing_output_reason,
    output_keys,
    run_variables,
    store_output,
)
from plait.executor.worker import effective_task, rendered_properties, task_class
from plait.flows import Flow, TaskDef
from plait.flows.disabled import disabled_problem
from plait.state.model import Attempt, Execution, State, TaskRun, end_attempt
from plait.storage.internal import TaskRunStorage

if TYPE_CHECKING:
    from plait.executor.services import EngineServices

RESULT_POLL_SECONDS = 0.2
"""How often the driver looks up from waiting for results (to notice a stop request)."""
KILL_GRACE_SECONDS = 30.0
"""How long a kill waits for running task runs to stop before recording them KILLED."""
KILL_CHECK_SECONDS = 0.25
"""How often a driver looks in the repository for a kill another process requested."""


def driver_id() -> str:
    """Who drives an execution: ``host:pid`` (a restart checks that process is gone)."""
    return f"{socket.gethostname()}:{os.getpid()}"


class ExecutionRun:
    """One execution in progress (or looked at afterwards): its state, variables and secrets."""

    parents: int | None = None
    """How many parent executions it has (see nesting.py), once known."""

    def __init__(
        self,
        engine: EngineServices,
        flow: Flow,
        execution: Execution,
        listener: ExecutionListener | None = None,
        *,
        stop: threading.Event | None = None,
    ) -> None:
        self.engine = engine
        self.flow = flow
        self.execution = execution
        self.listener = listener or NoListener()
        self.masker = SecretMasker()
        self.inputs: dict[str, Any] = {}
        self.index = RunIndex(flow, execution, lambda task: effective_task(engine, flow, task))
        self.outputs = OutputsMap()
        self._envs = env_variables(os.environ)
        self.outputs._explain = missing_output_reason(self.index, self.outputs)
        self.machine = Machine(self.index, self)
        self.cancelled = False
        self.leaving = False
        """Set by another thread: stop driving, leaving the execution as stored for another
        process to carry on (a server stopping on a shared repository)."""
        self._stop = stop
        self._next_kill_check = 0.0
        self._lock = threading.RLock()
        """Held while rendering and while outputs change: workers render in their threads."""
        self._contexts: dict[str, TaskRunContext] = {}
        self._submitted: dict[str, WorkItem] = {}
        self._pending: list[WorkItem] = []
        self._adopted: dict[str, int] | None = None
        """On resume: the attempts the queue still holds, by task run id (see ``_adopt``)."""
        self._positions: dict[str, int] | None = None
        """Where each task run is in ``execution.task_runs``, once :meth:`refresh` needed it."""

    @classmethod
    def stored(
        cls,
        engine: EngineServices,
        execution: Execution,
        listener: ExecutionListener | None = None,
        *,
        flow: Flow | None = None,
    ) -> ExecutionRun:
        """An execution read back from the repository, with its flow revision (read unless
        given: a worker keeps the revisions it loaded) and the outputs its task runs recorded:
        for evaluating expressions after the fact, resuming it or running one of its task runs
        (secrets stay masked: only the masked values were stored)."""
        if flow is None:
            stored = engine.repository.get_flow(
                execution.namespace, execution.flow_id, execution.flow_revision
            )
            flow = engine.load(stored.source, file=f"{execution.namespace}.{execution.flow_id}")
        view = cls(engine, flow, execution, listener)
        view.inputs = dict(execution.inputs)
        for run in execution.task_runs:
            view._store_outputs(run)
        return view

    def refresh(self, changed: Execution) -> None:
        """Bring a copy read with :meth:`stored` up to date: ``changed`` is the execution as
        stored now with only the task runs stored since this copy was read or refreshed (a
        worker reads those instead of the whole execution for every task run it runs)."""
        with self._lock:  # task runs of this execution may be rendering in other threads
            order = self.execution.task_runs.copy()  # views running keep the list they had
            if self._positions is None:
                self._positions = {run.id: place for place, run in enumerate(order)}
            for run in changed.task_runs:
                place = self._positions.setdefault(run.id, len(order))
                if place == len(order):
                    order.append(run)
                else:
                    order[place] = run
                self.index.runs[run.id] = run
                self._store_outputs(run)
            changed.task_runs = order
            self.execution = self.index.execution = changed
            self.inputs = dict(changed.inputs)

    def for_task_run(self) -> ExecutionRun:
        """A view of this run for one task run on a worker: it shares the task runs and
        outputs (a refresh updates them for every view) and their lock, but is stopped on its
        own, so that a lost claim stops only its task run, not the others of the execution."""
        view = copy.copy(self)
        view.cancelled = False
        view._contexts = {}
        return view

    # -- variables and rendering -------------------------------------------------------------

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
                "startDate": in_millis(execution.created),
                "originalId": execution.original_id or execution.id,
                "state": str(execution.state),
            },
            "inputs": self.inputs,
            "vars": self.flow.variables,
            "labels": label_variables(execution.labels),
            "envs": self._envs,
            "outputs": self.outputs,
            "trigger": (execution.trigger or {}).get("variables", {}),
        }

    def variables_for(self, run: TaskRun) -> dict[str, Any]:
        """Variables as task run ``run`` sees them: base ones plus task, taskrun, parent(s)."""
        return {**self.base_variables(), **run_variables(self.index, run)}

    def render(self, value: Any, variables: Mapping[str, Any], *, task_id: str | None) -> Any:
        with self._lock:
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

    def _services(self, variables: Mapping[str, Any], task_id: str | None) -> ExecutionServices:
        engine = self.engine.expressions

        def render_template(template: str, names: Mapping[str, Any]) -> Any:
            return engine.render_value(template, names, services=services, task_id=task_id)

        services = ExecutionServices(self, variables, render_template)
        return services

    def _store_outputs(self, run: TaskRun) -> None:
        if run.outputs is None:
            return
        with self._lock:
            store_output(self.outputs, run.task_id, output_keys(self.index.chain(run)), run.outputs)

    # -- services used by task run contexts ----------------------------------------------

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

    def run_subflow(
        self,
        namespace: str,
        flow_id: str,
        inputs: Mapping[str, Any],
        *,
        wait: bool,
        stop: threading.Event | None = None,
        labels: Mapping[str, str] | None = None,
        inherit_labels: bool = False,
    ) -> SubflowRun:
        if self.parents is None:
            self.parents = parent_count(self.engine.repository, self.execution)
        check_subflow_depth(self.parents + 1, namespace, flow_id)
        try:
            stored = self.engine.repository.get_flow(namespace, flow_id)
        except NotFoundError as exc:
            raise NotFoundError(
                f"{exc}; store it first with `plait flows deploy FILE` (or run it once)"
            ) from None
        flow = self.engine.load(stored.source, file=f"{namespace}.{flow_id}@{stored.revision}")
        disabled = disabled_problem(flow)
        if disabled is not None:  # Kestra's ExecutableUtils refuses it too
            raise PlaitError(disabled.message)
        child = self.engine.prepare(
            flow, dict(inputs), parent=self.execution, labels=labels, inherit_labels=inherit_labels
        )
        child._stop = stop if wait else None
        child.parents = self.parents + 1
        if wait:
            done = self.engine.execute(child)
            return SubflowRun(done.execution.id, str(done.execution.state), done.outputs_document())
        thread = threading.Thread(target=self.engine.execute, args=(child,), daemon=True)
        thread.start()
        self.engine.track(thread)
        return SubflowRun(child.execution.id, str(State.CREATED), {})

    def track(self, taskrun_id: str, ctx: TaskRunContext) -> None:
        with self._lock:
            self._contexts[taskrun_id] = ctx

    def untrack(self, taskrun_id: str) -> None:
        with self._lock:
            self._contexts.pop(taskrun_id, None)

    def cancel_tasks(self) -> None:
        """Ask every running task run of this execution to stop (a kill)."""
        self.cancelled = True
        with self._lock:
            contexts = list(self._contexts.values())
        for ctx in contexts:
            ctx.cancel()

    def stop_requested(self) -> bool:
        """Whether this execution is to be killed: asked in this process (``stop``), or in any
        process through the repository (looked up at most every KILL_CHECK_SECONDS)."""
        if self._stop is not None and self._stop.is_set():
            return True
        now = time.monotonic()
        if now < self._next_kill_check:
            return False
        self._next_kill_check = now + KILL_CHECK_SECONDS
        return self.engine.repository.kill_requested(self.execution.id)

    # -- the state machine's hooks -------------------------------------------------------

    def is_flowable(self, task: TaskDef) -> bool:
        cls = self.engine.registry.find_task_type(task.type)
        return cls is not None and is_flowable(cls)

    def should_run(self, run: TaskRun, task: TaskDef) -> bool:
        return is_true(self.render(task.run_if, self.variables_for(run), task_id=task.id))

    def plan(self, run: TaskRun, task: TaskDef) -> Plan:
        ctx = TaskRunContext(self, run, log_level=task.log_level)
        instance, props = rendered_properties(self, task_class(self, task), task, ctx)
        assert isinstance(instance, FlowableTask)
        self.listener.task_started(self.execution, run)
        plan = instance.plan(props, ctx)
        if plan.outputs is not None:
            run.outputs = self.masker.mask_value(
                plan.outputs.model_dump(mode="json", by_alias=True)
            )
            self._store_outputs(run)
        for note in plan.notes:
            self.record_log("INFO", note, task.id, run.id)
        return plan

    def dispatch(self, run: TaskRun, task: TaskDef) -> None:
        if self._adopted is not None and self._adopt(run):
            return
        # Stored with the run: a crash leaves the attempt visible (a restart marks it KILLED).
        run.attempts.append(Attempt.new())
        self.listener.task_started(self.execution, run)
        self._pending.append(WorkItem(self.execution.id, run.id, len(run.attempts)))

    def _adopt(self, run: TaskRun) -> bool:
        """Resuming: await the run's open attempt when the queue still holds it (queued, on a
        worker, or its result waiting) instead of running it again; an open attempt the queue
        does not hold went with the process that drove it: it failed, a new one starts."""
        assert self._adopted is not None
        attempt = self._adopted.pop(run.id, None)
        open_attempt = bool(run.attempts) and not run.attempts[-1].state.is_terminal
        if open_attempt and attempt == len(run.attempts):
            self.listener.task_started(self.execution, run)
            self._submitted[run.id] = WorkItem(self.execution.id, run.id, attempt)
            return True
        end_attempt(run, State.FAILED)
        return False

    def ended(self, run: TaskRun) -> None:
        if run.error and not run.attempts and run.state is State.FAILED:
            self.record_log("ERROR", run.error, run.task_id, run.id)  # failed in the executor
        self.listener.task_ended(self.execution, run)

    # -- the run itself -------------------------------------------------------------------

    def run(self, *, resume: bool = False) -> Execution:
        """Drive the execution to its end (``resume``: carry on from its stored task runs)."""
        with driving(self.execution.id):  # this process's driver id now means a live driver
            return self._drive(resume)

    def _drive(self, resume: bool) -> Execution:
        engine, execution = self.engine, self.execution
        engine.queue.open(execution.id)
        engine.worker.register(self)
        try:
            execution.driver = driver_id()
            if not take_slot(self):
                return execution
            if resume:
                self._adopted = engine.queue.adoptable(execution.id)
                self.machine.resume()
            else:
                self.machine.start()
            self._flush()
            while self.machine.result is None:
                if self.leaving:
                    return execution
                if self.stop_requested():
                    self._kill()
                    break
                results = engine.queue.results(execution.id, RESULT_POLL_SECONDS)
                for result in results:
                    self._record(result)
                if results:
                    self._flush()
            if execution.state is not State.KILLED:
                # Before the lease goes: no other driver may take over an execution ending.
                self._finish(self.machine.result or State.FAILED)
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM (the CLI turns it into this): record it
            if execution.state is State.QUEUED:
                end_unstarted(self, State.KILLED, "killed while queued")
            elif not execution.state.is_terminal:
                self._kill()
            raise
        finally:
            engine.worker.unregister(self)
            engine.queue.release(execution.id)
        return execution

    def _flush(self) -> None:
        """Save what changed and hand the new leaf runs to the workers (in the same
        transaction when the queue lives in the repository's database)."""
        changed = list(self.machine.changed.values())
        self.machine.changed.clear()
        pending, self._pending = self._pending, []
        for item in pending:
            self._submitted[item.taskrun_id] = item
        self.engine.queue.commit(self.engine.repository, self.execution, changed, pending)

    def _record(self, result: WorkResult) -> None:
        item = self._submitted.get(result.taskrun_id)
        if item is None or item.attempt != result.attempt:
            return  # not (or no longer) expected: an attempt a restart superseded
        del self._submitted[result.taskrun_id]
        run = self.index.runs[result.taskrun_id]
        task = self.index.task(run.task_id)
        run.attempts[-1:] = result.attempts  # the worker's, in place of the one dispatched
        run.error = result.error
        if result.outputs is not None:
            run.outputs = self.masker.mask_value(result.outputs)
            self._store_outputs(run)
        run.transition(allowed_state(result.state, task))
        if self.cancelled:
            self.machine.changed[run.id] = run  # a kill: nothing more starts
        else:
            self.machine.run_ended(run)

    def _kill(self) -> None:
        self.execution.transition(State.KILLING)  # seen by followers while task runs stop
        self.engine.repository.save_state(self.execution, [])
        self.cancel_tasks()
        self.engine.queue.cancel(self.execution.id)
        deadline = time.monotonic() + KILL_GRACE_SECONDS
        while self._submitted and time.monotonic() < deadline:
            with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C: keep waiting
                for result in self.engine.queue.results(self.execution.id, RESULT_POLL_SECONDS):
                    self._record(result)
        for run in self.execution.task_runs:
            if not run.state.is_terminal:
                run.error = run.error or "interrupted"
                end_attempt(run, State.KILLED)
                run.transition(State.KILLED)
                self.machine.changed[run.id] = run
        self.execution.transition(State.KILLED)
        self.execution.driver = None
        self._flush()
        self.record_log("WARN", "execution interrupted: KILLED", None, None)

    def _finish(self, state: State) -> None:
        if state is not State.FAILED and not self._render_flow_outputs():
            state = State.FAILED
        self.execution.driver = None
        self.execution.transition(state)
        self._flush()
        root = self.engine.settings.home / "work" / self.execution.id
        with contextlib.suppress(OSError):  # not empty: a task left files (kept for debugging)
            root.rmdir()

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
                values[out.id] = typed_output(out.id, out.type, value, out.value)
        except PlaitError as exc:
            self.record_log("ERROR", f"flow output failed: {exc}", None, None)
            return False
        self.execution.outputs = self.masker.mask_value(json_safe(values))
        return True
