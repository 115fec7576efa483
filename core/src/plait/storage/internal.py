"""The internal storage as the kernel uses it: URIs in, URIs out, over any backend.

:class:`InternalStorage` turns ``plait:///`` URIs into validated keys for the configured backend
(the engine and the CLI use it); :class:`TaskRunStorage` is the view one task run gets
(:class:`plait_sdk.context.TaskStorage`): it writes only under its own task run's folder and reads
only files of its own execution, so a flow cannot reach another execution's data through a URI.

Every write reports a disk error (full disk, file size limit, read-only or forbidden folder) as
a :class:`StorageError` naming the file and the cause, whatever the backend, and leaves no part
of the file behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

from plait_sdk.errors import reporting_os_errors
from plait_sdk.storage import StorageBackend

from plait.errors import NotFoundError, StorageError
from plait.storage.local import CHUNK_SIZE, RESERVED_PREFIX
from plait.storage.uris import (
    check_name,
    execution_prefix,
    key_in_execution,
    task_prefix,
    to_key,
    to_uri,
)

DOWNLOAD_MODE = 0o644
"""Downloaded files are ordinary files of the working directory (a temporary file is 0600)."""


class StorageNotFoundError(StorageError, NotFoundError):
    """A well-formed URI that names no file."""


@runtime_checkable
class SupportsStaging(Protocol):
    """Optional backend capability: a local folder from which storing a file is a cheap rename."""

    def staging_dir(self) -> Path: ...


class InternalStorage:
    """The whole storage, for the engine and the CLI; tasks get :meth:`for_task_run` views."""

    def __init__(self, backend: StorageBackend) -> None:
        self.backend = backend

    def _missing(self, uri: str) -> StorageNotFoundError:
        return StorageNotFoundError(f"file {uri} does not exist in the internal storage")

    def open(self, uri: str) -> BinaryIO:
        try:
            return self.backend.open(to_key(uri))
        except FileNotFoundError:
            raise self._missing(uri) from None

    def exists(self, uri: str) -> bool:
        return self.backend.exists(to_key(uri))

    def size(self, uri: str) -> int:
        try:
            return self.backend.size(to_key(uri))
        except FileNotFoundError:
            raise self._missing(uri) from None

    def download(self, uri: str, path: Path) -> Path:
        """Stream a stored file to a local path; the path appears complete or not at all."""
        target = Path(path)
        with self.open(uri) as source, _writing(target):
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(
                dir=target.parent, prefix=f".{target.name}-", suffix=".part"
            )
            try:
                os.fchmod(fd, DOWNLOAD_MODE)
                with os.fdopen(fd, "wb") as out:
                    shutil.copyfileobj(source, out, CHUNK_SIZE)
                os.replace(temp, target)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        return target

    def put_stream(self, key: str, stream: BinaryIO) -> str:
        uri = to_uri(key)
        with _writing(uri):
            self.backend.put_stream(key, stream)
        return uri

    def put_path(self, key: str, path: Path, *, move: bool = False) -> str:
        uri = to_uri(key)
        with _writing(uri):
            self.backend.put_path(key, Path(path), move=move)
        return uri

    def list_execution(self, namespace: str, flow_id: str, execution_id: str) -> list[str]:
        """URIs of every file stored for an execution (inputs and task outputs), sorted."""
        prefix = execution_prefix(namespace, flow_id, execution_id)
        return sorted(to_uri(key) for key in self.backend.list(prefix))

    @contextmanager
    def staged_file(self) -> Iterator[tuple[Path, BinaryIO]]:
        """A new local temporary file, removed on exit unless it was moved away."""
        folder = self.backend.staging_dir() if isinstance(self.backend, SupportsStaging) else None
        fd, name = tempfile.mkstemp(dir=folder, prefix=RESERVED_PREFIX, suffix=".part")
        path = Path(name)
        try:
            with os.fdopen(fd, "w+b") as file:
                yield path, file
        finally:
            path.unlink(missing_ok=True)

    def for_task_run(
        self, *, namespace: str, flow_id: str, execution_id: str, task_id: str, taskrun_id: str
    ) -> TaskRunStorage:
        return TaskRunStorage(
            self,
            namespace=namespace,
            flow_id=flow_id,
            execution_id=execution_id,
            task_id=task_id,
            taskrun_id=taskrun_id,
        )


class TaskRunStorage:
    """:class:`plait_sdk.context.TaskStorage` for one task run."""

    def __init__(
        self,
        storage: InternalStorage,
        *,
        namespace: str,
        flow_id: str,
        execution_id: str,
        task_id: str,
        taskrun_id: str,
    ) -> None:
        self._storage = storage
        self._execution = (namespace, flow_id, execution_id)
        self._task_prefix = task_prefix(namespace, flow_id, execution_id, task_id, taskrun_id)

    def _key(self, name: str) -> str:
        return f"{self._task_prefix}/{check_name(name)}"

    def _readable(self, uri: str) -> str:
        key_in_execution(uri, *self._execution)
        return uri

    def put_file(self, path: Path, name: str | None = None, *, move: bool = False) -> str:
        source = Path(path)
        key = self._key(source.name if name is None else name)
        return self._storage.put_path(key, source, move=move)

    def put_stream(self, name: str, stream: BinaryIO) -> str:
        return self._storage.put_stream(self._key(name), stream)

    @contextmanager
    def writer(self, name: str) -> Iterator[tuple[str, BinaryIO]]:
        """Yield ``(uri, file)``; the file is stored when the block succeeds, dropped otherwise.

        A disk error in the block (writing ``file`` on a full disk) names ``uri``."""
        key = self._key(name)
        uri = to_uri(key)
        with _writing(uri), self._storage.staged_file() as (path, file):
            yield uri, file
            file.close()
            self._storage.put_path(key, path, move=True)

    def open(self, uri: str) -> BinaryIO:
        return self._storage.open(self._readable(uri))

    def download(self, uri: str, path: Path) -> Path:
        return self._storage.download(self._readable(uri), path)

    def size(self, uri: str) -> int:
        return self._storage.size(self._readable(uri))


def _writing(file: str | Path) -> AbstractContextManager[None]:
    """Report a disk error met while writing ``file`` (a URI or a local path) as a
    :class:`StorageError` naming it, e.g. ``cannot write plait:///...: File too large``."""
    return reporting_os_errors(file, error=StorageError)
