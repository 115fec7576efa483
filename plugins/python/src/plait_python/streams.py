"""Following a running process or container: its output, line by line, as it is produced.

Each output stream is read by its own thread and cut into lines; the lines reach the caller's
thread through one queue, so logging happens in one place and in order per stream. The caller's
loop also watches the engine's cancel flag (a ``timeout`` or a kill) and kills the run when it
is set.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

STDOUT = "stdout"
STDERR = "stderr"
MAX_LINE_BYTES = 64 * 1024
"""A longer run of bytes without a newline is cut into several log lines."""
POLL_SECONDS = 0.1
LINGER_SECONDS = 5.0
"""How long output may keep flowing after the main process exited (background children holding
the pipes) before the rest of its process group is killed."""


def split_lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """Complete lines (without their ending) from a stream of arbitrary byte chunks."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for raw in complete:
            yield _decode(raw)
        while len(pending) > MAX_LINE_BYTES:
            yield _decode(pending[:MAX_LINE_BYTES])
            pending = pending[MAX_LINE_BYTES:]
    if pending:
        yield _decode(pending)


def _decode(raw: bytes) -> str:
    return raw.rstrip(b"\r").decode("utf-8", errors="replace")


class LinePump:
    """Reads named byte streams in background threads and queues their lines."""

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[str, str | None]] = queue.Queue()
        self._open = 0

    def add(self, name: str, chunks: Iterable[bytes]) -> None:
        self._open += 1
        threading.Thread(
            target=self._read, args=(name, chunks), name=f"plait-python-{name}", daemon=True
        ).start()

    def _read(self, name: str, chunks: Iterable[bytes]) -> None:
        try:
            for line in split_lines(chunks):
                self._queue.put((name, line))
        except (OSError, ValueError):
            pass  # the stream was closed under us: the run is being torn down
        finally:
            self._queue.put((name, None))

    @property
    def open(self) -> bool:
        return self._open > 0

    def next_line(self, wait: float) -> tuple[str, str] | None:
        """The next line as ``(stream name, text)``, or None if nothing came within ``wait``."""
        try:
            name, line = self._queue.get(timeout=wait)
        except queue.Empty:
            return None
        if line is None:
            self._open -= 1
            return None
        return name, line


@dataclass
class Watch:
    """What may end a run early, and housekeeping to do while it runs."""

    cancelled: Callable[[], bool]
    """The engine's cancel flag (set on the task's ``timeout`` or a kill)."""
    on_tick: Callable[[], None] = lambda: None


def supervise(
    pump: LinePump,
    on_line: Callable[[str, str], None],
    kill: Callable[[], None],
    watch: Watch,
    exited: Callable[[], bool] = lambda: False,
) -> bool:
    """Hand every line to ``on_line`` until all streams close; kill the run when the engine
    cancels it (returning True), or when the output outlives the main process by more than
    ``LINGER_SECONDS``."""
    cancelled = False
    exited_at: float | None = None
    killed = False
    while pump.open:
        item = pump.next_line(POLL_SECONDS)
        if item is not None:
            on_line(*item)
        watch.on_tick()
        if killed:
            continue
        now = time.monotonic()
        cancelled = watch.cancelled()
        if exited_at is None and exited():
            exited_at = now
        if cancelled or (exited_at is not None and now - exited_at > LINGER_SECONDS):
            kill()
            killed = True
    return cancelled
