"""jq programs run in bounded worker processes, so a program can neither hang a render nor
exhaust the engine's memory.

jq runs in C, out of reach of the render budget's cooperative checks, and a one-line program
can loop for ever (``def f: f; f``) or build gigabytes (``[range(1e9)]``). Each program runs in
a small worker process (:mod:`plait.builtin.jq_worker`) with capped memory and an empty
environment; the caller waits no longer than its render has left, then kills the worker.
Workers are kept and reused: a call costs a round trip on a pipe, not a process start.
"""

from __future__ import annotations

import json
import os
import queue
import re
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from plait.errors import ExpressionError
from plait.expressions import budget

MEMORY_ENV = "PLAIT_JQ_MAX_MEMORY"
DEFAULT_MEMORY_MB = 384
MAX_WORKERS = 4
"""Workers kept at most; more concurrent callers wait for one to be free."""
_WORKER_SCRIPT = Path(__file__).with_name("jq_worker.py")
_MODULES = re.compile(r"\b(import|include)\b")
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')


class JqWorker:
    """One worker process and its pipes."""

    def __init__(self, memory_bytes: int) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-I", str(_WORKER_SCRIPT), str(os.getpid()), str(memory_bytes)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={},
            cwd="/",
        )

    def run(self, program: bytes, text: bytes, seconds: float) -> tuple[int, bytes]:
        """Send one request and wait at most ``seconds`` for its reply: (status, payload).

        Raises TimeoutError when the time is up, EOFError when the worker died (out of memory),
        and BudgetExceeded when the reply is larger than a render may hold.
        """
        assert self._process.stdin is not None
        self._process.stdin.write(struct.pack("<II", len(program), len(text)) + program + text)
        self._process.stdin.flush()
        deadline = time.monotonic() + seconds
        size, status = struct.unpack("<QB", self._read(9, deadline))
        budget.check_size(size - 1, "a jq result")
        return status, self._read(size - 1, deadline)

    def _read(self, size: int, deadline: float) -> bytes:
        assert self._process.stdout is not None
        fd = self._process.stdout.fileno()
        chunks: list[bytes] = []
        missing = size
        while missing:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise TimeoutError
            chunk = os.read(fd, min(missing, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            missing -= len(chunk)
        return b"".join(chunks)

    def kill(self) -> None:
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
        self._process.wait()
        for pipe in (self._process.stdin, self._process.stdout):
            if pipe is not None:
                pipe.close()


class JqPool:
    """Workers shared by every render of this process, started on first use."""

    def __init__(self, memory_bytes: int, size: int = MAX_WORKERS) -> None:
        self._memory = memory_bytes
        self._idle: queue.LifoQueue[JqWorker] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)
        self._spawner = _Spawner()

    def results(self, program: str, text: str) -> list[Any]:
        """All results of ``program`` on the JSON ``text``, within the render's budget."""
        _refuse_modules(program)
        deadline = time.monotonic() + budget.seconds_left()
        if not self._slots.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise budget.out_of_time()
        try:
            status, payload = self._run(program.encode(), text.encode(), deadline)
        finally:
            self._slots.release()
        if status == 1:
            raise ValueError(payload.decode(errors="replace"))
        if status == 2:
            raise self._out_of_memory()
        results: list[Any] = json.loads(payload)
        return results

    def _run(self, program: bytes, text: bytes, deadline: float) -> tuple[int, bytes]:
        """One request; a worker found dead when written to (killed while idle) is replaced."""
        while True:
            worker = self._take()
            try:
                reply = worker.run(program, text, max(0.0, deadline - time.monotonic()))
            except BrokenPipeError:
                worker.kill()
                continue
            except EOFError:
                worker.kill()
                raise self._out_of_memory() from None
            except TimeoutError:
                worker.kill()
                raise budget.out_of_time() from None
            except BaseException:
                worker.kill()
                raise
            self._idle.put(worker)
            return reply

    def _out_of_memory(self) -> budget.BudgetExceeded:
        return budget.BudgetExceeded(
            f"the jq program needed more than the {self._memory >> 20} MiB of memory allowed "
            f"(setting {MEMORY_ENV})"
        )

    def _take(self) -> JqWorker:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return self._spawner.call(lambda: JqWorker(self._memory))


class _Spawner:
    """Starts workers from one lasting thread: a worker dies with the thread that started it
    (``PR_SET_PDEATHSIG``), and render threads come and go."""

    def __init__(self) -> None:
        self._requests: queue.Queue[tuple[Callable[[], JqWorker], queue.Queue[Any]]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def call(self, make: Callable[[], JqWorker]) -> JqWorker:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, name="plait-jq", daemon=True)
                self._thread.start()
        answer: queue.Queue[Any] = queue.Queue(maxsize=1)
        self._requests.put((make, answer))
        result = answer.get()
        if isinstance(result, BaseException):
            raise result
        worker: JqWorker = result
        return worker

    def _serve(self) -> None:
        while True:
            make, answer = self._requests.get()
            try:
                answer.put(make())
            except Exception as error:
                answer.put(error)


def _refuse_modules(program: str) -> None:
    """jq's ``import`` and ``include`` read files from the host: not from an expression."""
    match = _MODULES.search(_STRINGS.sub('""', program))
    if match:
        raise ExpressionError(f"jq programs may not use `{match.group(1)}`")


_pool: JqPool | None = None
_pool_lock = threading.Lock()


def shared_pool() -> JqPool:
    """The process's pool, sized by ``PLAIT_JQ_MAX_MEMORY`` (MiB per worker)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            megabytes = budget.positive_setting(MEMORY_ENV, DEFAULT_MEMORY_MB)
            _pool = JqPool(int(megabytes) << 20)
        return _pool
