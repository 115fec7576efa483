"""The internal storage over the local backend, the task-run view, and the built-in plugin."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pluggy
import pytest
from plait.builtin import storage as builtin_storage
from plait.errors import NotFoundError, StorageError
from plait.state import SqliteRepository
from plait.storage import InternalStorage, LocalStorage, StorageNotFoundError, TaskRunStorage
from plait_sdk import hookspecs
from plait_sdk.context import TaskStorage
from plait_sdk.testing import files_in, tiny_filesystem

RUN = {
    "namespace": "company.team",
    "flow_id": "etl",
    "execution_id": "E1",
    "task_id": "extract",
    "taskrun_id": "R1",
}
PREFIX = "plait:///company/team/etl/executions/E1"


@pytest.fixture
def backend(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "storage")


@pytest.fixture
def internal(backend: LocalStorage) -> InternalStorage:
    return InternalStorage(backend)


@pytest.fixture
def task_storage(internal: InternalStorage) -> TaskRunStorage:
    return internal.for_task_run(**RUN)


def stored_files(backend: LocalStorage) -> list[str]:
    return sorted(
        p.relative_to(backend.root).as_posix() for p in backend.root.rglob("*") if p.is_file()
    )


def test_task_run_storage_is_the_sdk_protocol(task_storage: TaskRunStorage) -> None:
    assert isinstance(task_storage, TaskStorage)


def test_put_stream_and_read_back(task_storage: TaskRunStorage, internal: InternalStorage) -> None:
    uri = task_storage.put_stream("data.csv", io.BytesIO(b"a,b\n"))
    assert uri == f"{PREFIX}/tasks/extract/R1/data.csv"
    with task_storage.open(uri) as stream:
        assert stream.read() == b"a,b\n"
    assert task_storage.size(uri) == 4
    assert internal.exists(uri)


def test_put_file_copy_move_and_nested_names(
    task_storage: TaskRunStorage, tmp_path: Path, backend: LocalStorage
) -> None:
    source = tmp_path / "report.json"
    source.write_text("{}")
    assert task_storage.put_file(source) == f"{PREFIX}/tasks/extract/R1/report.json"
    assert source.exists()
    uri = task_storage.put_file(source, "reports/2024/r.json", move=True)
    assert uri == f"{PREFIX}/tasks/extract/R1/reports/2024/r.json"
    assert not source.exists()
    assert (
        backend.root / "company/team/etl/executions/E1/tasks/extract/R1/reports/2024/r.json"
    ).is_file()


def test_names_with_spaces_become_encoded_uris(task_storage: TaskRunStorage) -> None:
    uri = task_storage.put_stream("my report.csv", io.BytesIO(b"x"))
    assert uri.endswith("/my%20report.csv")
    with task_storage.open(uri) as stream:
        assert stream.read() == b"x"


@pytest.mark.parametrize("name", ["../escape.txt", "a/../../b", "/etc/passwd", "a\\b", ""])
def test_unsafe_names_are_refused(
    task_storage: TaskRunStorage, backend: LocalStorage, tmp_path: Path, name: str
) -> None:
    source = tmp_path / "f.txt"
    source.write_text("x")
    with pytest.raises(StorageError, match="file name"):
        task_storage.put_stream(name, io.BytesIO(b"x"))
    with pytest.raises(StorageError, match="file name"):
        task_storage.put_file(source, name)
    with pytest.raises(StorageError, match="file name"), task_storage.writer(name):
        pass
    assert stored_files(backend) == []


def test_writer_stores_atomically_on_success(
    task_storage: TaskRunStorage, backend: LocalStorage
) -> None:
    with task_storage.writer("out/result.jsonl") as (uri, file):
        file.write(b'{"a": 1}\n')
        assert not backend.exists(uri.removeprefix("plait:///")), "invisible until the block ends"
        file.write(b'{"a": 2}\n')
    assert uri == f"{PREFIX}/tasks/extract/R1/out/result.jsonl"
    with task_storage.open(uri) as stream:
        assert stream.read() == b'{"a": 1}\n{"a": 2}\n'
    assert stored_files(backend) == [uri.removeprefix("plait:///")], "no staging leftovers"


def test_failing_writer_leaves_no_file(task_storage: TaskRunStorage, backend: LocalStorage) -> None:
    with (
        pytest.raises(RuntimeError, match="query failed"),
        task_storage.writer("r.csv") as (uri, f),
    ):
        f.write(b"half a result")
        raise RuntimeError("query failed")
    assert not backend.exists(uri.removeprefix("plait:///"))
    assert stored_files(backend) == []


def test_writer_without_staging_support_uses_a_temporary_file(tmp_path: Path) -> None:
    class PlainBackend:
        """A backend without the optional staging capability (as a plugin's S3 one would be)."""

        def __init__(self) -> None:
            self.local = LocalStorage(tmp_path / "plain")

        def __getattr__(self, name: str) -> object:
            if name == "staging_dir":
                raise AttributeError(name)
            return getattr(self.local, name)

    storage = InternalStorage(PlainBackend()).for_task_run(**RUN)  # type: ignore[arg-type]
    with storage.writer("a.txt") as (uri, file):
        file.write(b"through /tmp")
    with storage.open(uri) as stream:
        assert stream.read() == b"through /tmp"


def test_reads_are_limited_to_the_execution(
    task_storage: TaskRunStorage, internal: InternalStorage, tmp_path: Path
) -> None:
    other = internal.for_task_run(**{**RUN, "execution_id": "E2"})
    foreign = other.put_stream("secret.csv", io.BytesIO(b"other execution"))
    sibling = internal.for_task_run(**{**RUN, "task_id": "load", "taskrun_id": "R2"})
    own = sibling.put_stream("ok.csv", io.BytesIO(b"same execution"))

    with task_storage.open(own) as stream:
        assert stream.read() == b"same execution"
    for call in (
        lambda: task_storage.open(foreign),
        lambda: task_storage.size(foreign),
        lambda: task_storage.download(foreign, tmp_path / "x"),
    ):
        with pytest.raises(StorageError, match=r"URI .*E2.* does not belong to execution E1"):
            call()
    assert not (tmp_path / "x").exists()
    # The execution's prefix is a folder: "E1" must not grant "E10".
    lookalike = internal.for_task_run(**{**RUN, "execution_id": "E10"})
    near = lookalike.put_stream("x.csv", io.BytesIO(b"E10"))
    with pytest.raises(StorageError, match="does not belong"):
        task_storage.open(near)


@pytest.mark.parametrize(
    "uri",
    [
        f"{PREFIX}/../E2/tasks/t/r/secret.csv",
        f"{PREFIX}/%2e%2e/E2/secret.csv",
        f"{PREFIX}%2F..%2FE2/secret.csv",
        "file:///etc/passwd",
        "plait:////etc/passwd",
    ],
)
def test_unsafe_uris_are_refused_before_any_read(task_storage: TaskRunStorage, uri: str) -> None:
    with pytest.raises(StorageError):
        task_storage.open(uri)


def test_download_streams_to_a_local_file(task_storage: TaskRunStorage, tmp_path: Path) -> None:
    uri = task_storage.put_stream("data.csv", io.BytesIO(b"1,2,3\n" * 1000))
    target = task_storage.download(uri, tmp_path / "work" / "in" / "data.csv")
    assert target.read_bytes() == b"1,2,3\n" * 1000
    assert target.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in target.parent.iterdir()) == ["data.csv"]


