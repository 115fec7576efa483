"""What the executor needs from the engine, as a protocol: the executor depends on this, never
on :mod:`plait.api` (which builds an engine and imports the executor)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from plait.config import Settings
    from plait.executor.events import ExecutionListener
    from plait.executor.queue import WorkQueue
    from plait.executor.runner import ExecutionRun
    from plait.executor.worker import Worker
    from plait.expressions import ExpressionEngine
    from plait.flows import Flow, PluginDefault
    from plait.plugins import Registry
    from plait.state.model import Execution
    from plait.state.repository import ExecutionRepository
    from plait.storage.internal import InternalStorage


class EngineServices(Protocol):
    settings: Settings
    registry: Registry
    expressions: ExpressionEngine
    repository: ExecutionRepository
    storage: InternalStorage

    @property
    def global_defaults(self) -> tuple[PluginDefault, ...]: ...

    @property
    def worker(self) -> Worker: ...

    @property
    def queue(self) -> WorkQueue: ...

    def load(self, source: str | Path, *, file: str | None = None) -> Flow: ...

    def prepare(
        self,
        flow: Flow,
        inputs: Mapping[str, Any] | None = None,
        *,
        parent: Execution | None = None,
        listener: ExecutionListener | None = None,
    ) -> ExecutionRun: ...

    def execute(self, run: ExecutionRun) -> ExecutionRun: ...

    def track(self, thread: threading.Thread) -> None: ...
