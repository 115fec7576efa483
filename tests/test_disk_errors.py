"""Disk and I/O errors on a real `plait run`: one line naming the file and the cause, exit 1,
no traceback, no partial file in storage, and an execution recorded FAILED.

Every error is the kernel's own: "File too large" (EFBIG) from a file size limit
(``RLIMIT_FSIZE``, with SIGXFSZ ignored so that the write fails instead of killing plait), "No
space left on device" from a tiny tmpfs, "Permission denied" from a folder plait may not write
(as root, with the capabilities that bypass file permissions dropped), "Read-only file system"
from a read-only mount. Mounting needs root: those tests skip elsewhere.
"""

from __future__ import annotations

import ctypes
import os
import re
import resource
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from plait_sdk.testing import files_in, tiny_filesystem
from support.wheels import Completed

if TYPE_CHECKING:
    from conftest import CliRunner

SIZE_LIMIT = 8 * 1024 * 1024
"""The file size limit of the plait process: far above its state database, below the files."""
BIG = 3 * SIZE_LIMIT
PR_CAPBSET_DROP = 24
PERMISSION_BYPASSES = (1, 2)
"""CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH: without them root obeys file permissions."""

Preexec = Callable[[], None]


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Quiet; the assertions say what went wrong."""


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """plait hangs up in mid-body when it cannot write: expected, not worth a traceback."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 serving ``big.bin`` (``BIG`` bytes) and ``small.txt``."""
    root = tmp_path_factory.mktemp("served")
    with (root / "big.bin").open("wb") as out:
        for _ in range(BIG // (1024 * 1024)):
            out.write(os.urandom(1024 * 1024))
    (root / "small.txt").write_text("a small file\n")
    httpd = QuietServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def venv_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One virtual environment cache for the Python tasks of this module."""
    return tmp_path_factory.mktemp("venvs")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """The ``cli`` fixture's PLAIT_HOME, made beforehand so that disks can be mounted in it."""
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def plait(cli: CliRunner, venv_cache: Path) -> Callable[..., Completed]:
    """``plait ARGS...`` on ``home``, started through ``preexec`` if given."""
    env = {
        "PLAIT_PYTHON_VENV_CACHE": str(venv_cache),
        "PLAIT_LOAD_PLUGINS": "plait-http,plait-python,plait-duckdb",
    }

    def run(*args: str, preexec: Preexec | None = None) -> Completed:
        return cli(*args, env=env, preexec=preexec)

    return run


def file_size_limit() -> None:
    """In the child: writes past ``SIZE_LIMIT`` fail with EFBIG. The hard limit stays open, so
    a script (not plait) may lift its own soft limit to write a file plait then cannot store."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (SIZE_LIMIT, resource.RLIM_INFINITY))


def without_permission_bypass() -> None:
    """In the child: drop the capabilities that let root write where file permissions forbid
    it, for the program it executes (a no-op for other users, who never had them)."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in PERMISSION_BYPASSES:
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def flow(tmp_path: Path, tasks: str) -> str:
    path = tmp_path / "flow.yml"
    path.write_text(f"id: disk\nnamespace: company.team\ntasks:\n{tasks}")
    return str(path)


def download(url: str) -> str:
    return f"  - id: get\n    type: io.kestra.plugin.core.http.Download\n    uri: {url}\n"


def script_writing(size: int, lift_limit: bool = False) -> str:
    lift = (
        "      import resource\n"
        "      hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]\n"
        "      resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))\n"
    )
    return (
        "  - id: script\n"
        "    type: io.kestra.plugin.scripts.python.Script\n"
        "    script: |\n"
        f"{lift if lift_limit else ''}"
        '      with open("{{ outputDir }}/big.bin", "wb") as out:\n'
        f"          out.write(b'x' * {size})\n"
    )


def assert_failed_cleanly(
    plait: Callable[..., Completed], done: Completed, task_id: str, message: str, home: Path
) -> None:
    """Exit 1; the task's error is one ERROR line matching ``message`` (a regex); no traceback;
    no file in storage; the state database still shows the execution FAILED, with that error."""
    output = done.stdout + done.stderr
    assert done.code == 1, output
    assert "Traceback" not in output
    assert re.search(rf"^ERROR \[{task_id}\] {message}$", done.stderr, re.MULTILINE), output
    assert files_in(home / "storage") == []
    execution = re.search(r"^execution (\S+) ", done.stdout, re.MULTILINE)
    assert execution, done.stdout
    shown = plait("executions", "show", execution[1])
    assert shown.code == 0, shown.stderr
    assert re.search(rf"^  {task_id}\s+FAILED", shown.stdout, re.MULTILINE), shown.stdout
    document = plait("executions", "show", "--json", execution[1]).json()
    assert document["state"]["current"] == "FAILED"
    [run] = [run for run in document["taskRunList"] if run["taskId"] == task_id]
    assert run["state"]["current"] == "FAILED"
    assert re.fullmatch(message, run["error"]), run["error"]


def stored_file(name: str) -> str:
    """A ``plait://`` URI of a file of the task run, as a regex."""
    return rf"plait:///company/team/disk/executions/\w+/tasks/\w+/\w+/{re.escape(name)}"


def test_download_past_the_file_size_limit(plait, server, home, tmp_path):
    done = plait("run", flow(tmp_path, download(f"{server}/big.bin")), preexec=file_size_limit)

    cause = f"cannot write {stored_file('big.bin')}: File too large"
    assert_failed_cleanly(plait, done, "get", cause, home)
    # The next execution, under the same limit, is not affected.
    again = plait("run", flow(tmp_path, download(f"{server}/small.txt")), preexec=file_size_limit)
    assert again.code == 0, again.stdout + again.stderr
    listed = plait("executions", "list").stdout
    assert "FAILED" in listed
    assert "SUCCESS" in listed


@pytest.mark.slow
def test_script_output_past_the_file_size_limit(plait, home, tmp_path):
    """The script lifts its own limit and writes a file that plait cannot store."""
    tasks = script_writing(SIZE_LIMIT + 1024 * 1024, lift_limit=True)
    done = plait("run", flow(tmp_path, tasks), preexec=file_size_limit)

    cause = f"cannot write {stored_file('big.bin')}: File too large"
    assert_failed_cleanly(plait, done, "script", cause, home)


def test_download_on_a_full_disk(plait, server, home, tmp_path):
    """The whole home (state database included) on a disk of 2 MB: the download fills it."""
    with tiny_filesystem(home, 2 * 1024 * 1024):
        done = plait("run", flow(tmp_path, download(f"{server}/big.bin")))

        cause = f"cannot write {stored_file('big.bin')}: No space left on device"
        assert_failed_cleanly(plait, done, "get", cause, home)
        again = plait("run", flow(tmp_path, download(f"{server}/small.txt")))
        assert again.code == 0, again.stdout + again.stderr


@pytest.mark.slow
def test_script_output_on_a_full_storage(plait, home, tmp_path):
    with tiny_filesystem(home / "storage", 1024 * 1024):
        done = plait("run", flow(tmp_path, script_writing(2 * 1024 * 1024)))

        cause = f"cannot write {stored_file('big.bin')}: No space left on device"
        assert_failed_cleanly(plait, done, "script", cause, home)


def test_input_file_on_a_full_working_directory(plait, server, home, tmp_path):
    """A stored file too big for the task's working directory (`inputFiles`)."""
    query = (
        "  - id: query\n"
        "    type: io.kestra.plugin.jdbc.duckdb.Query\n"
        "    inputFiles:\n"
        '      big.bin: "{{ outputs.get.uri }}"\n'
        "    sql: SELECT 1\n"
    )
    with tiny_filesystem(home / "work", 1024 * 1024):
        done = plait("run", flow(tmp_path, download(f"{server}/big.bin") + query))

    output = done.stdout + done.stderr
    assert done.code == 1, output
    assert "Traceback" not in output
    cause = rf"cannot write {re.escape(str(home))}/work/\w+/\w+/big\.bin: No space left on device"
    assert re.search(rf"^ERROR \[query\] {cause}$", done.stderr, re.MULTILINE), output
    # The download itself succeeded and stays; only the working directory was full.
    assert [name.rsplit("/", 1)[1] for name in files_in(home / "storage")] == ["big.bin"]
    assert list((home / "work").iterdir()) == []


def test_storage_folder_without_write_permission(plait, server, home, tmp_path):
    storage = home / "storage"
    storage.mkdir()
    storage.chmod(0o555)
    try:
        done = plait(
            "run",
            flow(tmp_path, download(f"{server}/small.txt")),
            preexec=without_permission_bypass,
        )
    except subprocess.SubprocessError as exc:  # prctl refused: no CAP_SETPCAP
        pytest.skip(f"cannot drop root's permission bypass here: {exc}")
    finally:
        storage.chmod(0o755)

    folder = re.escape(str(storage / ".plait-staging"))
    cause = f"cannot write {stored_file('small.txt')}: Permission denied \\({folder}\\)"
    assert_failed_cleanly(plait, done, "get", cause, home)


def test_read_only_storage(plait, server, home, tmp_path):
    with tiny_filesystem(home / "storage", 1024 * 1024, read_only=True):
        done = plait("run", flow(tmp_path, download(f"{server}/small.txt")))

        folder = re.escape(str(home / "storage" / ".plait-staging"))
        cause = f"cannot write {stored_file('small.txt')}: Read-only file system \\({folder}\\)"
        assert_failed_cleanly(plait, done, "get", cause, home)
