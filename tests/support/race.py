"""Run one call on several objects at the same instant, to test what must hold under races."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def race(targets: Sequence[T], call: Callable[[T, int], Any]) -> list[Any]:
    """``call(target, index)`` for every target in its own thread, all released by one barrier;
    the results in the targets' order."""
    barrier = threading.Barrier(len(targets))

    def one(index: int) -> Any:
        barrier.wait(timeout=30)
        return call(targets[index], index)

    with ThreadPoolExecutor(len(targets)) as pool:
        return list(pool.map(one, range(len(targets))))
