"""The Python API: an Engine bundles the registry, expression engine, state and storage.

import plait
execution = plait.run_flow("flow.yml", inputs={"api_url": "http://127.0.0.1:8000"})
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from plait.config import Settings
from plait.distribution import check_defaults, installed_distribution
from plait.errors import PlaitError
from plait.executor.events import ExecutionListener
from plait.executor.masking import SecretMasker
from plait.executor.prepare import new_execution
from plait.executor.queue import EmbeddedQueue, WorkQueue
from plait.executor.restart import copy_files, find_start, prepare_restart, replay_runs
from plait.executor.runner import ExecutionRun, driver_id
from plait.executor.worker import Worker
from plait.expressions import ExpressionEngine
from plait.flows import Flow, PluginDefault, check_flow
from plait.plugins import Registry, build_registry
from plait.state.documents import open_repository
from plait.state.model import Execution
from plait.state.repository import ExecutionRepository
from plait.storage.internal import InternalStorage

if TYPE_CHECKING:
    from plait_sdk.queue import WorkQueueStore

    from plait.executor.worker_pool import WorkerPool

PLUGIN_INDEX = Path("cache", "plugins")
"""Where, under the home, the plugin index is kept (see :mod:`plait.plugin_index`)."""


@dataclass
class Engine:
    """Everything needed to validate and run flows against one ``PLAIT_HOME``."""

    settings: Settings
    registry: Registry
    expressions: ExpressionEngine
    repository: ExecutionRepository
    storage: InternalStorage
    task_workers: bool = True
    """Whether this process runs task runs: with a repository that carries a shared work queue
    (PostgreSQL), a pool of workers in this process pulls from it (``plait server --no-worker``
    leaves that to ``plait worker`` processes); otherwise the embedded queue's threads do."""
    _threads: list[threading.Thread] = field(default_factory=list)
    _worker: Worker | None = None
    _queue: WorkQueue | None = None
    _pool: WorkerPool | None = None
    _start_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def worker(self) -> Worker:
        """Runs the task runs of the executions this engine drives."""
        self._start_workers()
        assert self._worker is not None
        return self._worker

    @property
    def queue(self) -> WorkQueue:
        """The work queue between this engine's executor and its worker threads."""
        self._start_workers()
        assert self._queue is not None
        return self._queue

    def _start_workers(self) -> None:
        with self._start_lock:
            if self._worker is None:
                self._worker = Worker()
                store = self.shared_queue_store()
                if store is None:
                    self._queue = EmbeddedQueue(self._worker.run, self._worker.cancel)
                else:
                    self._start_shared(store)

    def shared_queue_store(self) -> WorkQueueStore | None:
        """The repository's work queue shared by processes (PostgreSQL's); None when it has
        none (SQLite: task runs run in the process that drives their execution)."""
        from plait.executor.shared_queue import shared_store

        return shared_store(self.repository)

    def _start_shared(self, store: WorkQueueStore) -> None:
        from plait.executor.shared_queue import SharedQueue, lease_seconds
        from plait.executor.worker_pool import WorkerPool, default_concurrency

        lease = lease_seconds()
        self._queue = SharedQueue(store, driver_id(), lease)
        if self.task_workers:
            self._pool = WorkerPool(self, store, default_concurrency(), lease).start()

    @classmethod
    def create(
        cls,
        *,
        home: Path | str | None = None,
        load_plugins: Sequence[str] | None = None,
        extra_plugins: Sequence[ModuleType] = (),
        registry: Registry | None = None,
    ) -> Engine:
        """An engine on ``home`` (default ``PLAIT_HOME``) with the installed plugins (or those
        named in ``load_plugins``) plus ``extra_plugins`` modules, or a ready ``registry``;
        the installed distribution, if any, bounds the plugins and sets defaults. The home's
        plugin index (``cache/plugins``) lets a run import only the plugins it uses."""
        if registry is None:
            distribution = installed_distribution()
            registry = build_registry(
                load_plugins,
                extra=extra_plugins,
                distribution=distribution,
                index=Settings.from_env(home, distribution).home / PLUGIN_INDEX,
            )
        if registry.distribution is not None:
            check_defaults(registry.distribution, registry.task_types)
        settings = Settings.from_env(home, registry.distribution)
        repository_factory = _pick(registry.repositories, settings.repository, "repository")
        storage_factory = _pick(registry.storage_backends, settings.storage, "storage backend")
        return cls(
            settings=settings,
            registry=registry,
            expressions=ExpressionEngine(registry.filters, registry.functions),
            repository=open_repository(
                repository_factory, settings.home, settings.repository_options
            ),
            storage=InternalStorage(storage_factory(settings.home, settings.storage_options)),
        )

    @property
    def global_defaults(self) -> tuple[PluginDefault, ...]:
        """Plugin defaults applied to every flow: the installed distribution's."""
        distribution = self.registry.distribution
        return distribution.plugin_defaults if distribution else ()

    def load(self, source: str | Path, *, file: str | None = None) -> Flow:
        """Parse and validate a flow (a path or YAML text); raises FlowValidationError."""
        return check_flow(
            _as_path(source),
            self.registry,
            self.expressions,
            file=file,
            global_defaults=self.global_defaults,
        )

    def prepare(
        self,
        flow: Flow,
        inputs: Mapping[str, Any] | None = None,
        *,
        parent: Execution | None = None,
        listener: ExecutionListener | None = None,
        labels: Mapping[str, str] | None = None,
        inherit_labels: bool = False,
    ) -> ExecutionRun:
        """Create the execution (inputs resolved and stored); raises FlowValidationError.
        ``labels`` are added to the flow's (see :func:`plait.executor.prepare.execution_labels`)."""
        masker = SecretMasker()
        execution, resolved = new_execution(
            self,
            flow,
            dict(inputs or {}),
            parent=parent,
            masker=masker,
            labels=labels,
            inherit_labels=inherit_labels,
        )
        run = ExecutionRun(self, flow, execution, listener)
        run.masker = masker
        run.inputs = resolved
        return run

    def execute(self, run: ExecutionRun, *, resume: bool = False) -> ExecutionRun:
        run.run(resume=resume)
        return run

    def restart(self, execution_id: str, *, listener: ExecutionListener | None = None) -> Execution:
        """Run a FAILED, KILLED or abandoned execution again in place, from where it failed."""
        return self.execute(self.restarting(execution_id, listener), resume=True).execution

    def restarting(
        self, execution_id: str, listener: ExecutionListener | None = None
    ) -> ExecutionRun:
        """The execution made runnable again and stored, ready to ``execute(resume=True)``."""
        run = ExecutionRun.stored(self, self.repository.get(execution_id), listener)
        prepare_restart(run.index, self.repository)
        self.repository.save(run.execution)
        return run

    def replay(
        self,
        execution_id: str,
        *,
        start: str | None = None,
        listener: ExecutionListener | None = None,
    ) -> Execution:
        """A new execution of the same flow revision and inputs, keeping what ran before
        ``start`` (a task id or task run id; None: everything runs again)."""
        run = self.replaying(execution_id, start=start, listener=listener)
        return self.execute(run, resume=True).execution

    def replaying(
        self,
        execution_id: str,
        *,
        start: str | None = None,
        listener: ExecutionListener | None = None,
    ) -> ExecutionRun:
        """The replay created and stored, ready to ``execute(resume=True)``."""
        original = ExecutionRun.stored(self, self.repository.get(execution_id))
        source = original.execution
        execution = Execution.new(
            source.namespace,
            source.flow_id,
            source.flow_revision,
            {},
            dict(source.labels),
            parent_id=source.parent_id,
        )
        execution.original_id = source.id
        execution.inputs = copy_files(self.storage, source.inputs, source, execution)
        if start is not None:
            kept = replay_runs(original.index, find_start(original.index, start))
            for task_run in kept:
                task_run.outputs = copy_files(self.storage, task_run.outputs, source, execution)
            execution.task_runs = kept
        self.repository.save(execution)
        return ExecutionRun.stored(self, execution, listener)

    def run(
        self,
        source: str | Path | Flow,
        inputs: Mapping[str, Any] | None = None,
        *,
        listener: ExecutionListener | None = None,
    ) -> Execution:
        """Validate, then run a flow to its end and return the finished execution."""
        flow = source if isinstance(source, Flow) else self.load(source)
        return self.execute(self.prepare(flow, inputs, listener=listener)).execution

    def track(self, thread: threading.Thread) -> None:
        """Remember a background child execution so ``close`` waits for it."""
        self._threads.append(thread)

    def close(self) -> None:
        for thread in self._threads:
            thread.join()
        if self._pool is not None:
            self._pool.stop()
        if self._queue is not None:
            self._queue.close()
        self.repository.close()


def _as_path(source: str | Path) -> str | Path:
    """A string naming an existing file is a path; any other string is YAML text."""
    if isinstance(source, str) and "\n" not in source:
        try:
            if Path(source).is_file():
                return Path(source)
        except OSError:  # e.g. one-line JSON flow text longer than a file name may be
            pass
        if source.endswith((".yml", ".yaml")):
            raise PlaitError(f"flow file not found: {source}")
    return source


def _pick(factories: Mapping[str, Any], name: str, what: str) -> Any:
    try:
        return factories[name]
    except KeyError:
        known = ", ".join(sorted(factories)) or "none"
        raise PlaitError(f"unknown {what} '{name}' (available: {known})") from None


def run_flow(
    source: str | Path,
    inputs: Mapping[str, Any] | None = None,
    *,
    home: Path | str | None = None,
) -> Execution:
    """Run a flow file or YAML text on ``home`` (default ``PLAIT_HOME``); return the execution."""
    engine = Engine.create(home=home)
    try:
        return engine.run(source, inputs)
    finally:
        engine.close()
