"""The built-in storage backend: a folder on the local filesystem (``<PLAIT_HOME>/storage``).

Keys reach this backend already validated, but it re-checks them itself: it is the last line
before the filesystem, so no key may walk out of the root, whether by ``..``, by an absolute path
or through a symbolic link planted anywhere below the root. Files are written to a temporary file
in the destination folder, flushed to disk and renamed into place, so a reader (or a crash) never
sees half a file; everything is copied in bounded chunks.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from plait.errors import StorageError
from plait.storage.uris import check_key

CHUNK_SIZE = 1024 * 1024
RESERVED_PREFIX = ".plait-"
"""Names the backend keeps for itself (temporary files, the staging folder); never keys."""
STAGING_DIR = RESERVED_PREFIX + "staging"


class LocalStorage:
    """:class:`plait_sdk.storage.StorageBackend` on a local folder.

    Missing files raise :class:`FileNotFoundError`, as the kernel expects of every backend.
    """

    def __init__(self, root: Path) -> None:
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        self.root = root.resolve()

    def staging_dir(self) -> Path:
        """A folder on the same filesystem as the files, where writers prepare new files so
        that storing them is a rename."""
        staging = self.root / STAGING_DIR
        staging.mkdir(exist_ok=True)
        return staging

    def _path(self, key: str) -> Path:
        """The file for ``key``, refusing reserved names and symbolic links on the way."""
        parts = check_key(key).split("/")
        if any(part.startswith(RESERVED_PREFIX) for part in parts):
            raise StorageError(
                f"invalid storage path {key!r}: names starting with '{RESERVED_PREFIX}' are "
                "reserved for the storage's own temporary files"
            )
        step = self.root
        for part in parts:
            step = step / part
            try:
                mode = os.lstat(step).st_mode
            except (FileNotFoundError, NotADirectoryError):
                break
            if stat.S_ISLNK(mode):
                raise StorageError(
                    f"storage path {key!r} goes through a symbolic link "
                    f"('{step.relative_to(self.root)}'); refused"
                )
        path = self.root.joinpath(*parts)
        if self.root not in path.resolve().parents:
            raise StorageError(f"storage path {key!r} leads outside the storage root")
        return path

    def _parent_ready(self, key: str) -> Path:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def put_stream(self, key: str, stream: BinaryIO) -> None:
        target = self._parent_ready(key)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=RESERVED_PREFIX, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(stream, out, CHUNK_SIZE)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)

    def put_path(self, key: str, path: Path, *, move: bool = False) -> None:
        source = Path(path)
        mode = os.lstat(source).st_mode
        if stat.S_ISLNK(mode):
            raise StorageError(f"refusing to store {source}: it is a symbolic link")
        if not stat.S_ISREG(mode):
            raise StorageError(f"cannot store {source}: it is not a regular file")
        if move:
            target = self._parent_ready(key)
            _fsync_file(source)
            try:
                os.replace(source, target)
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise
            else:
                _fsync_dir(target.parent)
                return
        with _open_no_follow(source) as stream:
            self.put_stream(key, stream)
        if move:
            source.unlink()

    def open(self, key: str) -> BinaryIO:
        return _open_no_follow(self._path(key))

    def exists(self, key: str) -> bool:
        try:
            return stat.S_ISREG(os.lstat(self._path(key)).st_mode)
        except (FileNotFoundError, NotADirectoryError):
            return False

    def size(self, key: str) -> int:
        path = self._path(key)
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode):
            raise FileNotFoundError(errno.ENOENT, "not a file", str(path))
        return info.st_size

    def list(self, prefix: str) -> Iterator[str]:
        """Keys of the files under the folder ``prefix`` ("" for all), in sorted order."""
        base = self._path(prefix) if prefix else self.root
        if not base.is_dir():
            return
        for folder, dirs, files in os.walk(base):
            dirs[:] = sorted(
                d
                for d in dirs
                if not d.startswith(RESERVED_PREFIX) and not os.path.islink(Path(folder, d))
            )
            for name in sorted(files):
                full = Path(folder, name)
                if name.startswith(RESERVED_PREFIX) or not stat.S_ISREG(os.lstat(full).st_mode):
                    continue
                yield full.relative_to(self.root).as_posix()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def _open_no_follow(path: Path) -> BinaryIO:
    """Open a regular file for reading, refusing a symbolic link swapped in at the last moment."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise FileNotFoundError(errno.ENOENT, "not a file", str(path))
    return os.fdopen(fd, "rb")


def _fsync_file(path: Path) -> None:
    with _open_no_follow(path) as stream:
        os.fsync(stream.fileno())


def _fsync_dir(path: Path) -> None:
    """Make a rename durable: the new directory entry is on disk once this returns."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
