"""What the server runs: one engine on ``PLAIT_HOME``, executions driven in background threads
(the engine's embedded queue and workers run their task runs), and the executions a previous
server process left behind, carried on at start."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping
from typing import Any

from plait.api import Engine
from plait.errors import ConflictError, PlaitError
from plait.executor.abandoned import abandoned
from plait.executor.flow_cache import FlowCache
from plait.executor.kill import request_kill
from plait.executor.runner import ExecutionRun
from plait.flows import Flow
from plait.state.model import Execution, StoredFlow


class ServerRuntime:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._running: dict[str, tuple[ExecutionRun, threading.Thread]] = {}
        self._flows = FlowCache(engine)
        self._lock = threading.Lock()

    def start(self, run: ExecutionRun, action: Callable[[], Any] | None = None) -> Execution:
        """Drive ``run`` in a background thread (``action``: what drives it, default a new
        run); returns the execution as stored when it starts."""
        run._stop = threading.Event()
        drive = action or (lambda: self.engine.execute(run))
        # Stored before the answer goes out: a client reads it right after creating it. The
        # answer is this stored state, not the object the thread starts changing at once.
        self.engine.repository.save(run.execution)
        snapshot = copy.deepcopy(run.execution)

        def target() -> None:
            try:
                drive()
            except PlaitError as exc:  # e.g. the database went away: say so in the logs
                message = f"the server could not drive the execution: {exc}"
                run.record_log("ERROR", message, None, None)
            finally:
                with self._lock:
                    self._running.pop(run.execution.id, None)

        thread = threading.Thread(target=target, name=f"execution-{run.execution.id}", daemon=True)
        with self._lock:
            self._running[run.execution.id] = (run, thread)
        thread.start()
        return snapshot

    def create(self, flow: Flow, inputs: Mapping[str, Any], labels: Mapping[str, str]) -> Execution:
        run = self.engine.prepare(flow, inputs)
        run.execution.labels.update(labels)
        return self.start(run)

    def stored_flow(self, stored: StoredFlow) -> Flow:
        """A stored revision, read and validated once (revisions never change)."""
        return self._flows.get(stored)

    def wait(self, execution_id: str, timeout: float | None = None) -> Execution:
        """The execution once it ended (or when ``timeout`` passed), as stored."""
        with self._lock:
            entry = self._running.get(execution_id)
        if entry is not None:
            entry[1].join(timeout)
        return self.engine.repository.get(execution_id)

    def kill(self, execution_id: str) -> Execution:
        """Request the execution's kill (see :func:`plait.executor.kill.request_kill`); when
        this server drives it, its thread is told at once."""
        execution = request_kill(self.engine.repository, execution_id)
        with self._lock:
            entry = self._running.get(execution.id)
        if entry is not None and entry[0]._stop is not None:
            entry[0]._stop.set()
        return execution

    def restart(self, execution_id: str) -> Execution:
        with self._lock:
            if execution_id in self._running:
                raise ConflictError(f"execution {execution_id} is running; kill it first")
        run = self.engine.restarting(execution_id)
        return self.start(run, lambda: self.engine.execute(run, resume=True))

    def replay(self, execution_id: str, start: str | None) -> Execution:
        run = self.engine.replaying(execution_id, start=start)
        return self.start(run, lambda: self.engine.execute(run, resume=True))

    def drives(self, execution_id: str) -> bool:
        with self._lock:
            return execution_id in self._running

    def take_over(self, execution_id: str) -> Execution | None:
        """Carry on an execution another server drove (this one holds its lease now): from
        its stored task runs, awaiting the work the queue still holds for it. None when it
        ended meanwhile (its driver finished it after the scan read it)."""
        execution = self.engine.repository.get(execution_id)
        if execution.state.is_terminal:
            return None
        run = ExecutionRun.stored(self.engine, execution)
        return self.start(run, lambda: self.engine.execute(run, resume=True))

    def recover(self) -> list[str]:
        """Carry on the executions left RUNNING by a process that is gone (a server killed
        mid-run): they resume from their stored task runs."""
        resumed = []
        for execution in abandoned(self.engine.repository):
            try:
                self.restart(execution.id)
            except PlaitError:
                continue
            resumed.append(execution.id)
        return resumed

    def close(self, *, kill: bool = True) -> None:
        """Stop driving: kill the executions (their task runs stop), or with ``kill`` false
        (a shared repository) leave them running for another server, or this one restarted."""
        with self._lock:
            running = list(self._running.values())
        for run, _ in running:
            if not kill:
                run.leaving = True
            elif run._stop is not None:
                run._stop.set()
        for _, thread in running:
            thread.join(30)
