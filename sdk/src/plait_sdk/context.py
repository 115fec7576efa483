"""The run context protocol: everything a task may use from the engine while it runs.

Tasks see only this protocol, never the engine's classes; the SDK's test harness and the core
executor both provide it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol, runtime_checkable

from plait_sdk.kv import KVStore


@runtime_checkable
class TaskLogger(Protocol):
    """Log lines of the task run; secrets are masked before they are stored or shown."""

    def debug(self, message: str) -> None: ...
    def info(self, message: str) -> None: ...
    def warning(self, message: str) -> None: ...
    def error(self, message: str) -> None: ...


@runtime_checkable
class TaskStorage(Protocol):
    """The internal storage, as seen from one task run.

    New files land under the task run's own folder; reads are limited to URIs of the current
    execution (``plait:///...``). Everything streams: no file is read whole into memory.
    """

    def put_file(self, path: Path, name: str | None = None, *, move: bool = False) -> str:
        """Store a local file under this task run and return its ``plait://`` URI.

        ``move=True`` lets the backend take the file over (a rename on the same filesystem)."""
        ...

    def put_stream(self, name: str, stream: BinaryIO) -> str:
        """Store a byte stream under this task run and return its URI."""
        ...

    def writer(self, name: str) -> AbstractContextManager[tuple[str, BinaryIO]]:
        """Open a new file of this task run for writing; yields ``(uri, file)``.

        The file becomes visible atomically when the block exits without error."""
        ...

    def open(self, uri: str) -> BinaryIO:
        """Open a file of the current execution for reading."""
        ...

    def download(self, uri: str, path: Path) -> Path:
        """Copy a file of the current execution to a local path."""
        ...

    def size(self, uri: str) -> int: ...


@dataclass
class SubflowRun:
    """What a finished (or started, when not waited for) subflow execution reports back."""

    execution_id: str
    state: str
    outputs: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class RunContext(Protocol):
    """The engine, as seen from one task run."""

    execution_id: str
    namespace: str
    flow_id: str
    task_id: str
    taskrun_id: str
    log: TaskLogger
    storage: TaskStorage

    def render(self, value: Any, variables: Mapping[str, Any] | None = None) -> Any:
        """Render expressions in ``value`` (strings, lists and maps, recursively)."""
        ...

    def working_dir(self) -> Path:
        """This task run's private working directory, created on first use and removed after."""
        ...

    def cache_dir(self, name: str) -> Path:
        """A persistent directory ``name`` under the engine's home for caches kept across runs
        (e.g. virtual environments), created on first use."""
        ...

    def flag_warning(self, reason: str) -> None:
        """End this task run in WARNING instead of SUCCESS (e.g. output on stderr)."""
        ...

    def mask(self, text: str) -> str:
        """Replace every known secret value in ``text`` (for messages built outside the logger)."""
        ...

    def run_subflow(
        self,
        namespace: str,
        flow_id: str,
        inputs: Mapping[str, Any],
        *,
        wait: bool,
        labels: Mapping[str, str] | None = None,
        inherit_labels: bool = False,
    ) -> SubflowRun:
        """Run another stored flow as a child execution, with ``labels`` added to its own
        (and all of this execution's with ``inherit_labels``; its system labels always)."""
        ...

    def cancelled(self) -> bool:
        """True once the engine asked the task to stop (timeout, kill); long tasks poll it."""
        ...

    def kv(self, namespace: str | None = None) -> KVStore:
        """The KV store of ``namespace`` (the flow's namespace by default)."""
        ...


def iter_chunks(stream: BinaryIO, size: int = 1024 * 1024) -> Iterator[bytes]:
    """Read a binary stream in bounded chunks (storage code never loads a whole file)."""
    while chunk := stream.read(size):
        yield chunk