def test_missing_file_is_a_clear_error(
    task_storage: TaskRunStorage, internal: InternalStorage, tmp_path: Path
) -> None:
    uri = f"{PREFIX}/tasks/extract/R1/nope.csv"
    for call in (
        lambda: task_storage.open(uri),
        lambda: task_storage.size(uri),
        lambda: internal.download(uri, tmp_path / "nope.csv"),
    ):
        with pytest.raises(StorageNotFoundError, match=f"file {uri} does not exist"):
            call()
    assert not (tmp_path / "nope.csv").exists()
    assert issubclass(StorageNotFoundError, NotFoundError)
    assert not internal.exists(uri)


def test_list_execution_covers_inputs_and_task_files(internal: InternalStorage) -> None:
    internal.put_stream("company/team/etl/executions/E1/inputs/file/in.csv", io.BytesIO(b"i"))
    a = internal.for_task_run(**RUN).put_stream("a.csv", io.BytesIO(b"a"))
    internal.for_task_run(**{**RUN, "execution_id": "E2"}).put_stream("b.csv", io.BytesIO(b"b"))
    assert internal.list_execution("company.team", "etl", "E1") == [
        f"{PREFIX}/inputs/file/in.csv",
        a,
    ]
    assert internal.list_execution("company.team", "etl", "nothing") == []


