"""Which executions this process drives right now: a driver id (``host:pid``) naming this very
process tells nothing by itself (a recycled pid, or a run of this process that has ended or
crashed), so the runner records here the executions its live runs drive."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_driving: set[str] = set()
_lock = threading.Lock()


@contextmanager
def driving(execution_id: str) -> Iterator[None]:
    """While the block runs, this process drives the execution."""
    with _lock:
        _driving.add(execution_id)
    try:
        yield
    finally:
        with _lock:
            _driving.discard(execution_id)


def driven_here(execution_id: str) -> bool:
    with _lock:
        return execution_id in _driving
