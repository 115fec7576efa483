"""The local storage backend on real files: streaming, atomic writes, and containment."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import tempfile
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from plait.errors import StorageError
from plait.storage.local import LocalStorage
from plait_sdk.storage import StorageBackend
from plait_sdk.testing import files_in, tiny_filesystem

KEY = "dev/flow/executions/E1/tasks/t/R1/data.csv"


class GeneratedStream(io.RawIOBase):
    """``size`` bytes produced on demand, hashed as they go out: never held in memory."""

    def __init__(self, size: int, fail_after: int | None = None) -> None:
        self.remaining = size
        self.sent = 0
        self.fail_after = fail_after
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.fail_after is not None and self.sent >= self.fail_after:
            raise OSError("the source went away")
        count = min(len(buffer), self.remaining)
        chunk = bytes((self.sent + i) % 251 for i in range(min(count, 251))) * (count // 251 + 1)
        buffer[:count] = chunk[:count]
        self.digest.update(buffer[:count])
        self.remaining -= count
        self.sent += count
        return count


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "home" / "storage")


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if not p.is_dir())


def test_is_a_storage_backend(storage: LocalStorage) -> None:
    assert isinstance(storage, StorageBackend)


def test_put_open_size_exists_list_delete(storage: LocalStorage) -> None:
    storage.put_stream(KEY, io.BytesIO(b"a,b\n1,2\n"))
    storage.put_stream("dev/flow/executions/E1/tasks/t/R1/nested/x.txt", io.BytesIO(b"x"))
    storage.put_stream("dev/flow/executions/E2/other.txt", io.BytesIO(b"y"))
    assert (storage.root / KEY).read_bytes() == b"a,b\n1,2\n"
    with storage.open(KEY) as stream:
        assert stream.read() == b"a,b\n1,2\n"
    assert storage.size(KEY) == 8
    assert storage.exists(KEY) and not storage.exists("dev/flow/missing.csv")
    assert not storage.exists("dev/flow"), "a folder is not a file"
    assert list(storage.list("dev/flow/executions/E1")) == [
        KEY,
        "dev/flow/executions/E1/tasks/t/R1/nested/x.txt",
    ]
    assert len(list(storage.list(""))) == 3
    assert list(storage.list("nothing/here")) == []
    storage.delete(KEY)
    storage.delete(KEY)
    assert not storage.exists(KEY)


def test_overwrite_replaces_content(storage: LocalStorage) -> None:
    storage.put_stream(KEY, io.BytesIO(b"old"))
    storage.put_stream(KEY, io.BytesIO(b"new content"))
    with storage.open(KEY) as stream:
        assert stream.read() == b"new content"


def test_missing_files_raise_file_not_found(storage: LocalStorage) -> None:
    with pytest.raises(FileNotFoundError):
        storage.open("dev/missing.txt")
    with pytest.raises(FileNotFoundError):
        storage.size("dev/missing.txt")
    storage.put_stream("dev/folder/x", io.BytesIO(b""))
    with pytest.raises(FileNotFoundError):
        storage.open("dev/folder")
    with pytest.raises(FileNotFoundError):
        storage.size("dev/folder")


def test_failed_write_leaves_nothing_and_keeps_the_old_file(storage: LocalStorage) -> None:
    with pytest.raises(OSError, match="went away"):
        storage.put_stream(KEY, GeneratedStream(10_000_000, fail_after=3_000_000))
    assert files_under(storage.root) == [], "no partial file and no temporary file"

    storage.put_stream(KEY, io.BytesIO(b"committed"))
    with pytest.raises(OSError, match="went away"):
        storage.put_stream(KEY, GeneratedStream(10_000_000, fail_after=2_000_000))
    assert files_under(storage.root) == [KEY]
    assert (storage.root / KEY).read_bytes() == b"committed"


def test_write_on_a_real_full_disk_keeps_the_old_file_and_no_part(tmp_path: Path) -> None:
    """ENOSPC from the kernel (a 256 KiB tmpfs; needs root, skipped elsewhere)."""
    with tiny_filesystem(tmp_path / "storage", 256 * 1024) as root:
        storage = LocalStorage(root)
        storage.put_stream(KEY, io.BytesIO(b"the previous version"))

        with pytest.raises(OSError) as raised:
            storage.put_stream(KEY, GeneratedStream(1024 * 1024))

        assert raised.value.errno == errno.ENOSPC
        assert files_in(root) == [KEY], "no temporary file is left"
        with storage.open(KEY) as stream:
            assert stream.read() == b"the previous version"


def test_large_stream_is_copied_in_bounded_memory(storage: LocalStorage) -> None:
    size = 50 * 1024 * 1024
    source = GeneratedStream(size)
    tracemalloc.start()
    try:
        storage.put_stream(KEY, io.BufferedReader(source, buffer_size=64 * 1024))
        _, peak_write = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        digest = hashlib.sha256()
        with storage.open(KEY) as stream:
            while chunk := stream.read(1024 * 1024):
                digest.update(chunk)
        _, peak_read = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert storage.size(KEY) == size
    assert digest.hexdigest() == source.digest.hexdigest()
    assert peak_write < 8 * 1024 * 1024, f"put_stream peaked at {peak_write} bytes"
    assert peak_read < 8 * 1024 * 1024, f"reading peaked at {peak_read} bytes"


def test_put_path_copies_or_moves(storage: LocalStorage, tmp_path: Path) -> None:
    source = tmp_path / "work" / "out.csv"
    source.parent.mkdir()
    source.write_bytes(b"payload")
    storage.put_path(KEY, source)
    assert source.read_bytes() == b"payload", "a copy keeps the source"
    assert (storage.root / KEY).read_bytes() == b"payload"

    inode = source.stat().st_ino
    storage.put_path("dev/moved.csv", source, move=True)
    assert not source.exists()
    assert (storage.root / "dev/moved.csv").stat().st_ino == inode, "same filesystem: a rename"


@pytest.mark.skipif(
    not Path("/dev/shm").is_dir()
    or os.stat("/dev/shm").st_dev == os.stat(tempfile.gettempdir()).st_dev,
    reason="needs a second filesystem (/dev/shm) to move across",
)
def test_move_across_filesystems_copies_then_removes(storage: LocalStorage) -> None:
    with tempfile.NamedTemporaryFile(dir="/dev/shm", delete=False) as handle:
        handle.write(b"from another filesystem")
    source = Path(handle.name)
    storage.put_path(KEY, source, move=True)
    assert not source.exists()
    assert (storage.root / KEY).read_bytes() == b"from another filesystem"


def test_put_path_refuses_links_and_folders(storage: LocalStorage, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    link = tmp_path / "innocent.csv"
    link.symlink_to(secret)
    for move in (False, True):
        with pytest.raises(StorageError, match="symbolic link"):
            storage.put_path(KEY, link, move=move)
    with pytest.raises(StorageError, match="not a regular file"):
        storage.put_path(KEY, tmp_path)
    assert files_under(storage.root) == []


@pytest.fixture
def outside(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text("top secret")
    yield folder
    assert sorted(p.name for p in folder.iterdir()) == ["secret.txt"], "nothing written outside"


def test_symlinked_folder_inside_root_is_refused(storage: LocalStorage, outside: Path) -> None:
    (storage.root / "dev").mkdir()
    (storage.root / "dev" / "escape").symlink_to(outside, target_is_directory=True)
    with pytest.raises(StorageError, match=r"symbolic link .*dev/escape"):
        storage.open("dev/escape/secret.txt")
    with pytest.raises(StorageError, match="symbolic link"):
        storage.put_stream("dev/escape/planted.txt", io.BytesIO(b"x"))
    with pytest.raises(StorageError, match="symbolic link"):
        storage.exists("dev/escape/secret.txt")
    with pytest.raises(StorageError, match="symbolic link"):
        storage.size("dev/escape/secret.txt")
    with pytest.raises(StorageError, match="symbolic link"):
        list(storage.list("dev/escape"))
    with pytest.raises(StorageError, match="symbolic link"):
        storage.delete("dev/escape/secret.txt")
    assert list(storage.list("")) == [], "listing does not follow the link"


def test_symlinked_file_inside_root_is_refused(storage: LocalStorage, outside: Path) -> None:
    (storage.root / "dev").mkdir()
    (storage.root / "dev" / "data.csv").symlink_to(outside / "secret.txt")
    with pytest.raises(StorageError, match="symbolic link"):
        storage.open("dev/data.csv")
    with pytest.raises(StorageError, match="symbolic link"):
        storage.put_stream("dev/data.csv", io.BytesIO(b"overwrite"))
    assert list(storage.list("dev")) == []


def test_unsafe_keys_are_refused(storage: LocalStorage) -> None:
    for key in ("../outside.txt", "dev/../../x", "/etc/passwd", "dev\\..\\x", "dev//x", ""):
        with pytest.raises(StorageError):
            storage.put_stream(key, io.BytesIO(b"x"))
        with pytest.raises(StorageError):
            storage.open(key)


def test_reserved_names_are_not_keys(storage: LocalStorage) -> None:
    with pytest.raises(StorageError, match="reserved"):
        storage.put_stream("dev/.plait-staging/x", io.BytesIO(b"x"))
    storage.staging_dir()
    (storage.root / "dev").mkdir()
    (storage.root / "dev" / ".plait-abc.part").write_bytes(b"left by a crash")
    assert list(storage.list("")) == []


def test_root_reached_through_a_symlink_works(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "home").symlink_to(real, target_is_directory=True)
    storage = LocalStorage(tmp_path / "home")
    storage.put_stream("dev/x.txt", io.BytesIO(b"ok"))
    assert (real / "dev" / "x.txt").read_bytes() == b"ok"