def test_unsafe_task_ids_are_refused_up_front(internal: InternalStorage) -> None:
    with pytest.raises(StorageError, match="invalid task id"):
        internal.for_task_run(**{**RUN, "task_id": ".."})


def test_builtin_plugin_registers_local_storage_and_sqlite(tmp_path: Path) -> None:
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    manager.register(builtin_storage)
    (backends,) = manager.hook.register_storage_backends()
    (repositories,) = manager.hook.register_repositories()

    home = tmp_path / "home"
    backend = backends["local"](home, {})
    assert isinstance(backend, LocalStorage)
    assert backend.root == (home / "storage").resolve()
    repository = repositories["sqlite"](home, {})
    try:
        assert isinstance(repository, SqliteRepository)
        assert repository.path == home / "plait.db"
        assert repository.path.is_file()
    finally:
        repository.close()

    custom = backends["local"](home, {"root": tmp_path / "elsewhere"})
    assert custom.root == (tmp_path / "elsewhere").resolve()
    with repositories["sqlite"](home, {"path": tmp_path / "other.db"}) as other:
        assert other.path == tmp_path / "other.db"


# Disk errors, on a real full or read-only disk: a tiny tmpfs (mounting needs root; these tests
# skip elsewhere). Each is one line naming the file and the cause, and leaves nothing behind.

CAPACITY = 256 * 1024
TOO_BIG = 4 * CAPACITY
DATA_URI = f"{PREFIX}/tasks/extract/R1/data.bin"


@pytest.fixture
def full_root(tmp_path: Path) -> Iterator[Path]:
    """A storage root on a disk of ``CAPACITY`` bytes."""
    with tiny_filesystem(tmp_path / "small-storage", CAPACITY) as root:
        yield root


@pytest.fixture
def full_storage(full_root: Path) -> TaskRunStorage:
    return InternalStorage(LocalStorage(full_root)).for_task_run(**RUN)


def test_put_stream_on_a_full_disk_names_the_uri(full_storage: TaskRunStorage, full_root) -> None:
    with pytest.raises(StorageError) as raised:
        full_storage.put_stream("data.bin", io.BytesIO(b"x" * TOO_BIG))

    assert str(raised.value) == f"cannot write {DATA_URI}: No space left on device"
    assert files_in(full_root) == []


def test_writer_on_a_full_disk_names_the_uri(full_storage: TaskRunStorage, full_root) -> None:
    with pytest.raises(StorageError) as raised, full_storage.writer("data.bin") as (_, file):
        for _ in range(TOO_BIG // 65536):
            file.write(b"x" * 65536)

    assert str(raised.value) == f"cannot write {DATA_URI}: No space left on device"
    assert files_in(full_root) == []


def test_moving_a_file_onto_a_full_disk_fails_whole(
    full_storage: TaskRunStorage, full_root: Path, tmp_path: Path
) -> None:
    """A file of the working directory (another disk) is copied, then removed: not here."""
    source = tmp_path / "out.bin"
    source.write_bytes(b"x" * TOO_BIG)

    with pytest.raises(StorageError, match=r"^cannot write .*: No space left on device$"):
        full_storage.put_file(source, "data.bin", move=True)

    assert files_in(full_root) == []
    assert source.stat().st_size == TOO_BIG, "the source is kept when it could not be stored"


def test_download_to_a_full_disk_names_the_path(
    task_storage: TaskRunStorage, tmp_path: Path
) -> None:
    uri = task_storage.put_stream("data.bin", io.BytesIO(b"x" * TOO_BIG))
    with tiny_filesystem(tmp_path / "work", CAPACITY) as work:
        target = work / "inputs" / "data.bin"

        with pytest.raises(StorageError) as raised:
            task_storage.download(uri, target)

        assert str(raised.value) == f"cannot write {target}: No space left on device"
        assert files_in(work) == []


def test_read_only_storage_names_the_uri_and_the_folder(tmp_path: Path) -> None:
    with tiny_filesystem(tmp_path / "storage", CAPACITY, read_only=True) as root:
        task_storage = InternalStorage(LocalStorage(root)).for_task_run(**RUN)

        with pytest.raises(StorageError) as raised, task_storage.writer("data.bin"):
            pytest.fail("the block never runs: the file cannot even be created")

    staging = root / ".plait-staging"
    assert str(raised.value) == f"cannot write {DATA_URI}: Read-only file system ({staging})"
