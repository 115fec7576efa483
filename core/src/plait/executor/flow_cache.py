"""Stored flow revisions, read and validated once: a revision never changes, so a server
answering requests and a worker running task runs keep the ones they loaded."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from plait.flows import Flow
from plait.state.model import StoredFlow

if TYPE_CHECKING:
    from plait.executor.services import EngineServices

FLOW_CACHE_SIZE = 256


class FlowCache:
    """Up to ``size`` revisions, the oldest loaded dropped first."""

    def __init__(self, engine: EngineServices, size: int = FLOW_CACHE_SIZE) -> None:
        self._engine = engine
        self._size = size
        self._flows: dict[tuple[str, str, int], Flow] = {}
        self._lock = threading.Lock()

    def get(self, stored: StoredFlow) -> Flow:
        key = (stored.namespace, stored.flow_id, stored.revision)
        flow = self._flows.get(key)
        if flow is None:
            flow = self._engine.load(stored.source, file=f"{stored.namespace}.{stored.flow_id}")
            with self._lock:
                if len(self._flows) >= self._size:
                    self._flows.pop(next(iter(self._flows)))
                self._flows[key] = flow
        return flow

    def revision(self, namespace: str, flow_id: str, revision: int) -> Flow:
        """A revision, read from the repository unless loaded already."""
        flow = self._flows.get((namespace, flow_id, revision))
        if flow is not None:
            return flow
        return self.get(self._engine.repository.get_flow(namespace, flow_id, revision))
